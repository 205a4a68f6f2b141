"""The interface every task implements, and the firmware pieces it hands to export.

The CLI, training, export, capture, emulation and the demo use tasks only through `Task`;
none of them names a task. A task without a trainer (the generic one) keeps the defaults,
which refuse training with a one-line message.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

from tinyml.errors import TinyMLError
from tinyml.names import CText, c_float, c_int, c_value, safe_label


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
    def literal(self) -> CText:
        if self.ctype == "float":
            return c_float(float(self.value))
        if self.ctype == "bool":
            return c_value(bool(self.value))
        return c_int(self.value)


@dataclass(frozen=True, eq=False)
class Firmware:
    """What a task adds to the generic export: its sketch, extra files and shared constants."""

    sketch_template: str
    """Template rendered as <name>/<name>.ino ('<task>/<file>.j2' from the task's templates/ folder)."""
    extra_templates: tuple[tuple[str, str], ...] = ()
    """(output file name, template) pairs, e.g. the task's preprocessing in plain C."""
    sensor_roles: tuple[str, ...] = ()
    """Board sensors the sketch uses ('imu', 'mic', 'camera'); selects libraries and headers."""
    constants: tuple[FeatureConstant, ...] = ()
    """Constants written into model_settings.h."""
    context: dict = field(default_factory=dict)
    """Extra values for the task's templates (e.g. integer scaling derived from the model)."""
    inference_every_ms: float | None = None
    """How often the sketch runs the model on a live stream; an inference slower than this on the
    (emulated) board cannot keep up, and `--emulate` says so. None: no live stream."""


@dataclass(frozen=True)
class TaskCommand:
    """An extra `tinyml` subcommand a task brings (e.g. building a test recording from its data)."""

    name: str
    """Subcommand name, e.g. 'make-stream'."""
    help: str
    """One line for `tinyml --help`."""
    add_arguments: object
    """Callable(argparse parser) adding the command's options."""
    run: object
    """Callable(args) -> exit code; raises TinyMLError for bad input."""


class Task(abc.ABC):
    """Base for tasks. `firmware` is required; a trainable task overrides the training hooks."""

    name: str = ""
    """Registry name (the task's folder under tinyml/tasks/)."""
    description: str = ""
    """One line shown in `tinyml train --help` and `tinyml capture --help`."""
    config_class: type | None = None
    """The task's frozen config dataclass (its defaults are the default config); None without a trainer."""
    capture_kind: str | None = None
    """What `tinyml capture` records for this task: 'motion', 'audio', 'image', or None (no capture)."""
    demo_order: int | None = None
    """Position in `tinyml demo` (None: not in the demo)."""
    accepts_init_from: bool = False
    """Whether `tinyml train --init-from MODEL.tflite` can seed this task's model (config field init_from)."""
    strip_tensor_names: bool = False
    """Whether training writes its .tflite without tensor and signature names, which the board never
    reads (the converter's names are long: about 4.5 KB in a 20 KB keyword spotter)."""

    # ---- configuration ----
    @property
    def trains(self) -> bool:
        return self.config_class is not None

    def default_config(self):
        return self.config_class() if self.config_class is not None else None

    def quick_config(self):
        """A smaller config for `tinyml demo --quick` and the tests."""
        return self.default_config()

    def synthetic_config(self):
        """What `tinyml train` without --data and `tinyml demo` start from: the default, or settings
        measured to carry a model trained on the task's generated data further on real recordings."""
        return self.default_config()

    def check_config(self, cfg) -> None:
        """Refuse a config that cannot train, with a one-line message."""

    def needs_real_data(self, cfg) -> str | None:
        """Why this config cannot train on the embedded synthetic data alone (None: it can)."""
        return None

    def labels(self, cfg) -> tuple[str, ...]:
        return tuple(cfg.labels)

    def demo_examples_per_class(self, quick: bool) -> int:
        return 40 if quick else 100

    # ---- data ----
    def _no_trainer(self):
        return TinyMLError(f"task '{self.name}' has no trainer; choose a task that trains")

    def load(self, data_dir, cfg) -> list:
        """Labelled recordings from a dataset folder in a layout the task reads."""
        raise self._no_trainer()

    def load_many(self, roots, cfg) -> list:
        """Several dataset folders as one (`--data A --data B`); by default each is loaded on its own."""
        return [s for root in roots for s in self.load(root, cfg)]

    def load_for_scoring(self, roots, cfg) -> list:
        """Recordings to evaluate on; a task may accept a subset of its classes here."""
        return self.load_many(roots, cfg)

    def synthetic(self, cfg, n_per_class: int, seed: int) -> list:
        """The embedded default data, generated in code."""
        raise self._no_trainer()

    def split(self, samples, cfg):
        """(train indices, validation indices); by recorder when the data names 3 or more."""
        from tinyml.splits import split_indices

        return split_indices(samples, cfg.val_fraction, cfg.seed)

    def cross_validation_folds(self, samples, cfg) -> int:
        """k > 0: too few recordings for a held-out part, so validate by k-fold cross-validation over all
        of them and train the model on them all; 0 (the default): one held-out part (`split`)."""
        return 0

    def generated_validation(self, cfg) -> list:
        """Generated recordings added to cross-validation's scoring (never trained on): none by default."""
        return []

    def extra_training(self, cfg) -> list:
        """Recordings added to every training split (never to validation); none by default."""
        return []

    def examples(self, samples, cfg, augment_copies: int = 0, seed: int = 0):
        """(features, int labels) for recordings, with augmented copies."""
        raise self._no_trainer()

    # ---- model ----
    def model_inputs(self, x):
        """Float model inputs from features."""
        return x

    def int8_inputs(self, x, info):
        """Exactly the int8 bytes the firmware feeds the model for features x (ModelInfo `info`)."""
        raise self._no_trainer()

    def representative(self, x):
        """Calibration inputs for int8 conversion (a task may add examples that pin the input scale)."""
        return x

    def calibrate(self, cfg, tflite: bytes, val_samples: list, train_samples: list) -> tuple[object, dict]:
        """After training: tune the firmware's post-processing, scored on validation recordings
        (never test data; training recordings may lend context such as background noise); returns
        the config to save and what was measured. Default: nothing to tune."""
        return cfg, {}

    def targets(self, cfg, x, y):
        """Training targets for examples x: int labels, or (N, classes) soft scores (e.g. distillation)."""
        return y

    def mixup(self, cfg) -> float:
        """Mixup's Beta parameter for training batches (`fit.mix_batch`); 0 = off, the default."""
        return 0.0

    def build_model(self, cfg):
        """The Keras model for a config."""
        raise self._no_trainer()

    # ---- firmware and the board ----
    @abc.abstractmethod
    def firmware(self, config, info) -> Firmware:
        """Firmware pieces for a model (ModelInfo `info`) trained with typed `config` (None for a bare .tflite)."""

    def device_case(self, config, model: bytes, recording: str | None, seed: int = 0):
        """Input for the emulated board (`tinyml emulate`) and the lines Python predicts it prints.

        The generic sketch reads one input vector per Serial line: `recording` is a text file of
        such lines; by default 30 seeded vectors spanning the whole int8 range are sent.
        """
        import numpy as np

        from tinyml.device.emulate import DeviceCase, Inputs
        from tinyml.modelinfo import read_model

        if recording is not None:
            from tinyml.files import MB, read_input

            serial = read_input(recording, "a recording of the board's serial input", 64 * MB)
            return DeviceCase(Inputs(serial=serial), None, f"Serial lines from {recording}")
        t = read_model(model).inputs[0]
        q = np.random.default_rng(seed).integers(-128, 128, (30, t.elements))
        real = (q - t.zero_point) * t.scale
        text = "".join(" ".join(f"{v:.9g}" for v in row) + "\n" for row in real)
        return DeviceCase(Inputs(serial=text.encode()), None, "30 seeded random input vectors over Serial")

    # ---- optional capabilities ----
    def evaluate_stream(self, model: bytes, cfg, recording: Path, truth: Path | None) -> dict:
        """Score a long recording as the sketch runs it (hits, misses, false accepts)."""
        raise TinyMLError(f"task '{self.name}' has no streaming evaluation; use --data")

    def commands(self) -> tuple[TaskCommand, ...]:
        """Extra subcommands this task adds to `tinyml`."""
        return ()
