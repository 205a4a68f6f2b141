"""Speech Commands layout: DIR/<word>/*.wav|flac|ogg, DIR/_background_noise_/*, optional DIR/_silence_/.

Clips become 1 s, 16 kHz int16 (other rates are resampled, other lengths padded or trimmed,
with one warning line per kind). Splits follow the official hash-of-speaker scheme, or
validation_list.txt / testing_list.txt when present, so a speaker never lands in two splits.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tinyml.errors import TinyMLError
from tinyml.files import note_unused
from tinyml.names import recorder_of
from tinyml.progress import progress

SILENCE = "silence"
UNKNOWN = "unknown"
NOISE_DIR = "_background_noise_"
SILENCE_DIR = "_silence_"
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


@dataclass(frozen=True, eq=False)
class GeneratedSilence:
    """A silence clip made when it is used (from its own seed), so listing holds no audio."""

    noise: list
    """Background recordings to take a quiet excerpt from (shared, not copied)."""
    samples: int
    """Clip length."""
    seed: tuple[int, int]
    """(dataset seed, clip number): the clip's own random stream."""

    def __call__(self) -> np.ndarray:
        return silence_clip(self.noise, self.samples, np.random.default_rng(self.seed))


@dataclass(frozen=True)
class SpeechClip:
    """One labelled 1 s clip, held in memory or listed from a file and read when used."""

    data: np.ndarray | GeneratedSilence | None
    """int16 mono samples at the task's sample rate, exactly clip length; None for a clip listed
    from disk, or the recipe of a generated one, so a dataset of 100k clips holds no raw audio."""
    label: str
    """Class: a wanted word, 'silence' or 'unknown'."""
    person: str
    """Speaker id (file name before '_nohash_'), used for speaker-disjoint splits."""
    source: str
    """File path (or a synthetic description)."""
    sample_rate: int = 16000
    """Rate a listed file is converted to when read."""
    clip_samples: int = 16000
    """Length a listed file is padded or trimmed to when read."""

    @property
    def audio(self) -> np.ndarray:
        """The samples: in memory, or read from `source` each time (callers read a clip once per use)."""
        if isinstance(self.data, np.ndarray):
            return self.data
        if self.data is not None:
            return self.data()
        return fit_clip(loudest_window(read_wav(Path(self.source), self.sample_rate), self.clip_samples),
                        self.clip_samples)

    @property
    def file_key(self) -> str | None:
        """Identity of a listed file (path, size, modification time) for the feature cache, so a cached
        clip is never decoded; None for a clip in memory."""
        if self.data is not None:
            return None
        st = Path(self.source).stat()
        return (f"{Path(self.source).resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.sample_rate}|{self.clip_samples}"
                "|loudest")


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def audio_files(folder: Path, unused: list[str] | None = None) -> list[Path]:
    """The clips in a folder; anything else in it (dot files such as macOS's `._x.wav`, other
    files, sub-folders) is appended to `unused` as 'folder/name'."""
    from tinyml.files import is_hidden

    if not folder.is_dir():
        return []
    clips = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and not is_hidden(p):
            clips.append(p)
        elif unused is not None:
            unused.append(f"{folder.name}/{p.name}")
    return clips


def _open_audio(path: Path, call):
    """`call(soundfile)` on a regular audio file, with anything unreadable (or no channels, no rate)
    turned into one line naming the file; returns (result, rate, channels) as `call` gives them."""
    import soundfile

    from tinyml.files import MB, require_regular

    require_regular(path, "an audio file (WAV, FLAC or OGG)", 2048 * MB)
    try:
        result, rate, channels = call(soundfile)
    except (RuntimeError, OSError, ValueError, TypeError, soundfile.LibsndfileError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].replace(f"'{path}'", "").replace(str(path), "")
        reason = reason.replace("Error opening :", "").strip()[:100]
        raise TinyMLError(f"{path}: not a readable WAV, FLAC or OGG file ({reason}); re-record or delete it") from None
    if rate <= 0 or channels == 0:
        raise TinyMLError(f"{path}: audio with {channels} channels at {rate} Hz; re-record or delete it")
    return result, rate, channels


