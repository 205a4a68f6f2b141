"""magic_wand: accelerometer gestures (wing, ring, slope, negative) on a Nano 33 BLE Sense."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tinyml.tasks.magic_wand.data import MotionFormat, MotionSample, load_motion_dir
from tinyml.quantize import threshold_q
from tinyml.tasks.magic_wand.detect import GestureDetector, GestureRule
from tinyml.errors import TinyMLError
from tinyml.tasks.magic_wand import features as mf
from tinyml.tasks.base import FeatureConstant, Firmware, Task, check_class_labels


@dataclass(frozen=True, kw_only=True)
class MagicWandConfig:
    """Everything that defines a magic_wand run; saved as RUN/config.json."""

    labels: tuple[str, ...] = ("wing", "ring", "slope", "negative")
    """Classes in model output order."""
    negative_label: str = "negative"
    """The 'anything else' class, never reported as a detection ('' when there is none)."""
    features: mf.MotionFeatures = field(default_factory=mf.MotionFeatures)
    """Integer feature pipeline shared with the generated C."""
    rule: GestureRule = field(default_factory=GestureRule)
    """Post-processing: threshold, consecutive detections, suppression."""
    data_format: MotionFormat = field(default_factory=MotionFormat)
    """How to read the training recordings (units, rate, axis map)."""
    init_from: str = "base"
    """Weights training starts from: 'base' (the wand model shipped with tinyml, trained on 8 people's
    gestures; benchmarks/build_wand_base.py rebuilds it), a .tflite this task trained, or '' (random
    weights). Your recordings' labels win: classes the base knows keep its weights as a start, new
    ones get a fresh output; the gyroscope axes of a 6-axis model start at zero."""
    min_examples_per_class: int = 400
    """More augmented copies of a class with few recordings, until it has at least this many training
    examples (a user's 5 recordings per gesture); 0 keeps augment_copies for every class."""
    filters: tuple[int, ...] = (16, 16, 16)
    """Conv2D filters per block; each block halves the time axis."""
    dense_units: int = 16
    """Hidden units before the classifier."""
    epochs: int = 20
    """Training epochs."""
    batch_size: int = 32
    """Mini-batch size."""
    learning_rate: float = 0.001
    """Adam learning rate (fine-tuning the base; about 0.003 for 30-40 epochs from random weights)."""
    augment_copies: int = 4
    """Augmented copies of each training gesture (time warp, scale, rotation, noise, shift)."""
    augment_rotation: float = 0.25
    """Largest random rotation of the whole recording per axis in radians (how the board is mounted).
    It matters only with features.align_gravity=false: the gravity frame turns any such rotation
    back, up to a heading about gravity, which augment_yaw draws anyway."""
    augment_yaw: float = 0.0
    """Largest random turn about the recording's gravity axis in radians (π: any heading), so a gesture
    drawn with the board held another way round still looks the same. The shipped base, trained on 8
    people, uses π; personalizing to one user's board, which keeps its heading, does better without
    (Nuvoton 5 per class: 0.949 with π, 0.966 without; an IMU-capture person: 0.938 and 0.994)."""
    augment_warp: tuple[float, float] = (0.8, 1.25)
    """Range of the random time stretch of each augmented copy (0.5 draws a gesture twice as fast)."""
    augment_tilt: float = 0.0
    """Largest random tilt of the motion against gravity in radians (a letter drawn on a plane that
    leans); the gravity frame does not undo it, unlike augment_rotation."""
    augment_carry: float = 0.0
    """Share of augmented copies whose level motion along its main direction is mostly removed: a
    gesture swung from the wrist shows the wand's tilt there, a board carried through the same letter
    without turning does not. For recordings all drawn in one of the two styles."""
    augment_mirror: float = 0.0
    """Share of augmented copies whose motion is mirrored in an upright plane, so a ring drawn the
    other way round, a mirrored stroke or a board with mirrored axes looks like the original. Costs
    the model the drawing direction as a cue against circling motion (see README)."""
    synthetic_negatives: int = 300
    """Generated negative recordings (idle, random motion, shaking, other strokes) added to the training
    split only, so the model learns what is not a gesture from few recorded negatives; 3-axis models
    with a negative label; 0 turns this off."""
    synthetic_gestures: int = 0
    """Generated gestures per class (wing, ring, slope) added to the training split only, drawn both
    ways people draw them: swung from the wrist (the board turns) and carried (it does not). For
    recordings made in one style; 3-axis models whose gestures the generator knows; 0 turns it off."""
    val_fraction: float = 0.2
    """Held-out fraction: whole recorders when there are 3 or more, else a stratified sample."""
    cross_validate_below: int = 20
    """When a class has fewer recordings than this, validation is 5-fold cross-validation over all the
    recordings (each scored by a model trained without it, plus generated negatives) and the model
    trains on them all, rather than holding out one or two recordings; 0 always holds out a part."""
    seed: int = 0
    """Seed for splits, augmentation and weights."""


BASE_FILE = "base/wand_base.tflite"
BASE_SETTINGS_FILE = "base/wand_base.json"
"""The shipped base's labels and features, written beside it by benchmarks/build_wand_base.py."""
REBUILD = "python benchmarks/build_wand_base.py"


@dataclass(frozen=True)
class InitModel:
    """The model a run starts from, with what it was trained on."""

    model: bytes
    """Its int8 .tflite."""
    labels: tuple[str, ...]
    """Its classes in output order."""
    features: dict
    """Its feature settings (MotionFeatures fields)."""


def init_model(init_from: str) -> InitModel:
    """'base' (shipped with tinyml), or a .tflite this task trained, with the run's config.json beside it."""
    from tinyml.modelimport import init_model_bytes, start_settings

    model = init_model_bytes(init_from, "tinyml.tasks.magic_wand", BASE_FILE, REBUILD)
    settings = start_settings(init_from, "tinyml.tasks.magic_wand", BASE_SETTINGS_FILE, "magic_wand")
    try:
        return InitModel(model, tuple(settings["labels"]), dict(settings["features"]))
    except (KeyError, TypeError):
        raise TinyMLError(f"--init-from {init_from}: its settings name no labels and features; pass the model.tflite "
                          "of a magic_wand training run folder") from None


def seed_weights(cfg, keras_weights: list[list[np.ndarray]], start: InitModel) -> list[list[np.ndarray]]:
    """The new model's [kernel, bias] per weighted layer, taken from the model it starts from.

    The output layer is matched by label: a class the start knows keeps its row, a new class keeps
    its fresh initial weights. A 6-axis model takes the accelerometer weights of a 3-axis start and
    starts its gyroscope weights at zero, so it begins as the start and learns the gyroscope from
    the recordings."""
    from tinyml.modelimport import import_layers, output_by_label

    _, layers = import_layers(start.model, cfg.init_from)
    f = cfg.features
    same = {k: getattr(f, k) for k in ("rate_hz", "window", "align_gravity", "motion_rms", "accel_scale")}
    theirs = {k: start.features.get(k) for k in same}
    def same_shape(i, theirs, ours):  # the first layer may take more input axes; the output is matched by label
        return (theirs[:2] + theirs[3:] == ours[:2] + ours[3:]) if i == 0 else theirs == ours

    shapes_ok = len(layers) == len(keras_weights) and all(
        same_shape(i, layer.kernel.shape, np.shape(w[0]))
        for i, (layer, w) in enumerate(zip(layers[:-1], keras_weights[:-1])))
    if same != theirs or not shapes_ok or start.features.get("axes", 3) > f.axes:
        raise TinyMLError(f"--set init_from={cfg.init_from}: that model has other layers or features "
                          f"({', '.join(f'{k}={v}' for k, v in theirs.items())}) than this config; keep them, or "
                          "train from random weights with --set init_from=")
    out = []
    for i, (layer, (kernel, bias)) in enumerate(zip(layers, keras_weights)):
        if i == 0:
            seeded = np.zeros_like(kernel)
            seeded[:, :, : layer.kernel.shape[2], :] = layer.kernel
            out.append([seeded, layer.bias])
        elif i == len(layers) - 1:
            out.append(output_by_label(kernel, bias, layer, cfg.labels, start.labels))
        else:
            out.append([layer.kernel, layer.bias])
    return out


def _rotation(angles: np.ndarray) -> np.ndarray:
    from tinyml.tasks.magic_wand.synthetic import _rotation as rot

    return rot(*angles)


def _gravity(data: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean acceleration, its unit vector), or None when it is too small to give a direction."""
    g = data[:, :3].astype(np.float64).mean(axis=0)
    norm = np.linalg.norm(g)
    return None if norm < 1e-6 else (g, g / norm)


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by `angle` about the unit vector `axis` (Rodrigues)."""
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def turn_about_gravity(data: np.ndarray, angle: float) -> np.ndarray:
    """Readings turned by `angle` about their mean acceleration (gravity), each 3-axis group alike."""
    gravity = _gravity(data)
    if gravity is None:
        return data
    r = _axis_rotation(gravity[1], angle)
    out = data.astype(np.float64).copy()
    for start in range(0, out.shape[1], 3):
        out[:, start:start + 3] = out[:, start:start + 3] @ r.T
    return out


def _tilt_and_mirror(k: np.ndarray, h: np.ndarray, angle: float, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """(acceleration map, rotation-rate map): a tilt by `angle` about the axis h, then, if `mirror`, a
    reflection in the plane that holds k and h. A rotation rate is a pseudovector, so a mirror also
    flips its sign."""
    acc = _axis_rotation(h, angle)
    gyro = acc.copy()
    if mirror:
        n = np.cross(k, h)
        flip = np.eye(3) - 2 * np.outer(n, n)
        acc, gyro = flip @ acc, -flip @ gyro
    return acc, gyro


def augment(sample: MotionSample, rng: np.random.Generator, cfg: MagicWandConfig) -> np.ndarray:
    """One augmented copy (float readings at the sample's rate): time warp, turn about gravity, tilt,
    carry, mirror, scale, rotation, noise.

    Tilt, carry and mirror change the motion and leave gravity (the recording's mean acceleration)
    where it is, because the gravity frame would turn a change of both back (cfg.augment_* say how
    much of each).
    """
    data = sample.data
    n = len(data)
    m = max(4, int(round(n * rng.uniform(*cfg.augment_warp))))
    src = np.linspace(0, n - 1, m)
    out = np.stack([np.interp(src, np.arange(n), data[:, a]) for a in range(data.shape[1])], axis=1)
    if cfg.augment_yaw:
        out = turn_about_gravity(out, rng.uniform(-cfg.augment_yaw, cfg.augment_yaw))
    if cfg.augment_tilt or cfg.augment_carry or cfg.augment_mirror:
        out = _restyle(out, rng, cfg.augment_tilt, cfg.augment_carry, cfg.augment_mirror)
    r = _rotation(rng.uniform(-cfg.augment_rotation, cfg.augment_rotation, 3))
    for start in range(0, out.shape[1], 3):
        out[:, start:start + 3] = out[:, start:start + 3] @ r.T
    out *= rng.uniform(0.85, 1.15)
    out += rng.normal(0, rng.uniform(0.0, 0.03), out.shape)
    return out.astype(np.float32)


def _restyle(data: np.ndarray, rng: np.random.Generator, max_tilt: float, carry: float,
             mirror: float) -> np.ndarray:
    """The tilt, carry and mirror steps of augment() on float64 readings."""
    gravity = _gravity(data)
    if gravity is None:
        return data
    g, k = gravity
    level = np.cross(k, [1.0, 0.0, 0.0] if abs(k[0]) < 0.9 else [0.0, 1.0, 0.0])
    level /= np.linalg.norm(level)
    turn = rng.uniform(0, 2 * np.pi)
    h = np.cos(turn) * level + np.sin(turn) * np.cross(k, level)  # a random level axis
    acc, gyro = _tilt_and_mirror(k, h, rng.uniform(-max_tilt, max_tilt), rng.random() < mirror)
    motion = (data[:, :3] - g) @ acc.T
    if rng.random() < carry:
        flat = motion - np.outer(motion @ k, k)
        main = np.linalg.eigh(flat.T @ flat)[1][:, -1]
        motion -= rng.uniform(0.7, 1.0) * np.outer(motion @ main, main)
    out = data.copy()
    out[:, :3] = g + motion
    for start in range(3, out.shape[1], 3):
        out[:, start:start + 3] = out[:, start:start + 3] @ gyro.T
    return out


def sample_fixed(data: np.ndarray, rate_hz: float, cfg: mf.MotionFeatures, offset: int | None = None) -> np.ndarray:
    """A recording → (window, axes) int32 fixed-point window, as the device would see it."""
    if data.shape[1] < cfg.axes:
        raise TinyMLError(f"recording has {data.shape[1]} axes but the model needs {cfg.axes}")
    dec = mf.decimate(mf.to_fixed(data, cfg), mf.timestamps_us(len(data), rate_hz), cfg, flush=True)
    return mf.fit_window(dec, cfg.window, offset)


class MagicWandTask(Task):
    name = "magic_wand"
    description = "accelerometer gestures (wing, ring, slope, negative) from an IMU"
    config_class = MagicWandConfig
    capture_kind = "motion"
    demo_order = 2
    accepts_init_from = True

    def quick_config(self) -> MagicWandConfig:
        """Smoke-test size for `tinyml demo --quick`: a few gentle epochs from the base already are."""
        return self.synthetic_config()

    def synthetic_config(self) -> MagicWandConfig:
        # The generated gestures are a smoke test, not people: the demo starts from the shipped base (8 real
        # people) and takes 3 gentle epochs on them. Measured on the Nuvoton board's recordings, which neither
        # saw: the base 0.594, after this 0.714, after the default 20 epochs at 0.001 0.665.
        return MagicWandConfig(epochs=3, learning_rate=0.0003, augment_yaw=3.1416)

    def demo_examples_per_class(self, quick: bool) -> int:
        return 40 if quick else 100

    def check_config(self, cfg: MagicWandConfig) -> None:
        check_class_labels(cfg.labels)
        f = cfg.features
        if f.align_gravity and f.motion_rms and f.motion_rms_floor < 1:
            raise TinyMLError("features.motion_rms_floor must be at least 1 when features.motion_rms is on")
        low, high = cfg.augment_warp
        if not 0 < low <= high:
            raise TinyMLError(f"--set augment_warp={low},{high}: must be two numbers with 0 < low <= high")
        if cfg.negative_label and cfg.negative_label not in cfg.labels:
            raise TinyMLError(f"negative label '{cfg.negative_label}' is not among the labels {list(cfg.labels)}")

    def load(self, data_dir: str | Path, cfg: MagicWandConfig, require_all: bool = True) -> list[MotionSample]:
        """Recordings of the config's classes; training needs every class, except negative motion when
        generated negatives stand in for it."""
        fmt = cfg.data_format
        if fmt.axes != cfg.features.axes:
            fmt = replace(fmt, axes=cfg.features.axes)
        samples = load_motion_dir(data_dir, fmt, cfg.labels, require_all=False)
        found = {s.label for s in samples}
        for label in cfg.labels if require_all else ():
            if label not in found and not (label == cfg.negative_label and self._generates_negatives(cfg)):
                raise TinyMLError(f"class '{label}' has no samples under {data_dir}; record some or remove it "
                                  "from the labels")
        return samples

    @staticmethod
    def _generates_negatives(cfg: MagicWandConfig) -> bool:
        return bool(cfg.synthetic_negatives and cfg.negative_label and cfg.features.axes == 3)

    def cross_validation_folds(self, samples: list[MotionSample], cfg: MagicWandConfig) -> int:
        from collections import Counter

        fewest = min(Counter(s.label for s in samples).values(), default=0)
        return min(5, len(samples)) if fewest < cfg.cross_validate_below and len(samples) >= 2 else 0

    def generated_validation(self, cfg: MagicWandConfig) -> list[MotionSample]:
        """Generated negatives with a seed of their own (never the training ones): whether the model
        stays quiet on motion that is not a gesture, even when the user recorded no negatives."""
        from tinyml.tasks.magic_wand.synthetic import synthetic_negatives

        if not self._generates_negatives(cfg):
            return []
        return synthetic_negatives(100, cfg.seed + 7919, label=cfg.negative_label)

    def load_for_scoring(self, roots, cfg: MagicWandConfig) -> list[MotionSample]:
        """Any subset of the classes: a folder of negatives alone scores its false-positive rate."""
        samples = [s for root in roots for s in self.load(root, cfg, require_all=False)]
        if not samples:
            raise TinyMLError(f"no recordings of {', '.join(cfg.labels)} under {', '.join(map(str, roots))}")
        return samples

    def extra_training(self, cfg: MagicWandConfig) -> list[MotionSample]:
        from tinyml.tasks.magic_wand.synthetic import GESTURES, synthetic_negatives, synthetic_wand

        if cfg.features.axes != 3:
            return []
        extra = []
        if self._generates_negatives(cfg):
            extra += synthetic_negatives(cfg.synthetic_negatives, cfg.seed, label=cfg.negative_label)
        gestures = tuple(label for label in cfg.labels if label != cfg.negative_label)
        if cfg.synthetic_gestures and set(gestures) <= set(GESTURES):
            extra += synthetic_wand(cfg.synthetic_gestures, cfg.seed + 1, labels=gestures, negative_label="",
                                    swing_share=0.5)
        return extra

    def synthetic(self, cfg: MagicWandConfig, n_per_class: int, seed: int) -> list[MotionSample]:
        from tinyml.tasks.magic_wand.synthetic import synthetic_wand

        if cfg.features.axes != 3:
            raise TinyMLError("the synthetic wand data has 3 accelerometer axes; set features.axes = 3")
        return synthetic_wand(n_per_class, seed, labels=cfg.labels, negative_label=cfg.negative_label)

    def examples(self, samples: list[MotionSample], cfg: MagicWandConfig, augment_copies: int = 0,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(N, window, axes) int32 model windows (in the gravity frame unless turned off) and int labels;
        with augment_copies, random copies per sample (more for a class with few recordings, up to
        cfg.min_examples_per_class)."""
        from collections import Counter

        rng = np.random.default_rng(seed)
        index = {label: i for i, label in enumerate(cfg.labels)}
        counts = Counter(s.label for s in samples)
        xs, ys = [], []
        for s in samples:
            xs.append(sample_fixed(s.data, s.rate_hz, cfg.features))
            ys.append(index[s.label])
            copies = augment_copies
            if augment_copies and cfg.min_examples_per_class:
                copies = max(copies, -(-cfg.min_examples_per_class // counts[s.label]) - 1)
            for _ in range(copies):
                data = augment(s, rng, cfg)
                length = int(np.ceil(len(data) * cfg.features.rate_hz / s.rate_hz))
                lo, hi = sorted((0, cfg.features.window - length))
                offset = int(rng.integers(lo - 2, hi + 3))
                xs.append(sample_fixed(data, s.rate_hz, cfg.features, offset))
                ys.append(index[s.label])
        return mf.gravity_frame(np.stack(xs), cfg.features), np.asarray(ys, dtype=np.int64)

    def model_inputs(self, fixed: np.ndarray) -> np.ndarray:
        """Float model input (N, window, 1, axes) from fixed-point windows."""
        return mf.float_input(fixed)[:, :, None, :]

    def int8_inputs(self, fixed: np.ndarray, info) -> np.ndarray:
        """Exactly the bytes the generated C feeds the model."""
        tin = info.inputs[0]
        q = mf.quantize_fixed(fixed, mf.input_multiplier(tin.scale), tin.zero_point)
        return q.reshape((len(fixed), *tin.shape[1:]))

    def build_model(self, cfg: MagicWandConfig):
        import keras

        keras.utils.set_random_seed(cfg.seed)
        f = cfg.features
        x = inp = keras.Input((f.window, 1, f.axes), name="motion")
        kernels = (5, 5, 3, 3)
        for i, filters in enumerate(cfg.filters):
            x = keras.layers.Conv2D(filters, (kernels[min(i, 3)], 1), padding="same", activation="relu")(x)
            x = keras.layers.MaxPooling2D((2, 1))(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dropout(0.3, seed=cfg.seed)(x)
        x = keras.layers.Dense(cfg.dense_units, activation="relu")(x)
        out = keras.layers.Dense(len(cfg.labels), activation="softmax")(x)
        model = keras.Model(inp, out, name="magic_wand")
        if cfg.init_from:
            weighted = [layer for layer in model.layers if layer.weights]
            seeded = seed_weights(cfg, [layer.get_weights() for layer in weighted], init_model(cfg.init_from))
            for layer, weights in zip(weighted, seeded):
                layer.set_weights(weights)
        return model

    def detector(self, cfg: MagicWandConfig, info) -> GestureDetector:
        tout = info.outputs[0]
        negative = cfg.labels.index(cfg.negative_label) if cfg.negative_label else -1
        return GestureDetector(cfg.rule, negative,
                               threshold_q(cfg.rule.threshold, tout.scale, tout.zero_point))

    def firmware(self, config: MagicWandConfig | None, info) -> Firmware:
        if config is None:
            raise TinyMLError("a magic_wand sketch needs the training run folder (RUN/), not just a .tflite")
        cfg = config
        f = cfg.features
        tin = info.inputs[0]
        if tin.elements != f.window * f.axes:
            raise TinyMLError(f"model input has {tin.elements} values; the config expects {f.window}x{f.axes}")
        motion = {
            "rate_hz": f.rate_hz, "window": f.window, "axes": f.axes, "stride": f.stride, "clip": f.clip,
            "channel_scales": [int(v) for v in f.channel_scales()],
            "align_gravity": int(f.align_gravity), "min_gravity": mf.MIN_GRAVITY, "motion_rms": f.motion_rms,
            "motion_rms_floor": f.motion_rms_floor,
            "multiplier": mf.input_multiplier(tin.scale), "shift": mf.INPUT_SHIFT, "zero_point": tin.zero_point,
        }
        detector = self.detector(cfg, info)
        gesture = {
            "classes": len(cfg.labels), "negative_index": detector.negative_index,
            "threshold_int8": detector.threshold_int8, "min_consecutive": cfg.rule.min_consecutive,
            "suppression_ms": cfg.rule.suppression_ms,
        }
        constants = (
            FeatureConstant("kMotionRateHz", "int", f.rate_hz),
            FeatureConstant("kMotionWindow", "int", f.window),
            FeatureConstant("kMotionAxes", "int", f.axes),
            FeatureConstant("kGestureThreshold", "float", cfg.rule.threshold),
            FeatureConstant("kGestureThresholdInt8", "int", detector.threshold_int8),
        )
        return Firmware(
            sketch_template="magic_wand/sketch.ino.j2",
            extra_templates=(
                ("motion_features.h", "magic_wand/motion_features.h.j2"),
                ("motion_features.c", "magic_wand/motion_features.c.j2"),
                ("gesture_detector.h", "magic_wand/gesture_detector.h.j2"),
                ("gesture_detector.c", "magic_wand/gesture_detector.c.j2"),
            ),
            sensor_roles=("imu",),
            constants=constants,
            context={"motion": motion, "gesture": gesture},
            inference_every_ms=1000 * f.stride / f.rate_hz,
        )

    def device_case(self, config: MagicWandConfig | None, model: bytes, recording: str | None, seed: int = 0):
        """IMU readings (a recording file or folder, else synthetic gestures) played back in one stream;
        Python predicts every "Heard ..." line from the same readings and device timestamps."""
        from tinyml.tasks.magic_wand.data import CAPTURE_MAGIC, parse_capture_csv, parse_tf_wand
        from tinyml.device.emulate import DeviceCase, Inputs, arduino_float, imu_records, int8_score
        from tinyml.modelinfo import read_model
        from tinyml import tflm

        cfg = config if config is not None else MagicWandConfig()
        if recording is None:
            samples = self.synthetic(cfg, 2, seed)
            what = f"{len(samples)} synthetic gestures"
        else:
            path = Path(recording)
            if path.is_dir():
                samples = self.load(path, cfg)
            else:
                from tinyml.files import MB, read_input_text

                text = read_input_text(path, "a motion recording", 256 * MB)
                samples = ([parse_capture_csv(text, str(path), cfg.data_format)] if text.startswith(CAPTURE_MAGIC)
                           else parse_tf_wand(text, str(path), "", cfg.data_format))
            if not samples:
                raise TinyMLError(f"{path}: no motion readings found")
            what = f"{len(samples)} recordings from {path}"
        values, times, t0 = [], [], 0
        for smp in samples:
            t = mf.timestamps_us(len(smp.data), smp.rate_hz, t0)
            values.append(smp.data[:, : cfg.features.axes])
            times.append(t)
            t0 = int(t[-1]) + int(1e6 / smp.rate_hz)
        data, t_us = np.concatenate(values).astype(np.float32), np.concatenate(times)
        info = read_model(model)
        tin, tout = info.inputs[0], info.outputs[0]
        windows = mf.stream_windows(data, t_us, cfg.features, mf.input_multiplier(tin.scale), tin.zero_point)
        lines = []
        if windows:
            q = np.stack([w for _, w in windows]).reshape((len(windows), *tin.shape[1:]))
            scores = tflm.predict_int8(model, q).reshape(len(windows), -1)
            detector = self.detector(cfg, info)
            labels = cfg.labels
            for (i, _), sc in zip(windows, scores):
                hit = detector.update(sc, int(t_us[i]) // 1000)
                if hit >= 0:
                    score = arduino_float(int8_score(int(sc[hit]), tout.scale, tout.zero_point), 2)
                    lines.append(f"Heard {labels[hit]} ({score})")
        return DeviceCase(Inputs(imu=imu_records(t_us, data)), lines,
                          f"{what}: {len(data)} readings, {len(windows)} inferences",
                          tuple(w.tobytes() for _, w in windows))


TASK = MagicWandTask()
