"""Synthetic speech corpus: generated voices saying the wanted words, other words, and noise.

Two speech engines:
- eSpeak NG comes from the `espeakng-loader` wheel (library + voice data, no system package) and
  is called through ctypes in synchronous mode: formant voices, many variants.
- Flite (CMU, BSD licence) is the system program `flite` (`apt-get install flite`, `brew install
  flite`) when it is installed: five voices built from recordings of people (kal16, awb, rms, slt,
  and kal at 8 kHz), speed 0.8-1.3x and mean pitch 80-230 Hz. Real speakers vary far more than
  eSpeak's variants; with these mixed in, a synthetic-only model scores higher on the real test
  clips (README). Without the program, eSpeak NG speaks every word and the caller says so.

Voices, variants, pitch and speed vary per clip; each utterance is resampled (speed), given a
synthetic room and a microphone band, then placed at a random offset in 1 s with generated noise
(white, pink, brown, mains hum) under it. Deterministic for a seed and the engines present.
"""

from __future__ import annotations

import ctypes
import functools
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

from tinyml.tasks.micro_speech.data import SILENCE, UNKNOWN, SpeechClip, fit_clip
from tinyml.errors import TinyMLError

# other words; none may sound like a wanted word ("know" is "no" spoken: it taught "no" is unknown)
UNKNOWN_WORDS = (
    "cat", "dog", "bird", "house", "tree", "left", "right", "up", "down", "on", "off", "stop", "go", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero", "wow", "bed", "happy", "learn",
    "follow", "forward", "backward", "visual", "sheila", "marvin", "yesterday", "yellow", "nose",
    "less", "test", "noted", "yet", "nope", "guess",
)
VOICES = ("en-us", "en", "en-gb-x-rp", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
# the voices Debian's flite 2.2 has built in, less awb_time (it only knows how to say the time)
FLITE_VOICES = ("kal16", "awb", "rms", "slt", "kal")
VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "croak", "whisper")

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 2, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_lock = threading.Lock()


