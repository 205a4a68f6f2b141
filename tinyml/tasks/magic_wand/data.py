"""Motion recordings from three formats into one in-memory form.

Every loader returns MotionSample objects: (T, axes) float32 arrays in g (accelerometer)
and deg/s (gyroscope), with the sample rate, label and who recorded it. Formats:

- TF magic_wand text: `x,y,z` lines, gestures separated by `-,-,-` (or `-,-,-,<index>`);
  lines that are not numbers (terminal noise) are skipped; blocks much longer than a
  gesture are continuous recordings and are cut into windows.
- Arduino IMU-capture CSV: header `aX,aY,aZ,gX,gY,gZ`, 119 rows per gesture, blank or
  repeated-header lines in between.
- tinyml capture CSV: a `# tinyml-capture` JSON line, a header, then `t_us,seq,<axes>` rows.

Bad input raises a TinyMLError naming the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.errors import TinyMLError
from tinyml.names import safe_label

UNIT_TO_G = {"mg": 1e-3, "g": 1.0, "m/s2": 1.0 / 9.80665}
IMU_CAPTURE_COLUMNS = ("aX", "aY", "aZ", "gX", "gY", "gZ")
CAPTURE_MAGIC = "# tinyml-capture"


@dataclass(frozen=True, kw_only=True)
class MotionFormat:
    """How to read a foreign board's recordings."""

    units: str = "mg"
    """Accelerometer units in the files: 'mg', 'g' or 'm/s2' (gyroscope columns are deg/s)."""
    rate_hz: float = 25.0
    """Sample rate of the recordings (TF text format does not store it)."""
    axis_map: tuple[str, ...] = ("x", "y", "z")
    """Board axis i comes from this file axis, optionally negated: ('-y', 'x', 'z') rotates 90°."""
    window_rows: int = 120
    """Continuous recordings (blocks over twice this long) are cut into windows of this many rows."""
    rows_per_gesture: int = 119
    """IMU-capture CSV: rows per gesture (the tutorial records 119 at 119 Hz)."""
    axes: int = 3
    """Channels kept: 3 (accelerometer) or 6 (plus gyroscope, IMU-capture and capture files only)."""


@dataclass(frozen=True)
class MotionSample:
    """One gesture (or one window of continuous motion)."""

    data: np.ndarray
    """(T, axes) float32: g for accelerometer axes, deg/s for gyroscope axes."""
    rate_hz: float
    """Sample rate of `data`."""
    label: str
    """Class label."""
    person: str
    """Who recorded it ('' when the files do not say)."""
    source: str
    """'file:line' where the sample starts, for error messages and reports."""


def _axis_matrix(axis_map: tuple[str, ...]) -> np.ndarray:
    m = np.zeros((3, 3), dtype=np.float32)
    names = {"x": 0, "y": 1, "z": 2}
    if len(axis_map) != 3:
        raise TinyMLError(f"axis map {','.join(axis_map)!r} must name three axes, e.g. x,y,z or -y,x,z")
    for i, entry in enumerate(axis_map):
        sign = -1.0 if entry.startswith("-") else 1.0
        key = entry.lstrip("+-").lower()
        if key not in names:
            raise TinyMLError(f"axis map entry {entry!r} is not one of x, y, z (optionally with '-')")
        m[i, names[key]] = sign
    if sorted(np.abs(m).argmax(1)) != [0, 1, 2]:
        raise TinyMLError(f"axis map {','.join(axis_map)} uses an axis twice")
    return m


def to_board_units(rows: np.ndarray, fmt: MotionFormat, accel_units: str) -> np.ndarray:
    """Scale accelerometer columns to g and apply the axis map to each 3-axis group."""
    if accel_units not in UNIT_TO_G:
        raise TinyMLError(f"unknown units {accel_units!r}; use one of {', '.join(UNIT_TO_G)}")
    out = rows.astype(np.float32).copy()
    out[:, :3] *= np.float32(UNIT_TO_G[accel_units])
    m = _axis_matrix(fmt.axis_map)
    for start in range(0, out.shape[1], 3):
        out[:, start:start + 3] = out[:, start:start + 3] @ m.T
    return out


def _numbers(line: str) -> list[float] | None:
    parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


def parse_tf_wand(text: str, source: str, label: str, fmt: MotionFormat, person: str = "") -> list[MotionSample]:
    """TF magic_wand text format → samples; long blocks are cut into `window_rows` windows."""
    blocks: list[tuple[int, list[list[float]]]] = []
    current: list[list[float]] = []
    start = 1
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("-,-,-"):
            if current:
                blocks.append((start, current))
            current, start = [], number + 1
            continue
        values = _numbers(line)
        if not line or values is None:
            continue  # terminal noise, prompts, blank lines
        if len(values) != 3:
            raise TinyMLError(f"{source}:{number}: expected 3 values (x,y,z), found {len(values)}")
        if not current:
            start = number
        current.append(values)
    if current:
        blocks.append((start, current))
    samples = []
    for line_no, rows in blocks:
        arr = to_board_units(np.asarray(rows, dtype=np.float32), fmt, fmt.units)
        if len(arr) > 2 * fmt.window_rows:
            for i in range(0, len(arr) - fmt.window_rows + 1, fmt.window_rows):
                samples.append(MotionSample(arr[i:i + fmt.window_rows], fmt.rate_hz, label, person,
                                            f"{source}:{line_no}+{i}"))
        else:
            samples.append(MotionSample(arr, fmt.rate_hz, label, person, f"{source}:{line_no}"))
    return samples


