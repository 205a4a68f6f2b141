"""Camera frame → model input, in integer arithmetic that the generated C repeats exactly.

A grayscale frame is center-cropped to the model's aspect ratio and shrunk by averaging whole
source pixels in integer boxes (rounded to nearest), then mapped to int8 through a 256-entry
table computed from the model's input quantization. The float model sees pixel/127.5 - 1 (the
MobileNet convention, which the published person detector also uses), so the table is the
int8 model's own quantization of that value. `image_preprocess.c` does the same steps.
"""

from __future__ import annotations

import numpy as np


def crop_window(height: int, width: int, out_h: int, out_w: int) -> tuple[int, int, int, int]:
    """(top, left, crop_h, crop_w): the centered crop with the output's aspect ratio."""
    if width * out_h > height * out_w:
        crop_h, crop_w = height, height * out_w // out_h
    else:
        crop_h, crop_w = width * out_h // out_w, width
    crop_h, crop_w = max(1, crop_h), max(1, crop_w)
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def box_edges(start: int, length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Source [lo, hi) index ranges per output pixel; at least one pixel each (upscaling repeats)."""
    i = np.arange(out, dtype=np.int64)
    lo = start + i * length // out
    hi = np.maximum(start + (i + 1) * length // out, lo + 1)
    return lo, hi


def crop_scale(gray: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """(H, W) uint8 → (out_h, out_w) uint8: centered crop, then rounded box averages."""
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"need a 2-D grayscale image, got shape {gray.shape}")
    top, left, ch, cw = crop_window(gray.shape[0], gray.shape[1], out_h, out_w)
    y0, y1 = box_edges(top, ch, out_h)
    x0, x1 = box_edges(left, cw, out_w)
    # summed-area table: exact integer box sums, same values as the C double loop
    sat = np.zeros((gray.shape[0] + 1, gray.shape[1] + 1), dtype=np.int64)
    sat[1:, 1:] = gray.astype(np.int64).cumsum(0).cumsum(1)
    sums = sat[y1][:, x1] - sat[y0][:, x1] - sat[y1][:, x0] + sat[y0][:, x0]
    count = (y1 - y0)[:, None] * (x1 - x0)[None, :]
    return ((sums + count // 2) // count).astype(np.uint8)


def float_input(gray: np.ndarray) -> np.ndarray:
    """uint8 pixels → float model input in [-1, 1], with a trailing channel axis."""
    return (np.asarray(gray, dtype=np.float32) / 127.5 - 1.0)[..., None]


def int8_table(scale: float, zero_point: int) -> np.ndarray:
    """256 int8 values: the model's quantization of pixel/127.5 - 1, rounding half up.

    With the usual scale of 2/255 every pixel lands exactly on a half step, so the float32
    noise in the stored scale (up to ~2e-5 steps) is rounded off first and the ties then go up: the
    published model gets pixel - 128, as the TFLM examples feed it.
    """
    real = np.arange(256, dtype=np.float64) / 127.5 - 1.0
    q = np.floor(np.round(real / scale, 4) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def to_int8(gray: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """uint8 images (..., H, W) → int8 model input (..., H, W, 1): exactly what the board feeds."""
    return int8_table(scale, zero_point)[np.asarray(gray, dtype=np.uint8)][..., None]
