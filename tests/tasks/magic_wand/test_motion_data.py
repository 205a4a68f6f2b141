"""Motion loaders: real files, and one-line errors that name the file and line."""

import json

import numpy as np
import pytest

from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir, parse_imu_capture_csv, parse_tf_wand
from tinyml.errors import TinyMLError
from tinyml.tasks.magic_wand import features as mf


def test_tf_format_blocks_noise_and_windows():
    text = "Script started\n\x1b[?1034hbash$ screen\n-,-,-\n1,2,3\n4,5,6\n-,-,-,2\n7,8,9\n" + \
           "".join(f"{i},0,1000\n" for i in range(300))
    fmt = MotionFormat(units="mg", rate_hz=25, window_seconds=4.8)
    samples = parse_tf_wand(text, "f.txt", "wing", fmt)
    # block 1: 2 rows; block 2: 301 rows > 2*120 → cut into two 120-row windows
    assert [len(s.data) for s in samples] == [2, 120, 120]
    assert np.allclose(samples[0].data[0], [0.001, 0.002, 0.003])


def test_axis_map_and_units():
    fmt = MotionFormat(units="m/s2", axis_map=("-y", "x", "z"))
    (s,) = parse_tf_wand("-,-,-\n1,2,9.80665\n", "f.txt", "ring", fmt)
    assert np.allclose(s.data[0], [-2 / 9.80665, 1 / 9.80665, 1.0], atol=1e-6)


def test_imu_capture_split_with_blank_and_repeated_header():
    """Marked gestures are kept whole (a 238-row one too); an unbroken file is cut as the tutorial records."""
    rows = "".join("0.1,0.2,1.0,5,6,7\n" for _ in range(119))
    text = "aX,aY,aZ,gX,gY,gZ\n" + rows + "\n" + rows + "aX,aY,aZ,gX,gY,gZ\n" + rows + rows
    samples = parse_imu_capture_csv(text, "p.csv", "punch", "ann", MotionFormat(axes=6))
    assert [len(s.data) for s in samples] == [119, 119, 238] and samples[0].data.shape == (119, 6)
    assert samples[0].person == "ann" and samples[0].rate_hz == 119.0
    unbroken = parse_imu_capture_csv("aX,aY,aZ,gX,gY,gZ\n" + rows * 3, "p.csv", "punch", "ann", MotionFormat())
    assert [len(s.data) for s in unbroken] == [119, 119, 119]


def test_imu_capture_rate_is_the_declared_one_then_the_time_columns():
    rows = "".join(f"{i * 20},0.1,0.2,1.0\n" for i in range(100))
    declared = parse_imu_capture_csv("aX,aY,aZ\n" + "0,0,1\n" * 50, "p.csv", "flex", "", MotionFormat(rate_hz=50.0))
    assert declared[0].rate_hz == 50.0
    from collections import Counter

    notes = Counter()
    (timed,) = parse_imu_capture_csv("\ufeffmillis,aX,aY,aZ\n" + rows + "\n" + rows, "p.csv", "flex", "",
                                     MotionFormat(), notes)[:1]
    assert timed.rate_hz == pytest.approx(50.0) and timed.data.shape == (100, 3)
    assert np.allclose(timed.data[0], [0.1, 0.2, 1.0])


def test_imu_capture_columns_are_found_by_name():
    text = "\ufeffgZ;gY;gX;aZ;aY;aX\n3;2;1;1,0;0,5;0,25\n"  # a spreadsheet's export: ';' and decimal commas
    (s,) = parse_imu_capture_csv(text, "p.csv", "punch", "", MotionFormat(axes=6))
    assert np.allclose(s.data[0], [0.25, 0.5, 1.0, 1, 2, 3])


@pytest.mark.parametrize("text,needle", [
    ("aX,aY,aZ,gX,gY,gZ\n1,2,3,4,5,6\n1,2,3\n", "p.csv:3: expected 6 numbers"),
    ("time,aX,aY\n1,2,3\n", "p.csv:1: the header 'time,aX,aY' has no complete aX,aY,aZ"),
    ("gX,gY,gZ\n1,2,3\n", "gyroscope columns only; magic_wand needs the accelerometer"),
    ("millis,x,y\n1,2,3\n", "p.csv:1: expected a header naming the columns"),
])
def test_bad_imu_csv(text, needle):
    with pytest.raises(TinyMLError, match=needle):
        parse_imu_capture_csv(text, "p.csv", "punch", "ann", MotionFormat())