def parse_imu_capture_csv(text: str, source: str, label: str, person: str, fmt: MotionFormat,
                          rate_hz: float = 119.0) -> list[MotionSample]:
    """Arduino IMU_Capture CSV → one sample per `rows_per_gesture` rows (units g and deg/s)."""
    lines = text.splitlines()
    header = next((ln.strip() for ln in lines if ln.strip()), "")
    columns = [c.strip() for c in header.split(",")]
    if tuple(columns) != IMU_CAPTURE_COLUMNS:
        raise TinyMLError(f"{source}:1: expected the header {','.join(IMU_CAPTURE_COLUMNS)}, found {header[:60]!r}")
    chunks: list[tuple[int, list[list[float]]]] = []
    current: list[list[float]] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("aX"):
            if current:
                chunks.append((start, current))
            current = []
            continue
        values = _numbers(line)
        if values is None or len(values) != 6:
            found = "text" if values is None else f"{len(values)} values"
            raise TinyMLError(f"{source}:{number}: expected 6 numbers (aX..gZ), found {found}")
        if not current:
            start = number
        current.append(values)
    if current:
        chunks.append((start, current))
    n = fmt.rows_per_gesture
    samples = []
    for line_no, rows in chunks:
        arr = to_board_units(np.asarray(rows, dtype=np.float32)[:, :fmt.axes], fmt, "g")
        for i in range(0, len(arr), n):
            piece = arr[i:i + n]
            if len(piece) >= int(0.9 * n):  # the tutorial sometimes drops a row at the end
                samples.append(MotionSample(piece, rate_hz, label, person, f"{source}:{line_no + i}"))
    return samples


def parse_capture_csv(text: str, source: str, fmt: MotionFormat) -> MotionSample:
    """One `tinyml capture` motion sample: JSON header line, column line, then rows."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith(CAPTURE_MAGIC):
        raise TinyMLError(f"{source}:1: not a tinyml capture file (no '{CAPTURE_MAGIC}' line)")
    try:
        meta = json.loads(lines[0][len(CAPTURE_MAGIC):].strip())
    except ValueError:
        raise TinyMLError(f"{source}:1: unreadable capture header") from None
    columns = [c.strip() for c in lines[1].split(",")] if len(lines) > 1 else []
    axes = columns[2:]
    rows = []
    for number, raw in enumerate(lines[2:], 3):
        values = _numbers(raw)
        if values is None or len(values) != len(columns):
            raise TinyMLError(f"{source}:{number}: expected {len(columns)} values, found "
                              f"{'text' if values is None else len(values)}")
        rows.append(values)
    if not rows:
        raise TinyMLError(f"{source}: capture file has no rows")
    arr = np.asarray(rows, dtype=np.float64)
    units = meta.get("units", "g")
    data = to_board_units(arr[:, 2:2 + fmt.axes].astype(np.float32), fmt, units)
    if data.shape[1] < fmt.axes:
        raise TinyMLError(f"{source}: has {len(axes)} axes, the task needs {fmt.axes}")
    t = arr[:, 0]
    rate = float(meta.get("rate_hz") or (len(t) - 1) / max((t[-1] - t[0]) * 1e-6, 1e-9))
    return MotionSample(data, rate, str(meta.get("label", "")), str(meta.get("person", "")), f"{source}:3")


_TF_PERSON = re.compile(r"^output_(?P<label>[A-Za-z0-9]+)_(?P<person>[A-Za-z0-9]+)$")


def _first_line(path: Path) -> str:
    with path.open("r", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return line.strip()
    return ""


def load_motion_dir(root: str | Path, fmt: MotionFormat = MotionFormat(),
                    labels: tuple[str, ...] | None = None) -> list[MotionSample]:
    """All samples under root. Layouts: root/<label>/*.txt|*.csv, or root/<person>/<label>.csv (IMU capture)."""
    root = Path(root)
    if not root.is_dir():
        raise TinyMLError(f"{root}: no such folder; pass a dataset folder (see datasets/magic_wand/README.md)")
    samples: list[MotionSample] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".txt", ".csv"))
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            raise TinyMLError(f"{path}: cannot read ({exc.strerror})") from None
        rel = str(path)
        first = _first_line(path)
        if first.startswith(CAPTURE_MAGIC):
            sample = parse_capture_csv(text, rel, fmt)
            label = sample.label or path.parent.name
            safe_label(label, f"label in {rel}")
            samples.append(MotionSample(sample.data, sample.rate_hz, label, sample.person, sample.source))
        elif first.startswith("aX"):
            label = safe_label(path.stem, f"label (file name) of {rel}")
            samples += parse_imu_capture_csv(text, rel, label, path.parent.name, fmt)
        else:
            label = safe_label(path.parent.name, f"label (folder name) of {rel}")
            m = _TF_PERSON.match(path.stem)
            person = m.group("person") if m else path.stem
            samples += parse_tf_wand(text, rel, label, fmt, person)
    found = sorted({s.label for s in samples})
    for label in labels or ():
        if label not in found:
            raise TinyMLError(f"class '{label}' has no samples under {root}; record some or remove it from the labels")
    if labels:
        samples = [s for s in samples if s.label in labels]
    if not samples:
        raise TinyMLError(f"no motion samples found under {root}")
    return samples
