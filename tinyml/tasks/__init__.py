"""One registry of tasks. The CLI, export, capture and the demo look tasks up here and never
special-case one.

A task is a folder `tinyml/tasks/<name>/` holding everything it owns (task class, data
loaders, synthetic generator, features, post-processing, firmware templates) behind the
interface in `tinyml.tasks.base`. Task modules import TensorFlow lazily.
"""

from __future__ import annotations

import importlib

from tinyml.errors import TinyMLError
from tinyml.tasks.base import Task

# name -> package that defines TASK; packages load on first use.
_PACKAGES = {
    "generic": "tinyml.tasks.generic",
    "magic_wand": "tinyml.tasks.magic_wand",
    "micro_speech": "tinyml.tasks.micro_speech",
    "person_detection": "tinyml.tasks.person_detection",
}
NAMES = tuple(_PACKAGES)


def get_task(name: str) -> Task:
    try:
        package = _PACKAGES[name]
    except (KeyError, TypeError):
        raise TinyMLError(f"unknown task '{name}'; choose one of: {', '.join(_PACKAGES)}") from None
    return importlib.import_module(package).TASK


def all_tasks() -> list[Task]:
    return [get_task(name) for name in _PACKAGES]


def demo_tasks() -> list[Task]:
    """The tasks `tinyml demo` builds, in its order."""
    return sorted((t for t in all_tasks() if t.demo_order is not None), key=lambda t: t.demo_order)