class _ESpeak:
    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise TinyMLError("synthetic speech needs eSpeak NG (GPL-3.0), an optional extra: "
                              "pip install 'tinyml[speech-synth]', or train micro_speech with --data") from None
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, ctypes.c_char_p(data), 0)
        if self.rate <= 0:
            raise TinyMLError("eSpeak NG failed to initialise from the espeakng-loader data")
        self.chunks: list[np.ndarray] = []

        def collect(wav, n, _events):
            if n > 0 and wav:
                self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(collect)  # keep a reference: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def say(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise TinyMLError(f"eSpeak NG has no voice '{voice}'")
        self.lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
        self.lib.espeak_SetParameter(_ESPEAK_RANGE, pitch_range, 0)
        self.lib.espeak_SetParameter(_ESPEAK_VOLUME, 100, 0)
        self.chunks = []
        if hasattr(self.lib, "espeak_ng_SetRandSeed"):
            self.lib.espeak_ng_SetRandSeed(1)  # eSpeak jitters pitch with its own generator
        buf = ctypes.create_string_buffer(text.encode() + b"\0")
        self.lib.espeak_Synth(buf, len(text) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
        self.lib.espeak_Synchronize()
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


@functools.lru_cache(maxsize=1)
def _engine() -> _ESpeak:
    return _ESpeak()


def _trimmed(audio: np.ndarray, src_rate: int, sample_rate: int) -> np.ndarray:
    """Audio resampled to sample_rate as int16, leading/trailing silence trimmed."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(src_rate, sample_rate)
    audio = resample_poly(audio.astype(np.float64), sample_rate // g, src_rate // g)
    loud = np.flatnonzero(np.abs(audio) > 300)
    if len(loud):
        audio = audio[loud[0]:loud[-1] + 1]
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def speak(text: str, voice: str, rate: int, pitch: int, pitch_range: int, sample_rate: int) -> np.ndarray:
    """int16 audio of `text` spoken by eSpeak NG at sample_rate, leading/trailing silence trimmed."""
    with _lock:
        eng = _engine()
        audio = eng.say(text, voice, rate, pitch, pitch_range)
        src_rate = eng.rate
    return _trimmed(audio, src_rate, sample_rate)


def flite_program() -> str | None:
    """The `flite` program's path, or None when it is not installed."""
    return shutil.which("flite")


def flite_say(program: str, text: str, voice: str, stretch: float, f0_hz: float, sample_rate: int,
              workdir: str) -> np.ndarray:
    """int16 audio of `text` spoken by a Flite voice (speed by duration_stretch, mean pitch f0_hz),
    brought to eSpeak's loudness and trimmed like speak()."""
    out = Path(workdir) / "word.wav"
    proc = subprocess.run([program, "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}",
                           "--setf", f"int_f0_target_mean={f0_hz:.1f}", "-t", text, "-o", str(out)],
                          capture_output=True)
    if proc.returncode != 0 or not out.exists():
        raise TinyMLError(f"flite could not say '{text}' with voice {voice} (exit {proc.returncode}); "
                          "set synthetic_flite_share=0 to use eSpeak NG only")
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
    audio *= 20000 / (np.max(np.abs(audio)) + 1e-9)  # flite voices differ in level; eSpeak peaks near here
    return _trimmed(audio, rate, sample_rate)


def generated_noise(sample_rate: int, seed: int, seconds: float = 10.0) -> list[np.ndarray]:
    """White, pink, brown noise and 50/60 Hz hum with harmonics, 16-bit, about -20 dBFS."""
    rng = np.random.default_rng(seed + 7919)
    n = int(seconds * sample_rate)
    white = rng.normal(0, 1, n)
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), 1.0)
    pink = np.fft.irfft(spectrum / np.sqrt(f), n)
    brown = np.fft.irfft(spectrum / f, n)
    t = np.arange(n) / sample_rate
    hum = sum(np.sin(2 * np.pi * k * mains * t) / k for mains in (50, 60) for k in (1, 2, 3))
    out = []
    for sig in (white, pink, brown, hum):
        sig = sig / (np.std(sig) + 1e-9) * 3000
        out.append(np.clip(sig, -32768, 32767).astype(np.int16))
    return out


