"""The generic task: any int8 model, a sketch that reads input vectors over serial."""

from __future__ import annotations

from tinyml.tasks.base import Firmware, Task


class GenericTask(Task):
    name = "generic"
    description = "any full-int8 model; the sketch reads input vectors over serial and prints scores"

    def firmware(self, config, info) -> Firmware:
        return Firmware(sketch_template="generic/sketch.ino.j2")


TASK = GenericTask()
