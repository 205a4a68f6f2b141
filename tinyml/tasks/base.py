"""The interface every task implements, and the firmware pieces it hands to export."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinyml.errors import TinyMLError
from tinyml.export.render import c_float
from tinyml.names import safe_label


def check_class_labels(labels) -> None:
    """Class labels become folder names and C strings: each must be safe, and there must be 2+ distinct."""
    for label in labels:
        safe_label(label)
    if len(set(labels)) != len(labels) or len(labels) < 2:
        raise TinyMLError(f"labels {list(labels)} must be at least two distinct names")


@dataclass(frozen=True)
class FeatureConstant:
    """A constant the firmware must share with training (window length, scale, threshold...)."""

    name: str
    """C identifier, e.g. 'kFeatureSliceCount' (written by task code, never by users)."""
    ctype: str
    """C type: 'int', 'float' or 'bool'."""
    value: float | int | bool
    """Value used in training."""

    @property
    def literal(self) -> str:
        if self.ctype == "float":
            return c_float(float(self.value))
        if self.ctype == "bool":
            return "true" if self.value else "false"
        return str(int(self.value))


@dataclass(frozen=True, eq=False)
class Firmware:
    """What a task adds to the generic export: its sketch, extra files and shared constants."""

    sketch_template: str
    """Template rendered as <name>/<name>.ino."""
    extra_templates: tuple[tuple[str, str], ...] = ()
    """(output file name, template) pairs, e.g. the task's preprocessing in plain C."""
    sensor_roles: tuple[str, ...] = ()
    """Board sensors the sketch uses ('imu', 'mic', 'camera'); selects libraries and headers."""
    constants: tuple[FeatureConstant, ...] = ()
    """Constants written into model_settings.h."""
    context: dict = field(default_factory=dict)
    """Extra values for the task's templates (e.g. integer scaling derived from the model)."""


class Task:
    """Base for tasks. Subclasses override what they provide."""

    name: str = ""
    """Registry name."""
    description: str = ""
    """One line for `--help`."""
    config_class: type | None = None
    """The task's frozen config dataclass (its defaults are the default config); None without a trainer."""

    def default_config(self):
        return self.config_class() if self.config_class is not None else None

    def split(self, samples, cfg):
        """(train indices, validation indices); by recorder when the data names 3 or more."""
        from tinyml.train import split_indices

        return split_indices(samples, cfg.val_fraction, cfg.seed)

    def representative(self, x):
        """Calibration inputs for int8 conversion (a task may add examples that pin the input scale)."""
        return x

    def extra_training(self, cfg) -> list:
        """Recordings added to every training split (never to validation); none by default."""
        return []

    def targets(self, cfg, x, y):
        """Training targets for examples x: int labels, or (N, classes) soft scores (e.g. distillation)."""
        return y

    def firmware(self, config: dict | None, info) -> Firmware:
        """Firmware pieces for a model (ModelInfo `info`) trained with `config` (None for a bare .tflite)."""
        raise NotImplementedError

    def device_case(self, config: dict | None, model: bytes, recording: str | None, seed: int = 0):
        """Input for the emulated board (`tinyml emulate`) and the lines Python predicts it prints.

        The generic sketch reads one input vector per Serial line: `recording` is a text file of
        such lines; by default 30 seeded vectors spanning the whole int8 range are sent.
        """
        from pathlib import Path

        import numpy as np

        from tinyml.device.emulate import DeviceCase, Inputs
        from tinyml.modelinfo import read_model

        if recording is not None:
            try:
                serial = Path(recording).read_bytes()
            except OSError as exc:
                raise TinyMLError(f"{recording}: cannot read ({exc.strerror or exc})") from None
            return DeviceCase(Inputs(serial=serial), None, f"Serial lines from {recording}")
        t = read_model(model).inputs[0]
        q = np.random.default_rng(seed).integers(-128, 128, (30, t.elements))
        real = (q - t.zero_point) * t.scale
        text = "".join(" ".join(f"{v:.9g}" for v in row) + "\n" for row in real)
        return DeviceCase(Inputs(serial=text.encode()), None, "30 seeded random input vectors over Serial")
