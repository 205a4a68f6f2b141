"""The op resolver, read from the flatbuffer: exactly the builtin ops the model uses.

The table maps TFLite builtin operator names to the `MicroMutableOpResolver` methods of
TFLM (tensorflow/lite/micro/micro_mutable_op_resolver.h). An op missing here is one TFLM
cannot run, and export refuses the model before the board says "Didn't find op".
"""

from __future__ import annotations

from tinyml.errors import ModelError
from tinyml.modelinfo import ModelInfo
from tinyml.tflm_library import TFLM_ADD_METHODS



def resolver_methods(info: ModelInfo) -> list[tuple[str, str]]:
    """(op name, Add method) for every builtin op of the model, sorted; refuses ops TFLM lacks."""
    if info.custom_ops:
        raise ModelError(
            f"the model uses custom ops ({', '.join(info.custom_ops)}) that tinyml cannot register; "
            "convert it with builtin ops only"
        )
    missing = [op.name for op in info.ops if op.name not in TFLM_ADD_METHODS]
    if missing:
        raise ModelError(
            f"the model needs ops TensorFlow Lite Micro does not have: {', '.join(missing)}; "
            "change the model to use TFLM-supported layers"
        )
    return [(op.name, TFLM_ADD_METHODS[op.name]) for op in info.ops]
