"""Runs exported sketches on an emulated Cortex-M4 against the board's real TFLM library."""
