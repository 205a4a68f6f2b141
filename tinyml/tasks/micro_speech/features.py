"""Speech features: the TFLM micro front end, bit-exact with the device.

Training uses TensorFlow's `audio_microfrontend` op, which is the same C library
(tensorflow/lite/experimental/microfrontend/lib) that Chirale_TensorFlowLite compiles
for the board. The 16-bit front-end output v becomes int8 exactly as the TFLM
micro_speech device code does: (v * 256 + 333) / 666 - 128, integer arithmetic, clamped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

# Real value of one int8 feature step as the model sees it: v * 10/256, quantized by the
# device formula above → scale 666/256 * 10/256 and zero point -128 (the reference model's).
INPUT_SCALE = 0.10171568393707275
INPUT_ZERO_POINT = -128
# The device's integer conversion of a 16-bit front-end value v: (v * 256 + ROUND) / DIVISOR - 128.
# The sketch's FeatureToInt8 is rendered from these, so there is one copy.
INT8_MULTIPLIER = 256
INT8_ROUND = 333
INT8_DIVISOR = 666


@dataclass(frozen=True, kw_only=True)
class FrontendSettings:
    """Micro front-end settings shared by training and the generated sketch."""

    sample_rate: int = 16000
    """Audio sample rate in Hz."""
    clip_ms: int = 1000
    """Length of one model input in milliseconds."""
    window_ms: int = 30
    """FFT window length in milliseconds."""
    stride_ms: int = 20
    """Hop between windows in milliseconds."""
    channels: int = 40
    """Mel filterbank channels (features per slice)."""
    lower_band_hz: float = 125.0
    """Lowest filterbank frequency."""
    upper_band_hz: float = 7500.0
    """Highest filterbank frequency."""
    smoothing_bits: int = 10
    """Noise-reduction smoothing precision bits."""
    even_smoothing: float = 0.025
    """Noise estimate smoothing for even channels."""
    odd_smoothing: float = 0.06
    """Noise estimate smoothing for odd channels."""
    min_signal_remaining: float = 0.05
    """Fraction of signal kept after noise reduction."""
    pcan_strength: float = 0.95
    """Per-channel amplitude normalization strength."""
    pcan_offset: float = 80.0
    """PCAN offset."""
    gain_bits: int = 21
    """PCAN gain bits."""
    scale_shift: int = 6
    """Log-scale shift."""

    @property
    def samples(self) -> int:
        return self.sample_rate * self.clip_ms // 1000

    @property
    def slices(self) -> int:
        """Feature slices per clip (49 for 1000 ms with 30 ms windows every 20 ms)."""
        return (self.clip_ms - self.window_ms) // self.stride_ms + 1

    @property
    def slice_samples(self) -> int:
        return self.sample_rate * self.stride_ms // 1000

    @property
    def window_samples(self) -> int:
        return self.sample_rate * self.window_ms // 1000


def frontend_uint16(audio: np.ndarray, s: FrontendSettings = FrontendSettings()) -> np.ndarray:
    """int16 mono audio → (slices, channels) 16-bit front-end output, state fresh per clip."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    from tensorflow.lite.experimental.microfrontend.python.ops import audio_microfrontend_op as fe

    out = fe.audio_microfrontend(
        tf.convert_to_tensor(np.asarray(audio, dtype=np.int16)), sample_rate=s.sample_rate,
        window_size=s.window_ms, window_step=s.stride_ms, num_channels=s.channels,
        upper_band_limit=s.upper_band_hz, lower_band_limit=s.lower_band_hz, smoothing_bits=s.smoothing_bits,
        even_smoothing=s.even_smoothing, odd_smoothing=s.odd_smoothing,
        min_signal_remaining=s.min_signal_remaining, enable_pcan=True, pcan_strength=s.pcan_strength,
        pcan_offset=s.pcan_offset, gain_bits=s.gain_bits, enable_log=True, scale_shift=s.scale_shift,
        out_scale=1, out_type=tf.uint16)
    return out.numpy().astype(np.int32)


def to_int8(v: np.ndarray) -> np.ndarray:
    """Front-end output → int8 as the device code computes it (integer, truncating division)."""
    v = np.asarray(v, dtype=np.int64)
    q = (v * INT8_MULTIPLIER + INT8_ROUND) // INT8_DIVISOR + INPUT_ZERO_POINT  # v >= 0: floor == C's truncation
    return np.clip(q, -128, 127).astype(np.int8)


def features_int8(audio: np.ndarray, s: FrontendSettings = FrontendSettings()) -> np.ndarray:
    """One clip (padded/trimmed to clip_ms) → (slices, channels) int8 model input."""
    audio = fit_length(np.asarray(audio, dtype=np.int16), s.samples)
    return to_int8(frontend_uint16(audio, s))[: s.slices]


def fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    if len(audio) >= n:
        return audio[:n]
    return np.concatenate([audio, np.zeros(n - len(audio), dtype=audio.dtype)])


def dequantize(q: np.ndarray) -> np.ndarray:
    """Float model input for int8 features (the model's input quantization is fixed to this)."""
    return (np.asarray(q, dtype=np.float32) - INPUT_ZERO_POINT) * np.float32(INPUT_SCALE)