def _room(word: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """What a real recording adds to a clean synthetic voice: speaking speed (resampling by
    0.85–1.15), a room (an exponentially decaying noise impulse response, RT60 0.1–0.6 s, mixed
    in at random strength) and a cheap microphone's band (first-order high- and low-pass)."""
    from scipy.signal import lfilter, resample_poly

    x = word.astype(np.float64)
    speed = rng.uniform(0.85, 1.15)
    up = 100
    x = resample_poly(x, up, int(round(up * speed)))
    if rng.random() < 0.7:
        rt60 = rng.uniform(0.1, 0.6)
        n = int(rt60 * sample_rate)
        t = np.arange(n) / sample_rate
        ir = rng.normal(0, 1, n) * np.exp(-6.9 * t / rt60)
        ir[0] = 0
        ir /= np.sqrt(np.sum(ir ** 2)) + 1e-9
        wet = np.convolve(x, ir)[: len(x) + n // 4]
        dry = np.concatenate([x, np.zeros(len(wet) - len(x))])
        x = dry + rng.uniform(0.1, 0.6) * wet
    hp = np.exp(-2 * np.pi * rng.uniform(80, 300) / sample_rate)
    x = lfilter([1 - hp, -(1 - hp)], [1, -hp], x)
    lp = np.exp(-2 * np.pi * rng.uniform(3000, 7000) / sample_rate)
    x = lfilter([1 - lp], [1, -lp], x)
    peak = np.max(np.abs(x)) + 1e-9
    x = x / peak * np.max(np.abs(word))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _place(word: np.ndarray, n: int, noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    word = word[:n].astype(np.float64) * rng.uniform(0.3, 1.0)
    out = np.zeros(n)
    start = int(rng.integers(0, n - len(word) + 1))
    out[start:start + len(word)] = word
    src = noise[rng.integers(len(noise))]
    offset = int(rng.integers(0, len(src) - n))
    out += src[offset:offset + n] * rng.uniform(0.0, 0.15)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def synthetic_speech(words: tuple[str, ...], n_per_class: int, seed: int = 0, sample_rate: int = 16000,
                     clip_samples: int = 16000, *, unknown_ratio: float = 1.0, silence_ratio: float = 1.0,
                     flite_share: float = 0.0) -> list[SpeechClip]:
    """n_per_class clips for each wanted word, unknown_ratio × n_per_class of 'unknown' (other words)
    and silence_ratio × n_per_class of 'silence' (noise); flite_share of the words are spoken by Flite
    when the `flite` program is installed (else a one-line note, and eSpeak NG speaks them all).

    eSpeak NG keeps synthesis state from one utterance to the next inside a process, so the
    corpus is generated in a fresh child process: same seed, same bytes, whatever ran before.
    """
    import pickle
    import sys

    flite = flite_program() if flite_share > 0 else None
    if flite_share > 0 and flite is None:
        print("tinyml: note: the flite program is not installed, so eSpeak NG speaks every synthetic word; "
              "install it (apt-get install flite) for voices recorded from people")
    counts = {**{w: n_per_class for w in words}, UNKNOWN: int(round(n_per_class * unknown_ratio)),
              SILENCE: int(round(n_per_class * silence_ratio))}
    args = pickle.dumps((tuple(words), counts, seed, sample_rate, clip_samples, flite_share if flite else 0.0,
                         flite))
    proc = subprocess.run([sys.executable, "-m", "tinyml.tasks.micro_speech.synthetic"], input=args, capture_output=True)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise TinyMLError(f"synthetic speech generation failed: {tail[0][:300]}")
    ok, value = pickle.loads(proc.stdout)
    if not ok:
        raise TinyMLError(value)
    return value


def _generate(words, counts, seed, sample_rate, clip_samples, flite_share, flite) -> list[SpeechClip]:
    rng = np.random.default_rng(seed)
    noise = generated_noise(sample_rate, seed)
    others = [w for w in UNKNOWN_WORDS if w not in words]
    clips = []
    with tempfile.TemporaryDirectory() as workdir:
        # round i makes one clip of every class that still needs one
        for i in range(max(counts.values())):
            for label in (*words, UNKNOWN, SILENCE):
                if i >= counts[label]:
                    continue
                voice = VOICES[rng.integers(len(VOICES))]
                variant = VARIANTS[rng.integers(len(VARIANTS))]
                speaker = f"{voice}+{variant}" if variant else voice
                if label == SILENCE:
                    src = noise[rng.integers(len(noise))]
                    offset = int(rng.integers(0, len(src) - clip_samples))
                    audio = (src[offset:offset + clip_samples] * rng.uniform(0, 0.3)).astype(np.int16)
                    clips.append(SpeechClip(audio, SILENCE, f"silence-{i % 10}", f"synthetic:{seed}:silence:{i}"))
                    continue
                text = others[rng.integers(len(others))] if label == UNKNOWN else label
                rate, pitch, pitch_range = (int(rng.integers(120, 260)), int(rng.integers(20, 80)),
                                            int(rng.integers(20, 80)))
                if flite_share > 0 and rng.random() < flite_share:
                    voice = FLITE_VOICES[rng.integers(len(FLITE_VOICES))]
                    speaker = f"flite-{voice}"
                    word = flite_say(flite, text, voice, rng.uniform(0.8, 1.3), rng.uniform(80, 230), sample_rate,
                                     workdir)
                else:
                    word = speak(text, speaker, rate, pitch, pitch_range, sample_rate)
                word = _room(word, sample_rate, rng)
                audio = _place(fit_clip(word, min(len(word), clip_samples)), clip_samples, noise, rng)
                clips.append(SpeechClip(audio, label, speaker, f"synthetic:{seed}:{label}:{i}:{text}"))
    return clips


if __name__ == "__main__":
    import pickle
    import sys

    request = pickle.loads(sys.stdin.buffer.read())
    try:
        result = (True, _generate(*request))
    except TinyMLError as exc:
        result = (False, str(exc))
    sys.stdout.buffer.write(pickle.dumps(result))