def list_clip(path: Path, label: str, sample_rate: int, clip_samples: int, notes: Counter | None = None) -> SpeechClip:
    """A clip listed from its file's header alone (rate, length, readable); the samples are read when
    used. An unreadable header is a one-line error naming the file, before any training starts."""
    def header(soundfile):
        info = soundfile.info(str(path))
        return info, info.samplerate, info.channels

    info, _, _ = _open_audio(path, header)
    if notes is not None:
        length = info.frames
        if info.samplerate != sample_rate:
            notes[f"resampled from {info.samplerate} Hz"] += 1
            length = -(-info.frames * sample_rate // info.samplerate)
        if length != clip_samples:
            notes["padded" if length < clip_samples else "longer"] += 1
    return SpeechClip(None, label, recorder_of(str(path)), str(path), sample_rate, clip_samples)


def read_wav(path: Path, sample_rate: int, notes: Counter | None = None) -> np.ndarray:
    """Mono int16 at sample_rate from WAV (any bit depth, float), FLAC or OGG, read with soundfile;
    an unreadable file raises a one-line error naming it."""
    def samples(soundfile):
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
        return data, rate, data.shape[1]

    data, rate, _ = _open_audio(path, samples)
    data = data.mean(1) * 32768.0  # soundfile scales every format to [-1, 1)
    if rate != sample_rate:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(rate), sample_rate)
        data = resample_poly(data, sample_rate // g, int(rate) // g)
        if notes is not None:
            notes[f"resampled from {rate} Hz"] += 1
    return np.clip(np.round(data), -32768, 32767).astype(np.int16)


def loudest_window(audio: np.ndarray, n: int) -> np.ndarray:
    """The `n` consecutive samples with the most energy: where the word is in a clip longer than the
    model's window (a 2 s capture with the word at 0.8 s keeps the word, not the first second)."""
    if len(audio) <= n:
        return audio
    power = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    start = int(np.argmax(power[n:] - power[:-n]))
    return audio[start:start + n]


def fit_clip(audio: np.ndarray, n: int, notes: Counter | None = None) -> np.ndarray:
    if len(audio) != n and notes is not None:
        notes["padded" if len(audio) < n else "trimmed"] += 1
    if len(audio) >= n:
        return audio[:n]
    return np.concatenate([audio, np.zeros(n - len(audio), dtype=np.int16)])


def which_set(path: str, validation_percentage: float = 10.0, testing_percentage: float = 10.0) -> str:
    """The official Speech Commands split: a hash of the speaker id picks the set."""
    hashed = hashlib.sha1(recorder_of(path).encode("utf-8")).hexdigest()
    percentage = (int(hashed, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percentage < validation_percentage:
        return "validation"
    if percentage < validation_percentage + testing_percentage:
        return "testing"
    return "training"


def list_split(root: Path) -> dict[str, str]:
    """{relative path: 'validation'|'testing'} from the dataset's list files, if it has them."""
    out = {}
    for name, split in (("validation_list.txt", "validation"), ("testing_list.txt", "testing")):
        f = root / name
        if f.is_file():
            for line in f.read_text().splitlines():
                if line.strip():
                    out[line.strip()] = split
    return out


def noise_folder(root: Path) -> Path:
    """A dataset's background-noise folder; a root that is itself `_background_noise_` is one."""
    root = Path(root)
    return root if root.name == NOISE_DIR else root / NOISE_DIR


def load_noise(root: Path, sample_rate: int, unused: list[str] | None = None) -> list[np.ndarray]:
    return [read_wav(p, sample_rate) for p in audio_files(noise_folder(root), unused)]


def load_speech_dir(root, words: tuple[str, ...], sample_rate: int = 16000, clip_samples: int = 16000,
                    unknown_ratio: float = 1.0, silence_ratio: float = 1.0, seed: int = 0,
                    max_per_word: int | None = None, every_clip: bool = False) -> list[SpeechClip]:
    """Clips for `words` + 'silence' + 'unknown' (other words, about unknown_ratio × a word's count).

    `every_clip` takes every unknown-word clip and every _silence_ file (generated silence keeps its
    share). Files are listed from their headers and read when used (`SpeechClip.audio`); generated
    silence is made when used.

    `root` is one folder or a list of them, read as one dataset: a wanted word needs clips in at
    least one; a `_background_noise_` folder given on its own adds noise only."""
    roots = [Path(r) for r in (root if isinstance(root, (list, tuple)) else [root])]
    for r in roots:
        if not r.is_dir():
            raise TinyMLError(f"{r}: no such folder; pass a folder in the Speech Commands layout")
    word_roots = [r for r in roots if r.name != NOISE_DIR]
    shown = ", ".join(str(r) for r in roots)
    rng = np.random.default_rng(seed)
    notes: Counter = Counter()
    clips: list[SpeechClip] = []
    per_word = []
    unused: list[str] = []
    for word in words:
        files = [f for r in word_roots for f in audio_files(r / word, unused)][:max_per_word]
        if not files:
            raise TinyMLError(f"class '{word}' has no clips in {shown}; each wanted word needs DIR/<word>/*.wav "
                              "(or .flac/.ogg) in one of the --data folders")
        per_word.append(len(files))
        clips += [list_clip(f, word, sample_rate, clip_samples, notes) for f in progress(files, f"listing {word}")]
    typical = int(np.mean(per_word))
    others = [f for r in word_roots for d in sorted(p for p in r.iterdir() if p.is_dir() and not p.name.startswith("_")
                                                    and not p.name.startswith("."))
              if d.name not in words for f in audio_files(d, unused)]
    known = {*words, NOISE_DIR, SILENCE_DIR, "validation_list.txt", "testing_list.txt"}
    unused += [p.name for r in word_roots for p in sorted(r.iterdir())
               if p.name not in known and (not p.is_dir() or p.name.startswith((".", "_")))]
    if others:
        pick = rng.permutation(len(others))[: None if every_clip else int(typical * unknown_ratio)]
        clips += [list_clip(others[i], UNKNOWN, sample_rate, clip_samples, notes)
                  for i in progress(sorted(pick), "listing unknown words")]
    silence_files = [f for r in word_roots for f in audio_files(r / SILENCE_DIR, unused)]
    if silence_files:
        clips += [replace(list_clip(f, SILENCE, sample_rate, clip_samples, notes), person=f"silence-{i}")
                  for i, f in enumerate(silence_files[: None if every_clip else int(typical * silence_ratio)])]
    else:
        noise = [n for r in roots for n in load_noise(r, sample_rate, unused)]
        for i in range(int(typical * silence_ratio)):
            clips.append(SpeechClip(GeneratedSilence(noise, clip_samples, (seed, i)), SILENCE, f"silence-{i}",
                                    "generated", sample_rate, clip_samples))
    note_unused(unused, shown, "clips in a word, _silence_ or _background_noise_ folder")
    for what, count in sorted(notes.items()):
        if what == "longer":
            print(f"tinyml: note: {count} clips are longer than {clip_samples / sample_rate:g} s: each keeps its "
                  f"loudest {clip_samples / sample_rate:g} s (where the word is)", file=sys.stderr)
        else:
            print(f"tinyml: warning: {count} clips {what} to {clip_samples / sample_rate:g} s at {sample_rate} Hz",
                  file=sys.stderr)
    return clips


def silence_clip(noise: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """Quiet background: a random noise excerpt at low volume, or near-zero hiss without noise files."""
    if noise:
        src = noise[rng.integers(len(noise))]
        start = rng.integers(0, max(1, len(src) - n))
        base = fit_clip(src[start:start + n], n).astype(np.float64)
        return np.clip(base * rng.uniform(0, 0.3), -32768, 32767).astype(np.int16)
    return np.clip(rng.normal(0, rng.uniform(1, 30), n), -32768, 32767).astype(np.int16)


def augment_clip(audio: np.ndarray, noise: list[np.ndarray], rng: np.random.Generator, shift_ms: int = 100,
                 noise_volume: float = 0.1, noise_prob: float = 0.8, sample_rate: int = 16000) -> np.ndarray:
    """Time shift, volume change and background-noise mixing (the reference recipe)."""
    n = len(audio)
    shift = int(rng.integers(-shift_ms, shift_ms + 1) * sample_rate / 1000)
    x = np.zeros(n, dtype=np.float64)
    if shift >= 0:
        x[shift:] = audio[: n - shift]
    else:
        x[: n + shift] = audio[-shift:]
    x *= rng.uniform(0.6, 1.4)
    if noise and rng.random() < noise_prob:
        src = noise[rng.integers(len(noise))]
        start = rng.integers(0, max(1, len(src) - n))
        x += fit_clip(src[start:start + n], n).astype(np.float64) * rng.uniform(0, noise_volume)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """The clip played `factor` times as fast (tempo and pitch together, as a tape runs faster),
    resampled by linear interpolation and centred in the clip's own length: a faster copy gets
    silence around it, a slower one loses as much of its edges, where the word rarely is."""
    n = len(audio)
    m = max(1, int(round(n / factor)))
    played = np.interp(np.arange(m) * factor, np.arange(n), audio.astype(np.float64))
    out = np.zeros(n, dtype=np.float64)
    if m >= n:
        out[:] = played[(m - n) // 2:(m - n) // 2 + n]
    else:
        out[(n - m) // 2:(n - m) // 2 + m] = played
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def build_stream(clips: list[SpeechClip], noise: list[np.ndarray], seconds: float, words: tuple[str, ...],
                 seed: int = 0, sample_rate: int = 16000) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """A long recording: clips every 2–4 s over background noise; ground truth (word, start ms) for words."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    out = np.zeros(n, dtype=np.float64)
    if noise:
        for start in range(0, n, sample_rate):
            src = noise[rng.integers(len(noise))]
            offset = int(rng.integers(0, max(1, len(src) - sample_rate)))
            piece = src[offset:offset + sample_rate].astype(np.float64) * rng.uniform(0.02, 0.15)
            out[start:start + len(piece)] += piece[: n - start]
    speech = [c for c in clips if c.label in words or c.label == UNKNOWN]
    if not speech:
        raise TinyMLError("no word or unknown clips to build a stream from")
    truth = []
    t = int(rng.uniform(1.0, 2.0) * sample_rate)
    while t + sample_rate < n:
        clip = speech[rng.integers(len(speech))]
        out[t:t + len(clip.audio)] += clip.audio
        if clip.label in words:
            truth.append((clip.label, int(t * 1000 // sample_rate)))
        t += int(rng.uniform(2.0, 4.0) * sample_rate)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16), truth


def write_wav(path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit mono WAV, written atomically (a failure leaves the old file or none)."""
    import io
    import wave

    from tinyml.files import write_bytes_atomic

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(audio, dtype="<i2").tobytes())
    write_bytes_atomic(Path(path), buf.getvalue())
