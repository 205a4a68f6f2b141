"""Motion recordings from three formats into one in-memory form.

Every loader returns MotionSample objects: (T, axes) float32 arrays in g (accelerometer)
and deg/s (gyroscope), with the sample rate, label and who recorded it. Formats:

- TF magic_wand text: `x,y,z` lines, gestures separated by `-,-,-` (or `-,-,-,<index>`);
  lines that are not numbers (terminal noise) are skipped; blocks much longer than a
  gesture (in seconds, at the data's rate) are continuous recordings and are cut into windows.
- Arduino IMU-capture CSV: a header naming the columns (`aX,aY,aZ,gX,gY,gZ` in the tutorial;
  any order, a time column such as `millis`, 3 axes, `;` or tab separators and a UTF-8 BOM
  are read too); gestures separated by blank or repeated-header lines are kept whole, one
  unbroken block is cut into `rows_per_gesture` rows as the tutorial records them.
- tinyml capture CSV: a `# tinyml-capture` JSON line, a header, then `t_us,seq,<axes>` rows.

Bad input raises a TinyMLError naming the file and line.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.errors import TinyMLError
from tinyml.files import MB, read_input_text
from tinyml.names import safe_label

UNIT_TO_G = {"mg": 1e-3, "g": 1.0, "m/s2": 1.0 / 9.80665}
AUTO = "auto"
ASSUMED_RATE_HZ = 25.0  # the TF magic_wand recordings' rate, assumed when files and user are silent
IMU_CAPTURE_COLUMNS = ("aX", "aY", "aZ", "gX", "gY", "gZ")
IMU_CAPTURE_RATE_HZ = 119.0  # the LSM9DS1's rate in the tutorial, assumed when files and user are silent
UNUSED_COLUMN = "column not used: "  # a `notes` key prefix
PLAUSIBLE_GRAVITY_G = (0.2, 5.0)  # typical accelerometer magnitude, gravity included, in g

# Column names (lower case, without '_', '-', ' ' and brackets) as spreadsheets and sketches write them.
_ACCEL_NAMES = {f"{p}{a}": i for i, a in enumerate("xyz")
                for p in ("a", "acc", "accel", "acceleration", "accelerometer", "linacc")}
_GYRO_NAMES = {f"{p}{a}": i for i, a in enumerate("xyz") for p in ("g", "gyr", "gyro", "gyroscope")}
_TIME_NAMES = {"millis": 1e-3, "ms": 1e-3, "timems": 1e-3, "timestampms": 1e-3, "micros": 1e-6, "us": 1e-6,
               "timeus": 1e-6, "t": 1e-3, "time": 1e-3, "timestamp": 1e-3}
CAPTURE_MAGIC = "# tinyml-capture"


@dataclass(frozen=True, kw_only=True)
class MotionFormat:
    """How to read a foreign board's recordings."""

    units: str = AUTO
    """Accelerometer units in the files: 'mg', 'g' or 'm/s2' (gyroscope columns are deg/s); 'auto' infers
    them from the gravity magnitude at rest (≈1 g, ≈9.8 m/s², ≈1000 mg) and says what it inferred."""
    rate_hz: float | None = None
    """Sample rate of the recordings, which the TF text format does not store; None: 25 Hz is assumed
    and said. Capture files carry their own rate."""
    axis_map: tuple[str, ...] = ("x", "y", "z")
    """Board axis i comes from this file axis, optionally negated: ('-y', 'x', 'z') rotates 90°."""
    window_seconds: float = 4.8
    """Continuous recordings (TF text blocks over twice this long, at the data's rate) are cut into
    windows this long (4.8 s: the reference pipeline's 120 rows at 25 Hz)."""
    rows_per_gesture: int = 119
    """IMU-capture CSV written as one unbroken block: rows per gesture (the tutorial records 119 at
    119 Hz). Gestures separated by blank or header lines are kept whole whatever their length."""
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


