"""Tiny .tflite models built in code with the flatbuffer object API (no TensorFlow, deterministic).

`tiny_model()` is a full-int8 FULLY_CONNECTED(4→3) + SOFTMAX classifier. Variants give a
float model, one with a custom op and one with a builtin that TFLM does not implement.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s


def _buffer(data: bytes | None = None):
    b = s.BufferT()
    b.data = np.frombuffer(data, dtype=np.uint8) if data else None
    return b


def _tensor(name, shape, ttype, buffer, scale=None, zp=None):
    t = s.TensorT()
    t.name = name
    t.shape = np.array(shape, dtype=np.int32)
    t.type = ttype
    t.buffer = buffer
    if scale is not None:
        q = s.QuantizationParametersT()
        q.scale = np.array([scale], dtype=np.float32)
        q.zeroPoint = np.array([zp], dtype=np.int64)
        t.quantization = q
    return t


def _opcode(code, custom=None):
    oc = s.OperatorCodeT()
    oc.builtinCode = code
    oc.deprecatedBuiltinCode = min(code, 127)
    oc.version = 1
    oc.customCode = custom
    return oc


def tiny_model(variant: str = "int8") -> bytes:
    """variant: 'int8' (default), 'float', 'custom' (adds a custom op), 'unsupported' (LSH_PROJECTION)."""
    rng = np.random.default_rng(7)
    is_float = variant == "float"
    weights = rng.integers(-100, 100, size=(3, 4)).astype(np.int8)
    bias = rng.integers(-500, 500, size=(3,)).astype(np.int32)

    buffers = [_buffer()]

    def add_buffer(arr):
        buffers.append(_buffer(arr.tobytes()))
        return len(buffers) - 1

    if is_float:
        tt = s.TensorType.FLOAT32
        tensors = [
            _tensor("input", [1, 4], tt, 0),
            _tensor("weights", [3, 4], tt, add_buffer(weights.astype(np.float32) / 100)),
            _tensor("bias", [3], tt, add_buffer(bias.astype(np.float32) / 1000)),
            _tensor("logits", [1, 3], tt, 0),
            _tensor("scores", [1, 3], tt, 0),
        ]
    else:
        tensors = [
            _tensor("input", [1, 4], s.TensorType.INT8, 0, 0.05, -3),
            _tensor("weights", [3, 4], s.TensorType.INT8, add_buffer(weights), 0.01, 0),
            _tensor("bias", [3], s.TensorType.INT32, add_buffer(bias), 0.0005, 0),
            _tensor("logits", [1, 3], s.TensorType.INT8, 0, 0.1, 2),
            _tensor("scores", [1, 3], s.TensorType.INT8, 0, 1.0 / 256, -128),
        ]
    codes = [_opcode(s.BuiltinOperator.FULLY_CONNECTED), _opcode(s.BuiltinOperator.SOFTMAX)]

    fc = s.OperatorT()
    fc.opcodeIndex = 0
    fc.inputs = np.array([0, 1, 2], dtype=np.int32)
    fc.outputs = np.array([3], dtype=np.int32)
    fc.builtinOptionsType = s.BuiltinOptions.FullyConnectedOptions
    fc.builtinOptions = s.FullyConnectedOptionsT()

    sm = s.OperatorT()
    sm.opcodeIndex = 1
    sm.inputs = np.array([3], dtype=np.int32)
    sm.outputs = np.array([4], dtype=np.int32)
    sm.builtinOptionsType = s.BuiltinOptions.SoftmaxOptions
    opts = s.SoftmaxOptionsT()
    opts.beta = 1.0
    sm.builtinOptions = opts
    operators = [fc, sm]

    if variant in ("custom", "unsupported"):
        extra = s.OperatorT()
        extra.opcodeIndex = 2
        extra.inputs = np.array([4], dtype=np.int32)
        tensors.append(_tensor("extra_out", [1, 3], s.TensorType.INT8, 0, 1.0 / 256, -128))
        extra.outputs = np.array([5], dtype=np.int32)
        if variant == "custom":
            codes.append(_opcode(s.BuiltinOperator.CUSTOM, custom=b"MyCustomOp"))
        else:
            codes.append(_opcode(s.BuiltinOperator.LSH_PROJECTION))
        operators.append(extra)

    sg = s.SubGraphT()
    sg.tensors = tensors
    sg.inputs = np.array([0], dtype=np.int32)
    sg.outputs = np.array([len(tensors) - 1], dtype=np.int32)
    sg.operators = operators
    sg.name = "main"

    model = s.ModelT()
    model.version = 3
    model.operatorCodes = codes
    model.subgraphs = [sg]
    model.buffers = buffers
    model.description = "tinyml test fixture"

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# A tiny Keras classifier on generated waveforms (sine / square / sawtooth), for quantize tests.
WAVE_LABELS = ("sine", "square", "sawtooth")
WAVE_LENGTH = 64


def waveform_dataset(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy waveforms with random frequency, phase, amplitude and offset; x is (N, 64, 1, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(WAVE_LENGTH, dtype=np.float64)
    xs, ys = [], []
    for label in range(len(WAVE_LABELS)):
        for _ in range(n_per_class):
            cycles = rng.uniform(1.5, 6.0)
            phase = rng.uniform(0, 2 * np.pi)
            arg = 2 * np.pi * cycles * t / WAVE_LENGTH + phase
            if label == 0:
                wave = np.sin(arg)
            elif label == 1:
                wave = np.sign(np.sin(arg))
            else:
                wave = 2 * ((arg / (2 * np.pi)) % 1.0) - 1
            wave = rng.uniform(0.5, 1.5) * wave + rng.uniform(-0.3, 0.3) + rng.normal(0, 0.1, WAVE_LENGTH)
            xs.append(wave)
            ys.append(label)
    x = np.asarray(xs, dtype=np.float32)[:, :, None, None]
    y = np.asarray(ys, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def waveform_model(seed: int = 0):
    """A ~2 KB CNN; Conv2D with (k, 1) kernels keeps the int8 graph to CONV_2D/MAX_POOL/FC ops."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((WAVE_LENGTH, 1, 1)),
        keras.layers.Conv2D(8, (5, 1), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 1)),
        keras.layers.Conv2D(8, (3, 1), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(len(WAVE_LABELS), activation="softmax"),
    ])


def train_waveform(x, y, epochs: int, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    model = waveform_model(seed)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, shuffle=True)
    return model


class FakeInfo:
    """Just the quantization fields the firmware pieces read."""

    def __init__(self, in_scale, in_zp, window, axes, classes):
        from tinyml.modelinfo import TensorInfo

        self.inputs = (TensorInfo("in", (1, window, 1, axes), "int8", in_scale, in_zp),)
        self.outputs = (TensorInfo("out", (1, classes), "int8", 1 / 256, -128),)


def build_default(name, synthetic: bool = False, **changes):
    """The default architecture (what decides flash and arena), trained just enough to convert;
    `synthetic`: the architecture of the synthetic config, which `tinyml demo` trains."""
    import dataclasses

    from tinyml import config
    from tinyml.tasks import get_task
    from tinyml.train import train_task

    task = get_task(name)
    base = task.synthetic_config() if synthetic else task.default_config()
    if "cross_validate_below" in {f.name for f in dataclasses.fields(base)}:
        changes.setdefault("cross_validate_below", 0)  # one training, not k folds: size is the architecture's
    cfg = config.replace(base, epochs=1, augment_copies=0, **changes)
    return task, train_task(task, cfg, task.synthetic(cfg, 6, 0), progress=lambda *_: None)
