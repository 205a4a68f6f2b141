"""Full-int8 conversion, and the int8 scaling helpers used everywhere else.

`quantize` returns bytes and writes nothing. The batch dimension is fixed to 1 before
conversion, so the model carries no SHAPE/STRIDED_SLICE/PACK ops for a dynamic batch.
"""

from __future__ import annotations

import math
import os

import numpy as np

from tinyml.errors import TinyMLError


def quantize_array(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Real values → int8 exactly as TFLite does: round half away from zero, then clamp."""
    q = np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize_array(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (np.asarray(q, dtype=np.float32) - np.float32(zero_point)) * np.float32(scale)


def threshold_q(threshold: float, scale: float, zero_point: int) -> int:
    """Smallest int8 score q with scale * (q - zero_point) >= threshold."""
    q = math.ceil(threshold / scale + zero_point - 1e-9)
    return max(-128, min(127, q))


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def quantize(model, representative: np.ndarray, max_samples: int = 500, strip_names: bool = False) -> bytes:
    """Keras model + representative float inputs (N, ...) → full-int8 .tflite bytes.

    int8 input and output, TFLITE_BUILTINS_INT8 only, batch fixed to 1. strip_names: drop the tensor,
    subgraph and signature names (TFLM addresses tensors by index), which saves flash.
    """
    tf = _tf()
    rep = np.asarray(representative, dtype=np.float32)
    if rep.ndim < 2 or len(rep) == 0:
        raise TinyMLError("representative data must be a non-empty array of model inputs (N, ...)")
    in_shape = tuple(model.inputs[0].shape[1:])
    if rep.shape[1:] != in_shape:
        raise TinyMLError(f"representative data has shape {rep.shape[1:]} per example but the model expects {in_shape}")

    import keras

    # Re-wrap with a batch-1 input so the graph has static shapes end to end.
    # Fixed names too: Keras' global name counters would otherwise leak into tensor names
    # and make two conversions of the same model differ byte-wise.
    fixed_in = keras.Input(shape=in_shape, batch_size=1, dtype="float32", name="input")
    fixed = keras.Model(fixed_in, model(fixed_in, training=False), name="tinyml_int8")
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # One weight scale per FULLY_CONNECTED layer: the Arduino library's CMSIS-NN kernel
    # (Chirale_TensorFlowLite 2.0.0) applies the first channel's scale to every channel, so
    # per-channel dense weights would make the board print other scores than the host.
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True

    def samples():
        for x in rep[:max_samples]:
            yield [x[None, ...]]

    converter.representative_dataset = samples
    from tinyml.tflm import captured_native_output, trust

    try:
        # the converter prints pages of MLIR/progress noise on fd 1 and 2
        with captured_native_output():
            out = bytes(converter.convert())
        if strip_names:
            out = _strip_names(out)
        trust(out)
        return out
    except Exception as exc:  # the converter raises many types; the first line says what failed
        raise TinyMLError(f"int8 conversion failed: {str(exc).splitlines()[0][:300]}") from None


def _strip_names(tflite: bytes) -> bytes:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    flatbuffer_utils.strip_strings(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def int8_predict(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Dequantized outputs (N, classes) from the TFLM interpreter: what the board computes."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    info = read_model(model_bytes)
    tin, tout = info.inputs[0], info.outputs[0]
    q = quantize_array(np.asarray(x), tin.scale, tin.zero_point)
    y = tflm.predict_int8(model_bytes, q)
    return dequantize_array(y.reshape(len(q), -1), tout.scale, tout.zero_point)


def accuracy_report(model, model_bytes: bytes, x: np.ndarray, y: np.ndarray | None) -> dict:
    """Float (Keras) vs int8 (TFLM) accuracy and agreement on the same data."""
    x = np.asarray(x, dtype=np.float32)
    float_pred = np.asarray(model.predict(x, verbose=0, batch_size=256)).reshape(len(x), -1).argmax(1)
    int8_pred = int8_predict(model_bytes, x).argmax(1)
    report = {"samples": int(len(x)), "agreement": float(np.mean(float_pred == int8_pred))}
    if y is not None:
        y = np.asarray(y).reshape(-1)
        report["float_accuracy"] = float(np.mean(float_pred == y))
        report["int8_accuracy"] = float(np.mean(int8_pred == y))
    return report