def infer_units(rows: np.ndarray, source: str) -> str:
    """Accelerometer units from the typical magnitude of (x, y, z), which gravity dominates."""
    mag = float(np.median(np.linalg.norm(np.asarray(rows, dtype=np.float64)[:, :3], axis=1)))
    gravity = {"g": 1.0, "m/s2": 9.80665, "mg": 1000.0}
    units, ref = min(gravity.items(), key=lambda kv: abs(math.log(max(mag, 1e-9) / kv[1])))
    if not 0.5 < mag / ref < 2.0:
        raise TinyMLError(f"{source}: cannot tell the accelerometer units (typical magnitude {mag:.3g}, not near "
                          "1 g, 9.8 m/s² or 1000 mg); declare them with --set data_format.units=mg|g|m/s2")
    return units


def require_gravity(rows: np.ndarray, units: str, source: str) -> None:
    """Declared units must turn the readings into accelerometer readings: gravity's ≈1 g at rest.

    Gyroscope readings (deg/s, near 0 at rest, hundreds in a swing) or wrong units would otherwise
    train silently as acceleration."""
    if units not in UNIT_TO_G or len(rows) == 0:
        return
    mag = float(np.median(np.linalg.norm(np.asarray(rows, dtype=np.float64)[:, :3], axis=1))) * UNIT_TO_G[units]
    low, high = PLAUSIBLE_GRAVITY_G
    if not low <= mag <= high:
        raise TinyMLError(f"{source}: in {units} the readings' typical magnitude is {mag:.3g} g, not about 1 g "
                          "(gravity): these are not accelerometer readings in those units (gyroscope readings?); "
                          "magic_wand needs the accelerometer's x,y,z, in the units you declare")


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


MAX_READING = 1e7  # larger than any accelerometer (in mg or m/s²) or gyroscope reading: damage, not data


def _plausible(values: list[float]) -> bool:
    return all(math.isfinite(v) and abs(v) < MAX_READING for v in values)


def _numbers(line: str) -> list[float] | None:
    parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


def parse_tf_wand(text: str, source: str, label: str, fmt: MotionFormat, person: str = "",
                  notes: Counter | None = None) -> list[MotionSample]:
    """TF magic_wand text format → samples; long blocks are cut into `window_rows` windows.

    Lines that are not three finite numbers (terminal noise, a line cut off at the end, CRLF
    debris) are skipped and counted in `notes`; a file with no usable line is refused."""
    blocks: list[tuple[int, list[list[float]]]] = []
    current: list[list[float]] = []
    start = 1
    skipped = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("-,-,-"):
            if current:
                blocks.append((start, current))
            current, start = [], number + 1
            continue
        if not line:
            continue
        values = _numbers(line)
        if values is None or len(values) != 3 or not _plausible(values):
            skipped += 1
            continue
        if not current:
            start = number
        current.append(values)
    if current:
        blocks.append((start, current))
    if not blocks:
        raise TinyMLError(f"{source}: no line of three numbers (x,y,z); is this a magic_wand recording?")
    if notes is not None and skipped:
        notes["skipped lines"] += skipped
        notes["files with skipped lines"] += 1
    units = fmt.units
    if units == AUTO:
        units = infer_units(np.asarray([r for _, rows in blocks for r in rows]), source)
        if notes is not None:
            notes[f"units inferred as {units}"] += 1
    else:
        require_gravity(np.asarray([r for _, rows in blocks for r in rows]), units, source)
    rate = fmt.rate_hz
    if rate is None:
        rate = ASSUMED_RATE_HZ
        if notes is not None:
            notes["rate assumed"] += 1
    window = max(1, round(fmt.window_seconds * rate))
    samples = []
    for line_no, rows in blocks:
        arr = to_board_units(np.asarray(rows, dtype=np.float32), fmt, units)
        if len(arr) > 2 * window:
            for i in range(0, len(arr) - window + 1, window):
                samples.append(MotionSample(arr[i:i + window], rate, label, person, f"{source}:{line_no}+{i}"))
        else:
            samples.append(MotionSample(arr, rate, label, person, f"{source}:{line_no}"))
    return samples


