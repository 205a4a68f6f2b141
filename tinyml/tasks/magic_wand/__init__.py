"""The magic_wand task: everything it owns lives in this folder (see docs/adding_a_task.md)."""

from tinyml.tasks.magic_wand.task import TASK, MagicWandConfig, MagicWandTask

__all__ = ['TASK', 'MagicWandConfig', 'MagicWandTask']
