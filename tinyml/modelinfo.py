"""Read what the firmware needs to know straight from a .tflite flatbuffer.

Ops, tensor shapes and quantization come from the model itself, never from Keras layer
names: TF2 conversion can emit CONV_2D where a DEPTHWISE_CONV_2D was expected. Uses the
flatbuffer schema shipped with the tflite-micro package, so no TensorFlow import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.errors import ModelError, TinyMLError
from tinyml.names import printable

_INT8 = 9
_FLOAT_TYPES = {0, 1, 10, 18}  # FLOAT32, FLOAT16, FLOAT64, BFLOAT16


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output, as the firmware sees it."""

    name: str
    """Tensor name in the flatbuffer (informational only; never reaches C)."""
    shape: tuple[int, ...]
    """Dimensions, batch first; the batch is 1 for a model fit for a microcontroller."""
    dtype: str
    """numpy dtype name, e.g. 'int8'."""
    scale: float
    """Quantization scale: real = scale * (q - zero_point). 0.0 when not quantized."""
    zero_point: int
    """Quantization zero point."""

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


@dataclass(frozen=True)
class OpInfo:
    """One builtin operator code used by the model."""

    name: str
    """Builtin operator name as in the TFLite schema, e.g. 'DEPTHWISE_CONV_2D'."""
    version: int
    """Operator version recorded by the converter."""


@dataclass(frozen=True)
class ModelInfo:
    """Everything tinyml reads from a .tflite file."""

    flash_bytes: int
    """Size of the flatbuffer: what the C array costs in flash."""
    sha256: str
    """Hex digest of the flatbuffer, recorded in manifests."""
    ops: tuple[OpInfo, ...]
    """Builtin ops actually used by operators, sorted by name."""
    custom_ops: tuple[str, ...]
    """Names of custom ops (tinyml refuses these for export)."""
    inputs: tuple[TensorInfo, ...]
    """Subgraph 0 inputs."""
    outputs: tuple[TensorInfo, ...]
    """Subgraph 0 outputs."""
    macs: int
    """Estimated multiply-accumulates per inference (conv, depthwise conv, fully connected, batch matmul)."""
    float_tensors: int
    """Number of float tensors anywhere in the graph (0 for a full-int8 model)."""
    subgraphs: int
    """Number of subgraphs."""
    per_channel_ops: tuple[str, ...] = ()
    """Ops that have at least one weight tensor (input 1) with per-channel scales, sorted."""

    @property
    def op_names(self) -> list[str]:
        return [op.name for op in self.ops]

    def is_full_int8(self) -> bool:
        return (
            self.float_tensors == 0
            and all(t.dtype == "int8" for t in self.inputs + self.outputs)
        )

    def require_full_int8(self, what: str = "the model") -> None:
        """Raise a one-line ModelError unless every input and output is int8 and no float math remains."""
        for kind, tensors in (("input", self.inputs), ("output", self.outputs)):
            for t in tensors:
                if t.dtype != "int8":
                    raise ModelError(
                        f"{what} has a {t.dtype} {kind} '{t.name}'; tinyml needs a full-int8 model "
                        "(run `tinyml quantize` with representative data)"
                    )
        if self.float_tensors:
            raise ModelError(
                f"{what} still has {self.float_tensors} float tensors inside; tinyml needs a full-int8 "
                "model (convert with TFLITE_BUILTINS_INT8 only, e.g. `tinyml quantize`)"
            )


def _dtype_name(code: int) -> str:
    schema = _schema()
    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    name = names.get(code, f"type{code}").lower()
    return {"float32": "float32", "int8": "int8"}.get(name, name)


def _op_name(schema, code: int) -> str:
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(code, f"BUILTIN_{code}")


def _tensor_info(tensor) -> TensorInfo:
    q = tensor.quantization
    scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
    zp = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else 0
    shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ()))
    name = tensor.name.decode("utf-8", "replace") if isinstance(tensor.name, bytes) else str(tensor.name or "")
    return TensorInfo(name=printable(name), shape=shape, dtype=_dtype_name(tensor.type), scale=scale, zero_point=zp)


def _macs(op_name: str, op, tensors) -> int:
    """Multiply-accumulates of one operator from its tensor shapes."""

    def shape(i):
        if i < 0:
            return ()
        s = tensors[i].shape
        return tuple(int(d) for d in s) if s is not None else ()

    ins = list(op.inputs) if op.inputs is not None else []
    outs = list(op.outputs) if op.outputs is not None else []
    if not ins or not outs:
        return 0
    out_elems = int(np.prod(shape(outs[0]))) if shape(outs[0]) else 0
    if op_name == "CONV_2D" and len(ins) > 1:
        _, kh, kw, cin = shape(ins[1])
        return out_elems * kh * kw * cin
    if op_name == "DEPTHWISE_CONV_2D" and len(ins) > 1:
        _, kh, kw, _ = shape(ins[1])
        return out_elems * kh * kw
    if op_name == "FULLY_CONNECTED" and len(ins) > 1:
        w = shape(ins[1])
        return out_elems * (w[-1] if w else 0)
    if op_name == "TRANSPOSE_CONV" and len(ins) > 2:
        cout, kh, kw, _ = shape(ins[1])
        x = shape(ins[2])
        return int(np.prod(x)) * kh * kw * cout if x else 0
    if op_name == "BATCH_MATMUL":
        a = shape(ins[0])
        return out_elems * (a[-1] if a else 0)
    return 0