def report_notes(notes: Counter, where: str) -> None:
    """One line per kind of thing the loader decided for the user (skipped lines, inferred units, rate)."""
    if notes.get("skipped lines"):
        print(f"tinyml: note: skipped {notes['skipped lines']} malformed lines (cut off, not three numbers or "
              f"not finite) in {notes['files with skipped lines']} files under {where}", file=sys.stderr)
    for key, count in sorted(notes.items()):
        if key.startswith("units inferred as "):
            print(f"tinyml: note: accelerometer {key} from the gravity magnitude ({count} files); declare "
                  "data_format.units to override", file=sys.stderr)
    if notes.get("rate assumed"):
        print(f"tinyml: note: the files do not store a sample rate; assuming {ASSUMED_RATE_HZ:g} Hz "
              "(declare data_format.rate_hz)", file=sys.stderr)
    if notes.get("IMU-capture rate assumed"):
        print(f"tinyml: note: {notes['IMU-capture rate assumed']} IMU-capture files store no rate and no time "
              f"column; assuming the tutorial's {IMU_CAPTURE_RATE_HZ:g} Hz (declare data_format.rate_hz)",
              file=sys.stderr)
    for key, count in sorted(notes.items()):
        if key.startswith("rate ") and " from the " in key:
            print(f"tinyml: note: {key} ({count} files)", file=sys.stderr)
    unused_columns = sorted(key[len(UNUSED_COLUMN):] for key in notes if key.startswith(UNUSED_COLUMN))
    if unused_columns:
        print(f"tinyml: note: columns not used (the axes the task does not use, or not sensor readings): "
              f"{', '.join(unused_columns)}", file=sys.stderr)
    if notes.get("short rows at the end"):
        print(f"tinyml: note: left out {notes['short rows at the end']} rows at the ends of unbroken IMU-capture "
              f"files, too few for a gesture of data_format.rows_per_gesture rows", file=sys.stderr)


def _column_key(name: str) -> str:
    """'aX', 'acc_x', 'Acc X (g)' → 'ax', 'accx', 'accx'."""
    name = re.sub(r"\(.*?\)|\[.*?\]", "", name.strip().strip('"').strip("'"))
    return re.sub(r"[\s_\-.]", "", name).lower()


def _split_fields(line: str, sep: str) -> list[str]:
    return [f.strip().strip('"').strip("'") for f in line.split(sep)]


def imu_header(line: str) -> tuple[str, dict] | None:
    """(separator, {'accel': [col x, y, z], 'gyro': [...] or None, 'time': (col, seconds per unit) or None,
    'names': [...]}) when `line` is a header naming accelerometer or gyroscope columns, else None."""
    line = line.lstrip("\ufeff").strip()
    sep = max((",", ";", "\t"), key=line.count)
    names = _split_fields(line, sep)
    keys = [_column_key(n) for n in names]
    accel = [keys.index(k) if k in keys else None for k in (f"a{a}" for a in "xyz")]
    for i, k in enumerate(keys):
        if k in _ACCEL_NAMES and accel[_ACCEL_NAMES[k]] is None:
            accel[_ACCEL_NAMES[k]] = i
    gyro = [None, None, None]
    for i, k in enumerate(keys):
        if k in _GYRO_NAMES and gyro[_GYRO_NAMES[k]] is None:
            gyro[_GYRO_NAMES[k]] = i
    if all(c is None for c in accel) and all(c is None for c in gyro):
        return None
    time = next(((i, _TIME_NAMES[k]) for i, k in enumerate(keys) if k in _TIME_NAMES), None)
    return sep, {"accel": accel, "gyro": gyro, "time": time, "names": names}


