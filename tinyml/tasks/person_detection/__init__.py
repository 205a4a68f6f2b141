"""The person_detection task: everything it owns lives in this folder (see docs/adding_a_task.md)."""

from tinyml.tasks.person_detection.task import TASK, PersonDetectionConfig, PersonDetectionTask

__all__ = ['TASK', 'PersonDetectionConfig', 'PersonDetectionTask']
