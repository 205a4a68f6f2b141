"""Motion features in integer arithmetic, so the generated C computes the same bytes.

The device path, mirrored here step by step:
1. each IMU reading (float g or deg/s) becomes a fixed-point integer:
   lroundf(value * channel_scale), clipped to ±clip (C's lroundf: half away from zero);
2. readings are averaged into bins of 1/rate_hz by their device timestamps (µs);
   an empty bin repeats the previous value;
3. the last `window` bins, oldest first, form the model input;
4. int8 input = zero_point + round_half_away(fixed * multiplier / 2**shift), clamped.

Training feeds the float model `fixed / 1000`, which the int8 step approximates to one LSB.
Nothing here uses floating point after step 1, and step 1 is a single IEEE multiply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INPUT_SHIFT = 24
FIXED_PER_UNIT = 1000  # float model input = fixed / 1000


@dataclass(frozen=True, kw_only=True)
class MotionFeatures:
    """Feature settings shared by training and the generated C."""

    rate_hz: int = 25
    """Model sample rate; the device averages its IMU stream into bins of 1/rate_hz."""
    window: int = 64
    """Samples per model input (64 at 25 Hz = 2.56 s)."""
    axes: int = 3
    """3 (accelerometer) or 6 (accelerometer + gyroscope)."""
    stride: int = 4
    """Bins between inferences on the device (4 at 25 Hz = every 160 ms)."""
    accel_scale: int = 1000
    """Fixed-point units per g (1000 = milli-g)."""
    gyro_scale: int = 2
    """Fixed-point units per deg/s."""
    clip: int = 4000
    """Fixed-point values are clipped to ±clip (±4 g, ±2000 deg/s)."""

    def channel_scales(self) -> np.ndarray:
        scales = [self.accel_scale] * 3 + [self.gyro_scale] * 3
        return np.asarray(scales[: self.axes], dtype=np.float32)


def to_fixed(values: np.ndarray, cfg: MotionFeatures) -> np.ndarray:
    """(T, axes) float readings → int32 fixed point, as `lroundf(v * scale)` then clip."""
    prod = np.asarray(values, dtype=np.float32)[:, : cfg.axes] * cfg.channel_scales()  # float32 multiply
    p = prod.astype(np.float64)  # exact: every float32 is a float64
    rounded = np.where(p >= 0, np.floor(p + 0.5), np.ceil(p - 0.5))
    return np.clip(rounded, -cfg.clip, cfg.clip).astype(np.int32)


def timestamps_us(n: int, rate_hz: float, start_us: int = 0) -> np.ndarray:
    """Device-style timestamps for a recording with a nominal rate."""
    return start_us + np.floor(np.arange(n, dtype=np.float64) * (1e6 / rate_hz)).astype(np.int64)


def _div_round(num: np.ndarray, den) -> np.ndarray:
    """Integer division rounding half away from zero (what the C code does)."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    q = (np.abs(num) * 2 + den) // (2 * den)
    return np.where(num < 0, -q, q)


def decimate(fixed: np.ndarray, t_us: np.ndarray, cfg: MotionFeatures, flush: bool = True) -> np.ndarray:
    """Average fixed-point readings into 1/rate_hz bins by timestamp; empty bins repeat the last value.

    With flush=False the last (still open) bin is not emitted, as on the device.
    """
    fixed = np.asarray(fixed, dtype=np.int64)
    if len(fixed) == 0:
        return np.zeros((0, fixed.shape[1] if fixed.ndim == 2 else cfg.axes), dtype=np.int32)
    bins = (np.asarray(t_us, dtype=np.int64) * cfg.rate_hz) // 1_000_000
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    counts = np.diff(np.r_[starts, len(bins)])
    sums = np.add.reduceat(fixed, starts, axis=0)
    means = _div_round(sums, counts[:, None])
    uniq = bins[starts]
    if np.any(np.diff(uniq) < 0):
        raise ValueError("timestamps go backwards")
    # repeat each bin's mean for the empty bins that follow it (hold-last)
    repeats = np.r_[np.diff(uniq), 1]
    out = np.repeat(means, repeats, axis=0)
    if not flush:
        out = out[: len(out) - 1]
    return out.astype(np.int32)


def fit_window(decimated: np.ndarray, window: int, offset: int | None = None) -> np.ndarray:
    """A gesture placed in a window: padded with its first/last row (the wand at rest) or cropped.

    offset: where the gesture starts in the window (may be negative to crop its start);
    None centres it.
    """
    n = len(decimated)
    if offset is None:
        offset = (window - n) // 2
    idx = np.clip(np.arange(window) - offset, 0, n - 1)
    return decimated[idx]


def input_multiplier(scale: float) -> int:
    """Integer multiplier so that q = zp + round(fixed * m / 2**INPUT_SHIFT) ≈ fixed / (1000 * scale) + zp."""
    return int(round((1 << INPUT_SHIFT) / (FIXED_PER_UNIT * float(scale))))


def quantize_fixed(fixed: np.ndarray, multiplier: int, zero_point: int) -> np.ndarray:
    """Fixed-point features → int8 model input, exactly as the generated C does it."""
    p = np.asarray(fixed, dtype=np.int64) * np.int64(multiplier)
    half = np.int64(1) << (INPUT_SHIFT - 1)
    mag = (np.abs(p) + half) >> INPUT_SHIFT
    q = np.where(p < 0, -mag, mag) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def float_input(fixed: np.ndarray) -> np.ndarray:
    """What the float model is trained on: fixed / 1000 (g for accelerometer axes)."""
    return np.asarray(fixed, dtype=np.float32) / np.float32(FIXED_PER_UNIT)


def stream_windows(values: np.ndarray, t_us: np.ndarray, cfg: MotionFeatures, multiplier: int,
                   zero_point: int) -> list[tuple[int, np.ndarray]]:
    """(reading index, int8 input) for every inference a device runs on a continuous stream.

    Mirrors motion_push(): after reading i, bins[i] - bins[0] bins are complete; an
    inference is due when that count crosses window + k * stride, on the latest window.
    """
    t_us = np.asarray(t_us, dtype=np.int64)
    dec = decimate(to_fixed(values, cfg), t_us, cfg, flush=False)
    bins = (t_us * cfg.rate_hz) // 1_000_000
    done = bins - bins[0]
    out = []
    before = 0
    for i, emitted in enumerate(done):
        emitted = int(emitted)
        if emitted >= cfg.window:
            last_point = emitted - (emitted - cfg.window) % cfg.stride
            if last_point > before:
                out.append((i, quantize_fixed(dec[emitted - cfg.window:emitted], multiplier, zero_point)))
        before = emitted
    return out
