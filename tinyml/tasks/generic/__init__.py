"""The generic task: everything it owns lives in this folder (see docs/adding_a_task.md)."""

from tinyml.tasks.generic.task import TASK, GenericTask

__all__ = ['TASK', 'GenericTask']
