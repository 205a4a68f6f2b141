// Shim of TFLM logging.
#pragma once
void MicroPrintf(const char* format, ...);