def parse_imu_capture_csv(text: str, source: str, label: str, person: str, fmt: MotionFormat,
                          notes: Counter | None = None) -> list[MotionSample]:
    """An IMU-capture CSV → samples in g and deg/s, columns found by their header names.

    Gestures separated by blank or repeated-header lines are kept whole; a file of one unbroken block
    (the tutorial's) is cut into `rows_per_gesture` rows. The rate is the declared one, else the
    time column's, else the tutorial's 119 Hz (said in `notes`)."""
    lines = text.lstrip("\ufeff").splitlines()
    header = next((ln for ln in lines if ln.strip()), "")
    found = imu_header(header)
    if found is None:
        raise TinyMLError(f"{source}:1: expected a header naming the columns, such as "
                          f"{','.join(IMU_CAPTURE_COLUMNS)}, found {header.strip()[:60]!r}")
    sep, cols = found
    names = cols["names"]
    if any(c is None for c in cols["accel"]):
        what = "gyroscope columns only" if all(c is not None for c in cols["gyro"]) else "no complete aX,aY,aZ"
        raise TinyMLError(f"{source}:1: the header {header.strip()[:60]!r} has {what}; magic_wand needs the "
                          "accelerometer's three columns (aX,aY,aZ, in g)")
    wanted = list(cols["accel"])
    if fmt.axes == 6:
        if any(c is None for c in cols["gyro"]):
            raise TinyMLError(f"{source}:1: the header {header.strip()[:60]!r} has no gX,gY,gZ columns, and "
                              "features.axes=6 needs them; train with --set features.axes=3")
        wanted += cols["gyro"]
    used = set(wanted) | ({cols["time"][0]} if cols["time"] else set())
    if notes is not None:
        for i, name in enumerate(names):
            if i not in used:
                notes[f"{UNUSED_COLUMN}{name}"] += 1
    header_key = [_column_key(n) for n in names]
    decimal_comma = sep == ";"
    chunks: list[tuple[int, list[list[float]]]] = []
    current: list[list[float]] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        fields = _split_fields(line, sep) if line else []
        if not line or [_column_key(f) for f in fields] == header_key:
            if current:
                chunks.append((start, current))
            current = []
            continue
        if decimal_comma:
            fields = [f.replace(",", ".") for f in fields]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise TinyMLError(f"{source}:{number}: expected {len(names)} numbers ({','.join(names)}), "
                              f"found text: {line[:40]!r}") from None
        if len(values) != len(names):
            raise TinyMLError(f"{source}:{number}: expected {len(names)} numbers ({','.join(names)}), "
                              f"found {len(values)} values")
        if not _plausible(values):
            raise TinyMLError(f"{source}:{number}: a value is not a finite number of plausible size")
        if not current:
            start = number
        current.append(values)
    if current:
        chunks.append((start, current))
    if not chunks:
        raise TinyMLError(f"{source}: no rows of readings under the header")
    rate = fmt.rate_hz
    if rate is None and cols["time"] is not None:
        col, unit = cols["time"]
        steps = np.concatenate([np.diff(np.asarray(rows)[:, col]) for _, rows in chunks if len(rows) > 1] or [[]])
        steps = steps[steps > 0]
        if len(steps):
            rate = 1.0 / (float(np.median(steps)) * unit)
            if notes is not None:
                notes[f"rate {rate:.4g} Hz from the {names[col]!r} column"] += 1
    if rate is None:
        rate = IMU_CAPTURE_RATE_HZ
        if notes is not None:
            notes["IMU-capture rate assumed"] += 1
    require_gravity(np.asarray([r for _, rows in chunks for r in rows])[:, cols["accel"]], "g", source)
    n = fmt.rows_per_gesture
    samples = []
    for line_no, rows in chunks:
        arr = to_board_units(np.asarray(rows, dtype=np.float32)[:, wanted], fmt, "g")
        if len(chunks) > 1 or len(arr) < 2 * n:  # the file marks where each gesture ends, or holds one
            samples.append(MotionSample(arr, rate, label, person, f"{source}:{line_no}"))
            continue
        for i in range(0, len(arr), n):
            piece = arr[i:i + n]
            if len(piece) >= int(0.9 * n):  # the tutorial sometimes drops a row at the end
                samples.append(MotionSample(piece, rate, label, person, f"{source}:{line_no + i}"))
            elif notes is not None:
                notes["short rows at the end"] += len(piece)
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
    if not isinstance(meta, dict):
        raise TinyMLError(f"{source}:1: the capture header is not a JSON object")
    columns = [c.strip() for c in lines[1].split(",")] if len(lines) > 1 else []
    axes = columns[2:]
    if len(axes) < fmt.axes:
        raise TinyMLError(f"{source}:2: has {len(axes)} axes, the task needs {fmt.axes}")
    rows = []
    for number, raw in enumerate(lines[2:], 3):
        values = _numbers(raw)
        if values is not None and not _plausible(values):
            raise TinyMLError(f"{source}:{number}: a value is not a finite number of plausible size")
        if values is None or len(values) != len(columns):
            raise TinyMLError(f"{source}:{number}: expected {len(columns)} values, found "
                              f"{'text' if values is None else len(values)}")
        rows.append(values)
    if not rows:
        raise TinyMLError(f"{source}: capture file has no rows")
    arr = np.asarray(rows, dtype=np.float64)
    units = str(meta.get("units", "g"))
    data = to_board_units(arr[:, 2:2 + fmt.axes].astype(np.float32), fmt, units)
    t = arr[:, 0]
    declared = meta.get("rate_hz")
    if isinstance(declared, (int, float)) and not isinstance(declared, bool) and math.isfinite(declared) \
            and declared > 0:
        rate = float(declared)
    elif len(t) > 1 and t[-1] > t[0]:
        rate = (len(t) - 1) / ((t[-1] - t[0]) * 1e-6)
    else:
        raise TinyMLError(f"{source}: no sample rate in the header and timestamps that do not advance")
    return MotionSample(data, rate, str(meta.get("label", "")), str(meta.get("person", "")), f"{source}:3")


