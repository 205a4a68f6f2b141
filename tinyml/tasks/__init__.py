"""One registry of tasks. The CLI and export look tasks up by name and never special-case one.

A task plugs in its data, features, model builder and firmware pieces through the small
interface in `tinyml.tasks.base`. Task modules import TensorFlow lazily.
"""

from __future__ import annotations

import importlib

from tinyml.errors import TinyMLError
from tinyml.tasks.base import Task

# name -> module that defines TASK; modules load on first use so `--help` stays light.
_MODULES = {
    "generic": "tinyml.tasks.generic",
    "magic_wand": "tinyml.tasks.magic_wand",
    "micro_speech": "tinyml.tasks.micro_speech",
    "person_detection": "tinyml.tasks.person_detection",
}


def task_names() -> list[str]:
    return list(_MODULES)


def get_task(name: str) -> Task:
    try:
        module = _MODULES[name]
    except KeyError:
        raise TinyMLError(f"unknown task '{name}'; choose one of: {', '.join(_MODULES)}") from None
    return importlib.import_module(module).TASK
