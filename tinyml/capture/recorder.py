"""Turning a message stream into validated samples, and samples into dataset files.

`SampleCollector` is pure: feed it parsed messages, it returns finished samples or the reason
a partial one was discarded (sequence gap, board reset, wrong rate). `write_sample` is the
thin writer: temporary file then rename, so an interrupted write never leaves half a file,
and the dataset manifest is rewritten the same way.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
import wave
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml.capture.protocol import SEQ_MOD, Hello, Message, decode_audio, decode_frame_part, decode_sample
from tinyml.errors import TinyMLError

RATE_TOLERANCE = 0.2
"""A sample is kept only if its rate, measured from device timestamps, is within 20 % of nominal."""


@dataclass
class Sample:
    """One finished recording."""

    kind: str
    """'motion', 'audio' or 'image'."""
    t_us: np.ndarray
    """Device timestamps (µs) of rows / frames."""
    data: np.ndarray
    """motion: (rows, axes) float; audio: int16 samples; image: (h, w) uint8."""
    rate_hz: float
    """Rate measured from device timestamps."""


@dataclass
class Stats:
    samples_discarded: int = 0
    gaps: int = 0
    resets: int = 0
    reasons: list = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    """Why messages did not become part of a sample, counted even when no sample was under way."""
    rows_seen: int = 0
    """Valid data messages taken into a sample."""
    stale_rows: int = 0
    """Data the board sent after a sample was complete, before it acknowledged STOP (not a fault)."""


def _kind_of(reason: str) -> str:
    """A discard reason without its particulars, so the watchdog can count kinds."""
    return reason.split("→")[0].rstrip(" 0123456789") if reason.startswith("sequence gap") else reason


class SampleCollector:
    """Collects one sample of `seconds` from S or A messages (or one frame from F messages)."""

    def __init__(self, hello: Hello, seconds: float):
        self.hello = hello
        self.seconds = seconds
        self.stats = Stats()
        self.reset()

    def reset(self) -> None:
        self.rows: list = []
        self.times: list[int] = []
        self.last_seq: int | None = None
        self.parts: dict[int, bytes] = {}

    def discard(self, reason: str) -> None:
        self.stats.problems[_kind_of(reason)] += 1
        if self.rows or self.parts:
            self.stats.samples_discarded += 1
            self.stats.reasons.append(reason)
        self.reset()

    def _check_seq(self, seq: int) -> bool:
        """False on a gap: the partial sample goes, and the next sample counts on from `seq`."""
        gap = self.last_seq is not None and seq != (self.last_seq + 1) % SEQ_MOD
        if gap:
            self.stats.gaps += 1
            self.discard(f"sequence gap {self.last_seq}→{seq}")  # resets last_seq, so it is set after
        self.last_seq = seq
        return not gap

    def _append(self, seq: int, t_us: int, row, kind: str) -> Sample | None:
        """One row of a motion or audio sample, in order or the partial sample goes; a finished sample, or None."""
        if self.times and t_us < self.times[-1]:
            self.discard("device timestamps going backwards")
            return None
        if not self._check_seq(seq):
            return None
        self.stats.rows_seen += 1
        self.rows.append(row)
        self.times.append(t_us)
        return self._finish_if_long(kind)

    def feed(self, msg: Message) -> Sample | None:
        """A finished sample, or None. HELLO mid-sample means the board reset: the partial sample goes."""
        try:
            if msg.kind == "HELLO":
                self.stats.resets += 1
                self.discard("board reset")
                return None
            if msg.kind == "S":
                seq, t_us, values = decode_sample(msg)
                if len(values) != len(self.hello.axes):
                    self.discard(f"rows with {len(values)} values where HELLO announced {len(self.hello.axes)} axes")
                    return None
                if not all(math.isfinite(v) for v in values):
                    self.discard("rows with nan or inf values")
                    return None
                return self._append(seq, t_us, values, "motion")
            if msg.kind == "A":
                seq, t_us, samples = decode_audio(msg)
                if len(samples) == 0:
                    self.discard("empty audio frames")
                    return None
                return self._append(seq, t_us, samples, "audio")
            if msg.kind == "F":
                seq, t_us, w, h, part, parts, data = decode_frame_part(msg)
                if not self._check_seq(seq):
                    return None
                self.parts[part] = data
                if len(self.parts) == parts:
                    raw = b"".join(self.parts[i] for i in range(parts))
                    self.reset()
                    if len(raw) != w * h:
                        self.stats.samples_discarded += 1
                        self.stats.reasons.append("frame size mismatch")
                        return None
                    return Sample("image", np.array([t_us]), np.frombuffer(raw, np.uint8).reshape(h, w),
                                  self.hello.rate_hz)
        except (ValueError, IndexError):
            self.discard("undecodable message")
        return None

    def _finish_if_long(self, kind: str) -> Sample | None:
        if kind == "audio":
            n = sum(len(r) for r in self.rows)
            if n < int(self.seconds * self.hello.rate_hz):
                return None
            frame = len(self.rows[0])
            span = (self.times[-1] - self.times[0]) * 1e-6
            rate = (len(self.rows) - 1) * frame / span if span > 0 else 0.0
            data = np.concatenate(self.rows)[: int(self.seconds * self.hello.rate_hz)]
        else:
            if not self.times or (self.times[-1] - self.times[0]) * 1e-6 < self.seconds:
                return None
            span = (self.times[-1] - self.times[0]) * 1e-6
            rate = (len(self.times) - 1) / span
            data = np.asarray(self.rows, dtype=np.float64)
        times = np.asarray(self.times, dtype=np.int64)
        self.reset()
        if abs(rate - self.hello.rate_hz) > RATE_TOLERANCE * self.hello.rate_hz:
            self.stats.samples_discarded += 1
            self.stats.reasons.append(f"rate {rate:.1f} Hz, nominal {self.hello.rate_hz:g} Hz")
            self.stats.problems[f"samples at {rate:.1f} Hz where HELLO announced {self.hello.rate_hz:g} Hz"] += 1
            return None
        return Sample(kind, times, data, rate)


# ---- files ---------------------------------------------------------------------------------

def sample_bytes(sample: Sample, hello: Hello, label: str, person: str) -> tuple[bytes, str]:
    """The file content and extension in the format the task's loader reads."""
    if sample.kind == "motion":
        meta = {"board": hello.board, "sensor": hello.sensor, "units": hello.units[0], "rate_hz": round(sample.rate_hz, 3),
                "nominal_rate_hz": hello.rate_hz, "label": label, "person": person, "axes": list(hello.axes)}
        lines = ["# tinyml-capture " + json.dumps(meta, sort_keys=True), ",".join(["t_us", "seq", *hello.axes])]
        t0 = int(sample.t_us[0])
        for i, (t, row) in enumerate(zip(sample.t_us, sample.data)):
            lines.append(",".join([str(int(t) - t0), str(i), *(f"{v:.6g}" for v in row)]))
        return ("\n".join(lines) + "\n").encode(), ".csv"
    if sample.kind == "audio":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(int(round(hello.rate_hz)))
            w.writeframes(np.asarray(sample.data, dtype="<i2").tobytes())
        return buf.getvalue(), ".wav"
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(sample.data, mode="L").save(buf, format="PNG")
    return buf.getvalue(), ".png"