def test_malformed_lines_are_skipped_and_counted():
    """A cut-off last line, a wrong count, nan, CRLF and terminal junk: skipped and counted, like the
    TF pipeline does; only a file with no usable line is refused."""
    from collections import Counter

    notes = Counter()
    text = "Reading IMU...\r\n-,-,-\r\n0,0,1000\r\n1,2,3,4\r\n5,nan,1000\r\n2,1,999\r\n3,"
    (sample,) = parse_tf_wand(text, "w.txt", "wing", MotionFormat(), notes=notes)
    assert len(sample.data) == 2 and notes["skipped lines"] == 4 and notes["units inferred as mg"] == 1
    assert abs(sample.data[0, 2] - 1.0) < 1e-6 and notes["rate assumed"] == 1 and sample.rate_hz == 25.0
    with pytest.raises(TinyMLError, match="w.txt: no line of three numbers"):
        parse_tf_wand("-,-,-\n1,2\n", "w.txt", "wing", MotionFormat())


@pytest.mark.parametrize("scale, units", [(1.0, "g"), (9.80665, "m/s2"), (1000.0, "mg")])
def test_units_are_inferred_from_gravity(scale, units):
    from tinyml.tasks.magic_wand.data import infer_units

    rng = np.random.default_rng(0)
    rows = np.c_[rng.normal(0, 0.1, 200), rng.normal(0, 0.1, 200), 1 + rng.normal(0, 0.2, 200)] * scale
    assert infer_units(rows, "x.txt") == units
    fixed = parse_tf_wand("-,-,-\n" + "\n".join(",".join(map(str, r)) for r in rows), "x", "wing", MotionFormat())
    assert abs(np.median(np.linalg.norm(fixed[0].data, axis=1)) - 1.0) < 0.1  # always in g after loading
    # a declared value wins where inference gives up (3 is neither near 1 g nor near 9.8 m/s²)
    declared = parse_tf_wand("-,-,-\n0,0,3\n", "x", "wing", MotionFormat(units="m/s2"))
    assert declared[0].data[0, 2] == np.float32(3 / 9.80665)


@pytest.mark.parametrize("units", ["g", "mg", "m/s2"])
def test_gyroscope_readings_are_not_trained_as_acceleration(units):
    rng = np.random.default_rng(1)
    gyro = rng.normal(0, 120, (200, 3))  # deg/s of a swing: no gravity in it
    text = "-,-,-\n" + "\n".join(",".join(f"{v:.2f}" for v in r) for r in gyro)
    with pytest.raises(TinyMLError, match="not about 1 g.*gyroscope"):
        parse_tf_wand(text, "x.txt", "wing", MotionFormat(units=units))


def test_tf_text_at_100_hz_keeps_gestures_whole():
    gesture = "".join(f"{i},0,1000\n" for i in range(300))  # 3 s at 100 Hz
    samples = parse_tf_wand("-,-,-\n" + gesture, "w.txt", "wing", MotionFormat(units="mg", rate_hz=100.0))
    assert [len(s.data) for s in samples] == [300]
    long = "".join(f"{i},0,1000\n" for i in range(1200))  # 12 s: continuous, cut into 4.8 s windows
    samples = parse_tf_wand("-,-,-\n" + long, "n.txt", "negative", MotionFormat(units="mg", rate_hz=100.0))
    assert [len(s.data) for s in samples] == [480, 480]


def test_the_loader_names_what_it_leaves_out(tmp_path, capsys):
    for label in ("wing", "ring", "circle"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "a.txt").write_text("-,-,-\n0,0,1000\n0,0,1000\n")
    (tmp_path / "wing" / "._a.txt").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    (tmp_path / "README.txt").write_text("Recorded by Ann on a Nano 33 BLE.\n")
    (tmp_path / "wing" / "photo.jpg").write_bytes(b"x")
    samples = load_motion_dir(tmp_path, MotionFormat(), ("wing", "ring"))
    assert sorted(s.label for s in samples) == ["ring", "wing"]
    err = capsys.readouterr().err
    assert "circle 1" in err and "--set labels=wing,ring,circle" in err
    assert "README.txt" in err and "wing/._a.txt" in err and "wing/photo.jpg" in err


