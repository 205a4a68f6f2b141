"""What the board's TFLM Arduino library can run exactly: its registered ops and kernel limits.

The host checks models with the 2026 tflite-micro wheel, but a user's board compiles the
library from the Arduino Library Manager. Export checks a model against that library, so a
model the board would reject at start-up, or compute differently, is refused on the host.
The op list is read from the library's own `micro_mutable_op_resolver.h`
(`ops_in_resolver_header`); tests compare the table below with the vendored source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tinyml.errors import ModelError


# TFLite builtin operator → the `MicroMutableOpResolver` method that registers it, for every op
# TFLM has ever offered; a library release registers a subset (`TflmLibrary.add_methods`).
TFLM_ADD_METHODS: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}


@dataclass(frozen=True)
class TflmLibrary:
    """One release of a TFLM Arduino library."""

    name: str
    """Library Manager name."""
    version: str
    """Release, as in its library.properties."""
    header: str
    """Header a sketch includes to pull the library in."""
    add_methods: frozenset[str]
    """`MicroMutableOpResolver::Add*` methods the release declares."""
    single_scale_ops: frozenset[str]
    """Ops whose kernels apply one weight scale to every output channel (per-channel weights ignored)."""
    inexact_ops: dict[str, str] = field(default_factory=dict)
    """Ops the release registers but computes differently from the host's TFLM in int8, found on the
    emulated board, with what to use instead."""

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    def check(self, info) -> None:
        """Raise a one-line ModelError when this library cannot run the model (ModelInfo) exactly."""
        lacking = [op.name for op in info.ops if TFLM_ADD_METHODS.get(op.name) not in self.add_methods]
        if lacking:
            raise ModelError(
                f"the model uses {', '.join(lacking)}, which {self.title} (the board's TFLM library) does not "
                "register; change the layers that produce it"
            )
        inexact = [op.name for op in info.ops if op.name in self.inexact_ops]
        if inexact:
            raise ModelError(
                f"the model uses {inexact[0]}, which {self.title} computes differently from the host's TFLM, so the "
                f"board would print other scores; {self.inexact_ops[inexact[0]]}"
            )
        per_channel = sorted(set(info.per_channel_ops) & self.single_scale_ops)
        if per_channel:
            raise ModelError(
                f"the model has per-channel weight scales on {', '.join(per_channel)}, which {self.title} computes "
                "with one scale per layer, so the board would print other scores; convert with per-tensor weights "
                "for those layers (tinyml quantize does)"
            )


_RESOLVER_METHOD = re.compile(r"TfLiteStatus\s+(Add[A-Za-z0-9]+)\s*\(")


def ops_in_resolver_header(text: str) -> frozenset[str]:
    """The Add* methods a `micro_mutable_op_resolver.h` declares (AddBuiltin/AddCustom excluded)."""
    return frozenset(m for m in _RESOLVER_METHOD.findall(text) if m not in ("AddBuiltin", "AddCustom"))


# Read from Chirale_TensorFlowLite-2.0.0/src/tensorflow/lite/micro/micro_mutable_op_resolver.h
# (TFLM snapshot of 2024-07-05). Its CMSIS-NN FULLY_CONNECTED sets one output multiplier for
# all channels (kernels/cmsis_nn/fully_connected.cpp), so per-channel FC weights are wrong on it.
CHIRALE_2_0_0 = TflmLibrary(
    name="Chirale_TensorFlowLite",
    version="2.0.0",
    header="Chirale_TensorFlowLite.h",
    add_methods=frozenset((
        "AddAbs AddAdd AddAddN AddArgMax AddArgMin AddAssignVariable AddAveragePool2D AddBatchToSpaceNd "
        "AddBroadcastArgs AddBroadcastTo AddCallOnce AddCast AddCeil AddCircularBuffer AddConcatenation AddConv2D "
        "AddCos AddCumSum AddDepthToSpace AddDepthwiseConv2D AddDequantize AddDetectionPostprocess AddDiv AddElu "
        "AddEqual AddEthosU AddExp AddExpandDims AddFill AddFloor AddFloorDiv AddFloorMod AddFullyConnected "
        "AddGather AddGatherNd AddGreater AddGreaterEqual AddHardSwish AddIf AddL2Normalization AddL2Pool2D "
        "AddLeakyRelu AddLess AddLessEqual AddLog AddLogSoftmax AddLogicalAnd AddLogicalNot AddLogicalOr "
        "AddLogistic AddMaxPool2D AddMaximum AddMean AddMinimum AddMirrorPad AddMul AddNeg AddNotEqual AddPack "
        "AddPad AddPadV2 AddPrelu AddQuantize AddReadVariable AddReduceMax AddRelu AddRelu6 AddReshape "
        "AddResizeBilinear AddResizeNearestNeighbor AddRound AddRsqrt AddSelectV2 AddShape AddSin AddSlice "
        "AddSoftmax AddSpaceToBatchNd AddSpaceToDepth AddSplit AddSplitV AddSqrt AddSquare AddSquaredDifference "
        "AddSqueeze AddStridedSlice AddSub AddSum AddSvdf AddTanh AddTranspose AddTransposeConv "
        "AddUnidirectionalSequenceLSTM AddUnpack AddVarHandle AddWhile AddZerosLike"
    ).split()),
    single_scale_ops=frozenset({"FULLY_CONNECTED"}),
    # a trained ds_cnn with GlobalAveragePooling2D differed in 22 of 51 emulated inferences
    inexact_ops={"MEAN": "average with AveragePooling2D over the whole feature map instead of "
                         "GlobalAveragePooling2D (the board agrees with that)"},
)