def next_index(folder: Path, stem: str) -> int:
    existing = [p.stem for p in folder.glob(f"{stem}*")] if folder.is_dir() else []
    nums = [int(s.rsplit("_", 1)[1]) for s in existing if s.rsplit("_", 1)[-1].isdigit()]
    return max(nums, default=-1) + 1


class _FolderLock:
    """An exclusive lock on a dataset folder, so two `tinyml capture` processes never pick the same
    sample number or interleave manifest updates (flock where the OS has it)."""

    def __init__(self, out_dir: Path):
        self.path = out_dir  # the folder itself is locked: no lock file is left in the dataset
        self.fd = None

    def __enter__(self):
        self.path.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDONLY)
        try:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except ImportError:  # Windows: numbers are still claimed with O_EXCL below
            pass
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing releases the flock


def _claim(folder: Path, stem: str, ext: str) -> Path:
    """Create the sample's file name exclusively (O_EXCL): a number is never given out twice."""
    n = next_index(folder, stem)
    while True:
        path = folder / f"{stem}{n}{ext}"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            n += 1


def write_sample(out_dir: Path, sample: Sample, hello: Hello, label: str, person: str) -> Path:
    """Write one sample under out_dir/<label>/ and its line in out_dir/manifest.jsonl, under a folder
    lock. The sample counts as kept only when both are on disk; on failure neither remains."""
    from tinyml.files import write_bytes_atomic

    data, ext = sample_bytes(sample, hello, label, person)
    folder = out_dir / label
    # Speech Commands naming keeps speaker-disjoint splits working: <person>_nohash_<n>
    stem = f"{person}_nohash_"
    manifest = out_dir / "manifest.jsonl"
    path = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _FolderLock(out_dir):
            path = _claim(folder, stem, ext)
            entry = {"file": str(path.relative_to(out_dir)), "label": label, "person": person,
                     "board": hello.board, "sensor": hello.sensor, "rate_hz": round(sample.rate_hz, 3),
                     "sha256": hashlib.sha256(data).hexdigest(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            write_bytes_atomic(path, data)
            old = manifest.read_bytes() if manifest.is_file() else b""
            write_bytes_atomic(manifest, old + (json.dumps(entry, sort_keys=True) + "\n").encode())
    except OSError as exc:
        if path is not None:
            try:
                path.unlink()  # not in the manifest, so not kept: leave no orphan behind
            except OSError:
                pass
        where = path or folder
        raise TinyMLError(f"cannot write {where}: {exc.strerror or exc}; samples recorded before are intact") from None
    return path
