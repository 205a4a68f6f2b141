"""The micro_speech task: everything it owns lives in this folder (see docs/adding_a_task.md)."""

from tinyml.tasks.micro_speech.task import TASK, MicroSpeechConfig, MicroSpeechTask

__all__ = ['TASK', 'MicroSpeechConfig', 'MicroSpeechTask']
