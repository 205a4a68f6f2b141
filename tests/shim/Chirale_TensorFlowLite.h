// Shim of the Chirale_TensorFlowLite library header: it only makes the TFLM sources visible.
#pragma once
