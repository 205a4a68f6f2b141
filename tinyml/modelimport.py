"""Float weights back out of an int8 .tflite, so a published model can seed training.

Reads a chain of convolutions (as the TFLite converter leaves a MobileNet: batch norm folded
into weights and biases, activations fused) with the flatbuffer schema from the tflite-micro
package, and dequantizes each weight and bias tensor with its own per-channel scales. Weights
come back in Keras layouts (Conv2D HWIO, DepthwiseConv2D HWC1, Dense IO).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyml.errors import ModelError
from tinyml.modelinfo import _op_name, _schema, read_model

_ACTIVATIONS = {0: None, 1: "relu", 3: "relu6"}


@dataclass(frozen=True, eq=False)
class ImportedLayer:
    """One weighted layer of the chain, in Keras terms."""

    kind: str
    """'conv' (Conv2D), 'depthwise' (DepthwiseConv2D) or 'dense' (a 1x1 classifier)."""
    kernel: np.ndarray
    """Dequantized float32 weights in the Keras layout."""
    bias: np.ndarray
    """Dequantized float32 bias, one per output channel."""


def _dequantize(model, tensor) -> np.ndarray:
    raw = model.buffers[tensor.buffer].data
    if raw is None:
        raise ValueError("weights are not constant")
    dtype = {9: np.int8, 2: np.int32, 0: np.float32}.get(tensor.type)
    if dtype is None:
        raise ValueError(f"unsupported weight type {tensor.type}")
    values = np.frombuffer(bytes(np.asarray(raw, dtype=np.uint8)), dtype=dtype).reshape(tuple(tensor.shape))
    q = tensor.quantization
    if dtype is np.float32 or q is None or q.scale is None or len(q.scale) == 0:
        return values.astype(np.float32)
    scale = np.asarray(q.scale, dtype=np.float64)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else np.zeros(len(scale)), dtype=np.float64)
    if len(scale) > 1:
        axis = q.quantizedDimension if values.ndim > 1 else 0
        shape = [1] * values.ndim
        shape[axis] = len(scale)
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((values.astype(np.float64) - zp) * scale).astype(np.float32)


def import_layers(data: bytes, source: str = "the model") -> tuple[tuple[int, ...], list[ImportedLayer]]:
    """(input shape without batch, weighted layers in order) of a convolution chain."""
    info = read_model(data, source)
    schema = _schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    sg = model.subgraphs[0]
    layers: list[ImportedLayer] = []
    try:
        for op in sg.operators:
            code = model.operatorCodes[op.opcodeIndex]
            name = _op_name(schema, max(code.builtinCode, code.deprecatedBuiltinCode))
            if name in ("RESHAPE", "SOFTMAX", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "QUANTIZE", "DEQUANTIZE"):
                continue
            if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                raise ModelError(f"{source} has a {name} operator; --init-from takes MobileNet-style "
                                 "convolution chains (CONV_2D, DEPTHWISE_CONV_2D, pooling, FULLY_CONNECTED)")
            w = _dequantize(model, sg.tensors[op.inputs[1]])
            b = (_dequantize(model, sg.tensors[op.inputs[2]]) if len(op.inputs) > 2 and op.inputs[2] >= 0
                 else np.zeros(w.shape[0] if name != "DEPTHWISE_CONV_2D" else w.shape[-1], np.float32))
            opts = op.builtinOptions
            # the Keras rebuild has fixed strides, padding and activations; refuse what it cannot express
            if _ACTIVATIONS.get(opts.fusedActivationFunction, "unsupported") == "unsupported":
                raise ModelError(f"{source}: fused activation {opts.fusedActivationFunction} is not supported")
            if name == "FULLY_CONNECTED":
                layers.append(ImportedLayer("dense", w.T.copy(), b))
                continue
            if name == "CONV_2D":
                kernel = np.transpose(w, (1, 2, 3, 0))  # OHWI → HWIO
                if kernel.shape[:2] == (1, 1) and layers and layers[-1].kind in ("conv", "depthwise") \
                        and sg.tensors[op.inputs[0]].shape[1] == 1 and sg.tensors[op.inputs[0]].shape[2] == 1:
                    layers.append(ImportedLayer("dense", kernel[0, 0], b))
                else:
                    layers.append(ImportedLayer("conv", kernel, b))
            else:
                in_ch = sg.tensors[op.inputs[0]].shape[3]
                out_ch = w.shape[3]
                if in_ch == out_ch:
                    layers.append(ImportedLayer("depthwise", w[0][..., None], b))
                elif in_ch == 1:  # a first conv on one channel, converted as depthwise x multiplier
                    layers.append(ImportedLayer("conv", w[0][:, :, None, :], b))
                else:
                    raise ModelError(f"{source}: depthwise convolutions with a channel multiplier are not supported")
    except ModelError:
        raise
    except Exception as exc:  # damaged options or buffers
        raise ModelError(f"{source}: cannot read its weights ({type(exc).__name__}: {exc})") from None
    return tuple(info.inputs[0].shape[1:]), layers


SHIPPED = "base"
"""The init_from value that names the model a task ships with tinyml as package data."""


def init_model_bytes(init_from: str, package: str, shipped_file: str, rebuild: str) -> bytes:
    """The .tflite training starts from: 'base' is the model `package` ships as `shipped_file`
    (`rebuild` is the command that makes it again); anything else is a .tflite path."""
    from tinyml.errors import TinyMLError
    from tinyml.modelinfo import load_model_bytes

    if init_from != SHIPPED:
        return load_model_bytes(init_from)
    from importlib.resources import files

    try:
        return files(package).joinpath(shipped_file).read_bytes()
    except OSError:
        raise TinyMLError(f"the model shipped with tinyml ({shipped_file}) is missing from this install; rebuild it "
                          f"with `{rebuild}` or pass --init-from a .tflite") from None


def start_settings(init_from: str, package: str, shipped_settings_file: str, task: str) -> dict:
    """The settings the model training starts from was trained with: for the shipped base, the JSON
    written beside it by its build script; for a .tflite a run wrote, that run's config.json."""
    import json
    from pathlib import Path

    from tinyml.errors import TinyMLError

    if init_from == SHIPPED:
        from importlib.resources import files

        return json.loads(files(package).joinpath(shipped_settings_file).read_text())
    beside = Path(init_from).parent / "config.json"
    try:
        settings = json.loads(beside.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = None
    if not isinstance(settings, dict):
        raise TinyMLError(f"--init-from {init_from}: no readable {beside} with its labels; pass the model.tflite "
                          f"of a {task} training run folder")
    return settings


def output_by_label(kernel: np.ndarray, bias: np.ndarray, start: ImportedLayer, labels, start_labels) -> list:
    """A new output layer's [kernel, bias]: a class the start model knows takes its row there, a new
    class keeps its fresh initial weights (so a user's own labels can follow a base's)."""
    kernel, bias = kernel.copy(), bias.copy()
    start_labels = list(start_labels)
    for j, label in enumerate(labels):
        if label in start_labels:
            kernel[:, j] = start.kernel[:, start_labels.index(label)]
            bias[j] = start.bias[start_labels.index(label)]
    return [kernel, bias]