_TF_PERSON = re.compile(r"^output_(?P<label>[A-Za-z0-9]+)_(?P<person>[A-Za-z0-9]+)$")


def _kind(text: str) -> str:
    """'capture', 'imu' (a CSV header naming sensor columns) or 'tf' (x,y,z text)."""
    first = next((ln.strip().lstrip("\ufeff") for ln in text.splitlines() if ln.strip().lstrip("\ufeff")), "")
    if first.startswith(CAPTURE_MAGIC):
        return "capture"
    if _numbers(first) is None and imu_header(first) is not None:
        return "imu"
    return "tf"


def load_motion_dir(root: str | Path, fmt: MotionFormat = MotionFormat(),
                    labels: tuple[str, ...] | None = None, require_all: bool = True) -> list[MotionSample]:
    """All samples under root. Layouts: root/<label>/*.txt|*.csv, or root/<person>/<label>.csv (IMU capture).

    With `labels`, other classes are left out (and named); with require_all, every label must have
    samples (training needs them all; scoring a subset, e.g. negative-only recordings, does not).
    Files that are not recordings (dot files, other suffixes, a text file at the top without any
    reading such as a README) are named in one line."""
    from tinyml.files import is_hidden, note_unused

    root = Path(root)
    if not root.is_dir():
        raise TinyMLError(f"{root}: no such folder; pass a dataset folder (see datasets/magic_wand/README.md)")
    samples: list[MotionSample] = []
    notes: Counter = Counter()
    unused: list[str] = []
    files = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_dir():
            continue
        if p.suffix.lower() in (".txt", ".csv") and not any(is_hidden(part) for part in rel.parts):
            files.append(p)
        else:
            unused.append(str(rel))
    for path in files:
        text = read_input_text(path, "a motion recording", 256 * MB)
        rel = str(path)
        kind = _kind(text)
        if kind == "capture":
            sample = parse_capture_csv(text, rel, fmt)
            label = sample.label or path.parent.name
            safe_label(label, f"label in {rel}")
            samples.append(MotionSample(sample.data, sample.rate_hz, label, sample.person, sample.source))
        elif kind == "imu":
            label = safe_label(path.stem, f"label (file name) of {rel}")
            samples += parse_imu_capture_csv(text, rel, label, path.parent.name, fmt, notes)
        elif path.parent == root and not any(_numbers(ln) for ln in text.splitlines() if ln.strip()):
            unused.append(path.name)  # a README or notes beside the class folders
        else:
            label = safe_label(path.parent.name, f"label (folder name) of {rel}")
            m = _TF_PERSON.match(path.stem)
            person = m.group("person") if m else path.stem
            samples += parse_tf_wand(text, rel, label, fmt, person, notes)
    report_notes(notes, str(root))
    note_unused(unused, str(root), "motion recordings (.txt or .csv)")
    found = sorted({s.label for s in samples})
    for label in (labels or ()) if require_all else ():
        if label not in found:
            raise TinyMLError(f"class '{label}' has no samples under {root}; record some or remove it from the labels")
    if labels:
        left = Counter(s.label for s in samples if s.label not in labels)
        if left:
            print(f"tinyml: note: left out {sum(left.values())} samples of classes that are not in the labels "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(left.items()))}); to train on them, add them with "
                  f"--set labels={','.join((*labels, *sorted(left)))}", file=sys.stderr)
        samples = [s for s in samples if s.label in labels]
    if not samples:
        raise TinyMLError(f"no motion samples found under {root}")
    return samples
