"""What the board's TFLM Arduino library can run exactly: its registered ops and kernel limits.

The host checks models with the 2026 tflite-micro wheel, but a user's board compiles the
library from the Arduino Library Manager. Export checks a model against that library, so a
model the board would reject at start-up, or compute differently, is refused on the host.
The op list is read from the library's own `micro_mutable_op_resolver.h`
(`ops_in_resolver_header`); tests compare the table below with the vendored source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinyml.errors import ModelError


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

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    def check(self, info) -> None:
        """Raise a one-line ModelError when this library cannot run the model (ModelInfo) exactly."""
        from tinyml.export.resolver import TFLM_ADD_METHODS

        lacking = [op.name for op in info.ops if TFLM_ADD_METHODS.get(op.name) not in self.add_methods]
        if lacking:
            raise ModelError(
                f"the model uses {', '.join(lacking)}, which {self.title} (the board's TFLM library) does not "
                "register; change the layers that produce it"
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
)
