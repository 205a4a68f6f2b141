"""Motion features in integer arithmetic, so the generated C computes the same bytes.

The device path, mirrored here step by step:
1. each IMU reading (float g or deg/s) becomes a fixed-point integer:
   lroundf(value * channel_scale), clipped to ±clip (C's lroundf: half away from zero);
2. readings are averaged into bins of 1/rate_hz by their device timestamps (µs);
   an empty bin repeats the previous value;
3. the last `window` bins, oldest first, form the window;
4. gravity frame (align_gravity): the window's mean acceleration is taken as gravity; the motion
   (readings minus that mean) is rotated so gravity points along +z and scaled so it reads 1 g, and
   then scaled to a common loudness (motion_rms), so the board's mounting, tilt and calibration
   and the size of the gesture drop out; all in integers with an exact integer square root;
5. int8 input = zero_point + round_half_away(fixed * multiplier / 2**shift), clamped.

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
    align_gravity: bool = True
    """Feed the model the motion in the gravity frame (see step 4), so it does not depend on how the
    board is mounted or held; False feeds the raw window."""
    motion_rms: int = 400
    """With align_gravity: the window's accelerometer motion is scaled to this RMS (fixed-point units,
    400 = 0.4 g), so small and large drawings of a gesture look alike; 0 turns it off."""
    motion_rms_floor: int = 150
    """Motion quieter than this RMS is scaled as if it had this RMS, so a board at rest stays quiet."""

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


Q14 = 1 << 14
MIN_GRAVITY = 250  # a window whose mean is under 0.25 g (free fall, a dead sensor) is not rotated


def isqrt(v: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(v)) for non-negative int64 (the C code computes it bit by bit)."""
    v = np.asarray(v, dtype=np.int64)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    r -= (r * r > v).astype(np.int64)
    r += ((r + 1) * (r + 1) <= v).astype(np.int64)
    return r


def gravity_frame(windows: np.ndarray, cfg: MotionFeatures) -> np.ndarray:
    """(..., window, axes) fixed-point windows → the same windows in the gravity frame (step 4).

    Per window: m = mean reading; if m_z < 0 the window is first turned 180° about x (so the rotation
    below never divides by ~0); u = m / |m| in Q14; R (Rodrigues, rotating u onto +z) in Q14;
    accelerometer motion d = R (x - m) * 1000 / |m|, then d * motion_rms / max(rms(d), floor);
    gyroscope axes are rotated by R only. Every step rounds half away from zero, as the C does.
    """
    w = np.asarray(windows, dtype=np.int64)
    if not cfg.align_gravity:
        return w.astype(np.int32)
    shape = w.shape
    w = w.reshape(-1, shape[-2], shape[-1]).copy()
    n_win = w.shape[1]
    m = _div_round(w[:, :, :3].sum(axis=1), n_win)  # (N, 3); rounding is symmetric, so it flips with w
    sign = np.where(m[:, 2] < 0, -1, 1)[:, None]
    for start in range(0, w.shape[2], 3):
        w[:, :, start + 1] *= sign
        w[:, :, start + 2] *= sign
    m[:, 1:] *= sign
    norm = isqrt((m * m).sum(axis=1))
    weak = norm < MIN_GRAVITY
    norm = np.where(weak, FIXED_PER_UNIT, norm)
    u = _div_round(m * Q14, norm[:, None])
    u = np.where(weak[:, None], np.array([0, 0, Q14]), u)
    ux, uy, uz = u[:, 0], u[:, 1], u[:, 2]
    k = Q14 + uz
    rxy = -_div_round(ux * uy, k)
    rot = np.stack([
        np.stack([Q14 - _div_round(ux * ux, k), rxy, -ux], axis=1),
        np.stack([rxy, Q14 - _div_round(uy * uy, k), -uy], axis=1),
        np.stack([ux, uy, uz], axis=1),
    ], axis=1)  # (N, 3, 3) in Q14
    motion = w[:, :, :3] - m[:, None, :]
    out = np.empty_like(w)
    out[:, :, :3] = _div_round(np.einsum("nij,ntj->nti", rot, motion) * FIXED_PER_UNIT,
                               (norm * Q14)[:, None, None])
    if cfg.motion_rms:
        power = (out[:, :, :3] ** 2).sum(axis=(1, 2)) // n_win
        rms = np.maximum(isqrt(power), cfg.motion_rms_floor)
        out[:, :, :3] = _div_round(out[:, :, :3] * cfg.motion_rms, rms[:, None, None])
    for start in range(3, w.shape[2], 3):
        out[:, :, start:start + 3] = _div_round(np.einsum("nij,ntj->nti", rot, w[:, :, start:start + 3]), Q14)
    return np.clip(out, -cfg.clip, cfg.clip).astype(np.int32).reshape(shape)


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
                window = gravity_frame(dec[emitted - cfg.window:emitted], cfg)
                out.append((i, quantize_fixed(window, multiplier, zero_point)))
        before = emitted
    return out