def _per_channel_weights(op, tensors) -> bool:
    ins = list(op.inputs) if op.inputs is not None else []
    if len(ins) < 2 or not 0 <= ins[1] < len(tensors):
        return False
    q = tensors[ins[1]].quantization
    return q is not None and q.scale is not None and len(q.scale) > 1


_ELEMENT_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8, 16: 4}  # float32 f16 i32 u8 i64 bool i16 i8 f64 u32


def _check_structure(model, source: str) -> None:
    """Every index in range and every constant buffer the size its tensor says, so no interpreter is
    handed a model that points outside itself (damaged files otherwise crash native code)."""
    def bad(what: str):
        return ModelError(f"{source} is damaged: {what}; re-export it from the converter")

    buffers = model.buffers if model.buffers is not None else []
    codes = model.operatorCodes if model.operatorCodes is not None else []
    if not buffers:
        raise bad("it has no buffer table")
    for g_index, g in enumerate(model.subgraphs):
        tensors = g.tensors if g.tensors is not None else []
        n = len(tensors)
        for name, refs in (("input", g.inputs), ("output", g.outputs)):
            for i in refs if refs is not None else []:
                if not 0 <= i < n:
                    raise bad(f"subgraph {g_index} names {name} tensor {i} of {n}")
        for t_index, t in enumerate(tensors):
            if isinstance(t.name, bytes):
                try:
                    t.name.decode("utf-8")
                except UnicodeDecodeError:
                    raise bad(f"tensor {t_index}'s name is not UTF-8") from None
            if not 0 <= t.buffer < len(buffers):
                raise bad(f"tensor {t_index} uses buffer {t.buffer} of {len(buffers)}")
            shape = list(t.shape) if t.shape is not None else []
            if any(d < 0 or d > 1 << 24 for d in shape):
                raise bad(f"tensor {t_index} has the shape {shape}")
            data = buffers[t.buffer].data
            size = _ELEMENT_BYTES.get(t.type)
            if data is not None and len(data) and size is not None:
                want = size * int(np.prod(shape, dtype=np.int64)) if shape else size
                if len(data) != want:
                    raise bad(f"tensor {t_index} holds {len(data)} bytes where its shape needs {want}")
            q = t.quantization
            if q is not None and q.scale is not None and q.zeroPoint is not None and len(q.zeroPoint) not in (
                    0, len(q.scale)):
                raise bad(f"tensor {t_index} has {len(q.scale)} scales but {len(q.zeroPoint)} zero points")
        for o_index, op in enumerate(g.operators if g.operators is not None else []):
            if not 0 <= op.opcodeIndex < len(codes):
                raise bad(f"operator {o_index} uses opcode {op.opcodeIndex} of {len(codes)}")
            for refs in (op.inputs, op.outputs):
                for i in refs if refs is not None else []:
                    if not -1 <= i < n:
                        raise bad(f"operator {o_index} names tensor {i} of {n}")


def read_model(data: bytes, source: str = "the model") -> ModelInfo:
    """Parse a .tflite flatbuffer into a ModelInfo, or raise a one-line ModelError."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(
            f"{source} is not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier); "
            "pass a .tflite file produced by the TFLite converter or `tinyml quantize`"
        )
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
        if not model.subgraphs:
            raise ValueError("no subgraphs")
        sg = model.subgraphs[0]
        tensors = sg.tensors if sg.tensors is not None else []
        codes = model.operatorCodes if model.operatorCodes is not None else []
        used: dict[str, int] = {}
        custom: set[str] = set()
        per_channel: set[str] = set()
        macs = 0
        float_tensors = 0
        for g in model.subgraphs:
            gt = g.tensors if g.tensors is not None else []
            float_tensors += sum(1 for t in gt if t.type in _FLOAT_TYPES)
            for op in g.operators if g.operators is not None else []:
                code = codes[op.opcodeIndex]
                builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
                name = _op_name(schema, builtin)
                if name == "CUSTOM":
                    cname = code.customCode
                    custom.add(printable(cname.decode("utf-8", "replace") if isinstance(cname, bytes) else str(cname)))
                    continue
                used[name] = max(used.get(name, 0), int(code.version))
                macs += _macs(name, op, gt)
                if _per_channel_weights(op, gt):
                    per_channel.add(name)
        _check_structure(model, source)
        inputs = tuple(_tensor_info(tensors[i]) for i in sg.inputs)
        outputs = tuple(_tensor_info(tensors[i]) for i in sg.outputs)
    except ModelError:
        raise
    except Exception as exc:  # flatbuffers raises assorted IndexError/struct.error on damage
        raise ModelError(
            f"{source} is a damaged or truncated .tflite file ({type(exc).__name__}); re-export it from the converter"
        ) from None
    return ModelInfo(
        flash_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        ops=tuple(OpInfo(n, v) for n, v in sorted(used.items())),
        custom_ops=tuple(sorted(custom)),
        inputs=inputs,
        outputs=outputs,
        macs=int(macs),
        float_tensors=float_tensors,
        subgraphs=len(model.subgraphs),
        per_channel_ops=tuple(sorted(per_channel)),
    )


def load_model_bytes(path: str | Path) -> bytes:
    """Read a .tflite file, turning a missing/unreadable path into a one-line error."""
    from tinyml.files import MB, read_input

    try:  # 64 MB is far beyond any microcontroller's flash, and any model tinyml could check
        return read_input(path, "a .tflite model (or a training run folder where supported)", 64 * MB)
    except TinyMLError as exc:
        raise ModelError(str(exc)) from None