def test_empty_class_and_unsafe_label(tmp_path):
    (tmp_path / "wing").mkdir()
    (tmp_path / "wing" / "a.txt").write_text("-,-,-\n1,2,1000\n")
    (tmp_path / "ring").mkdir()
    with pytest.raises(TinyMLError, match="class 'ring' has no samples"):
        load_motion_dir(tmp_path, MotionFormat(units="mg"), ("wing", "ring"))
    # scoring a subset of the classes is allowed
    assert {s.label for s in load_motion_dir(tmp_path, MotionFormat(units="mg"), ("wing", "ring"),
                                             require_all=False)} == {"wing"}
    bad = tmp_path / "bad label!"
    bad.mkdir()
    (bad / "x.txt").write_text("-,-,-\n1,2,1000\n")
    with pytest.raises(TinyMLError, match="not a safe label"):
        load_motion_dir(tmp_path, MotionFormat(units="mg"))


def test_cli_reports_bad_data_in_one_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "wing").mkdir()
    (tmp_path / "wing" / "a.txt").write_text("-,-,-\n1,2\n")
    proc = run_cli("train", "magic_wand", "--data", str(tmp_path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "a.txt: no line of three numbers" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_real_recordings_load(shared_data):
    wand = load_motion_dir(shared_data / "magic_wand", MotionFormat(units="mg", rate_hz=100))
    counts = {label: sum(s.label == label for s in wand) for label in ("wing", "ring", "slope", "negative")}
    assert all(c >= 95 for c in counts.values())
    rest = np.median(np.concatenate([s.data[:5] for s in wand]), axis=0)
    assert 0.8 < rest[2] < 1.2  # gravity on z, now in g
    neg = load_motion_dir(shared_data / "magic_wand_tf_negative", MotionFormat(units="mg", rate_hz=25))
    assert len(neg) > 40 and all(s.data.shape == (120, 3) for s in neg)
    imu = load_motion_dir(shared_data / "imu_capture_csv", MotionFormat(axes=6))
    people = {s.person for s in imu if s.label in ("punch", "flex")}
    assert len(people) == 3 and all(s.data.shape == (119, 6) for s in imu)


def test_decimate_holds_last_value_over_gaps():
    cfg = mf.MotionFeatures(rate_hz=25)
    fixed = np.array([[10, 0, 0], [20, 0, 0], [40, 0, 0]], dtype=np.int32)
    t = np.array([0, 10_000, 130_000])  # bins 0, 0, 3
    out = mf.decimate(fixed, t, cfg, flush=True)
    assert out[:, 0].tolist() == [15, 15, 15, 40]


def test_the_tf_recordings_load_without_declaring_anything(shared_data, capsys):
    """The original TF data of 8 people: milli-g inferred, 25 Hz assumed, terminal lines and the cut-off
    last line skipped (the TF pipeline skips them too), every person and gesture present."""
    root = shared_data / "magic_wand_tf"
    if not root.is_dir():
        pytest.skip(f"{root} missing")
    samples = load_motion_dir(root, MotionFormat())
    err = capsys.readouterr().err
    assert "inferred as mg" in err and "assuming 25 Hz" in err and "skipped" in err
    assert {s.label for s in samples} == {"wing", "ring", "slope", "negative"}
    assert len({s.person for s in samples if s.label == "wing"}) == 8
    rest = np.concatenate([s.data for s in samples if s.label == "negative"])
    assert 0.8 < np.median(np.linalg.norm(rest, axis=1)) < 1.2  # in g


def test_evaluate_scores_negatives_only(tmp_path, quick_demo, shared_data):
    from conftest import run_cli

    neg = sorted((shared_data / "magic_wand_tf_negative").glob("*.txt"))
    if not neg:
        pytest.skip("no TF negative recordings")
    (tmp_path / "negative").mkdir()
    (tmp_path / "negative" / neg[0].name).write_bytes(neg[0].read_bytes())
    proc = run_cli("evaluate", str(quick_demo / "runs" / "magic_wand"), "--data", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["per_class_recall"]["negative"] is not None and result["per_class_recall"]["wing"] is None
    proc = run_cli("evaluate", str(quick_demo / "runs" / "magic_wand"), "--data", str(tmp_path))
    assert "false-positive rate" in proc.stdout


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_text_saved_by_windows_editors_loads(tmp_path, encoding):
    (tmp_path / "wing").mkdir()
    text = "-,-,-\r\n" + "".join(f"{i},0,1000\r\n" for i in range(30))
    (tmp_path / "wing" / "a.txt").write_bytes(text.encode(encoding))
    (sample,) = load_motion_dir(tmp_path, MotionFormat(), ("wing",))
    assert len(sample.data) == 30
