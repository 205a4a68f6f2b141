"""tinyml capture against a simulated board on a pty: protocol, end to end, and faults."""

import json
import os
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simboard import SimBoard
from tinyml.capture.port import open_port
from tinyml.capture.protocol import MAX_LINE, Hello, Message, Parser, Rejected, encode, encode_sample
from tinyml.capture.session import CaptureOptions, run_capture
from tinyml.errors import TinyMLError


# ---- protocol ----------------------------------------------------------------------------

def test_round_trip_and_checksum():
    line = encode_sample(7, 123456, [0.5, -1.25, 1.0])
    (msg,) = Parser().feed(line)
    assert msg == Message("S", ("7", "123456", "0.5", "-1.25", "1"))
    for i in range(1, len(line) - 6):
        flipped = bytearray(line)
        flipped[i] ^= 0x04
        (out,) = Parser().feed(bytes(flipped)) or [Rejected("framing", b"")]
        assert isinstance(out, Rejected), f"flip at {i} not caught"


def test_lines_split_across_reads_and_noise_between():
    p = Parser()
    data = b"boot noise\r\n" + encode("REC", 1) + encode_sample(1, 2, [3])
    out = []
    for i in range(0, len(data), 3):
        out += p.feed(data[i:i + 3])
    assert [type(o).__name__ for o in out] == ["Rejected", "Message", "Message"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=20))
def test_parser_never_raises_and_stays_bounded(chunks):
    p = Parser()
    for chunk in chunks:
        for item in p.feed(chunk):
            assert isinstance(item, (Message, Rejected))
        assert len(p.buf) <= MAX_LINE


def test_endless_line_is_bounded():
    p = Parser()
    for _ in range(200):
        p.feed(b"9" * 10000)
        assert len(p.buf) <= MAX_LINE
    assert p.counts["overlong"] == 1
    (msg,) = [m for m in p.feed(b"\n" + encode("REC", 0)) if isinstance(m, Message)]
    assert msg.kind == "REC"


# ---- sessions over a pty -------------------------------------------------------------------

def capture(board, tmp_path, **kw):
    opts = CaptureOptions(task=kw.pop("task", "magic_wand"), label=kw.pop("label", "wing"),
                          out_dir=tmp_path / "data", count=kw.pop("count", 3), seconds=kw.pop("seconds", 1.0),
                          person=kw.pop("person", "ann"), handshake_timeout=kw.pop("handshake_timeout", 3.0),
                          data_timeout=kw.pop("data_timeout", 1.5), reconnect_timeout=kw.pop("reconnect_timeout", 3.0),
                          sample_timeout=kw.pop("sample_timeout", 0.0))
    lines = []
    summary = run_capture(opts, lambda: open_port(board.path, 115200), progress=lines.append)
    return summary, lines


def check_files_valid(folder):
    """Every CSV on disk is a complete capture file (no torn writes), and the manifest matches."""
    import hashlib

    from tinyml.tasks.magic_wand.data import MotionFormat, parse_capture_csv

    files = sorted(folder.rglob("*.csv"))
    for f in files:
        s = parse_capture_csv(f.read_text(), str(f), MotionFormat())
        t = np.array([float(line.split(",")[0]) for line in f.read_text().splitlines()[2:]])
        assert np.all(np.diff(t) > 0)
        assert len(s.data) >= 50
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert sorted(m["file"] for m in manifest) == sorted(str(f.relative_to(folder)) for f in files)
    for m in manifest:
        assert hashlib.sha256((folder / m["file"]).read_bytes()).hexdigest() == m["sha256"]
    assert not list(folder.rglob(".*"))  # no temp files left behind
    return files


def test_twenty_gestures_load_in_the_magic_wand_loader(tmp_path):
    from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir

    with SimBoard(rate_hz=100, speed=8) as board:
        summary, lines = capture(board, tmp_path, count=20, seconds=1.0)
    assert summary["kept"] == 20 and "connected: nano33ble_sense_rev2 BMI270" in lines[0]
    # a fault-free session discards nothing: rows sent between the end of a sample and the board's
    # acknowledgement of STOP are stale, not a partial sample
    assert summary["discarded"] == 0 and summary["reasons"] == [], summary["reasons"]
    assert all("discarded 0, gaps 0" in line for line in lines if line.startswith("sample "))
    files = check_files_valid(tmp_path / "data")
    samples = load_motion_dir(tmp_path / "data", MotionFormat())
    assert len(samples) == 20 and {s.label for s in samples} == {"wing"} and {s.person for s in samples} == {"ann"}
    assert all(95 < s.rate_hz < 105 and abs(s.data[:, 2].mean() - 1.0) < 0.1 for s in samples)
    assert len(files) == 20


def test_ten_seconds_of_audio_load_in_the_micro_speech_loader(tmp_path):
    from tinyml.tasks.micro_speech.data import load_speech_dir, read_wav

    with SimBoard(kind="audio", rate_hz=16000, frame=256, speed=4) as board:
        summary, _ = capture(board, tmp_path, task="micro_speech", label="yes", count=1, seconds=10.0,
                             data_timeout=3.0)
    assert summary["kept"] == 1
    (wav,) = (tmp_path / "data" / "yes").glob("*.wav")
    audio = read_wav(wav, 16000)
    assert len(audio) == 160000
    clips = load_speech_dir(tmp_path / "data", ("yes",))
    assert [c.label for c in clips if c.label == "yes"] == ["yes"] and clips[0].person == "ann"


def test_bit_flips_and_garbage_are_rejected_not_kept(tmp_path):
    with SimBoard(rate_hz=100, speed=8, bitflip=0.01, garbage=0.01, seed=3) as board:
        summary, _ = capture(board, tmp_path, count=5)
    assert summary["kept"] == 5 and summary["rejected_lines"] > 0
    check_files_valid(tmp_path / "data")


def test_board_reset_mid_stream_discards_the_partial_sample(tmp_path):
    with SimBoard(rate_hz=100, speed=8, reset_after_rows=50) as board:  # in the middle of the first sample
        summary, _ = capture(board, tmp_path, count=3)
    assert summary["kept"] == 3 and summary["resets"] == 1 and "board reset" in summary["reasons"]
    check_files_valid(tmp_path / "data")


def test_cable_pulled_then_replugged(tmp_path):
    with SimBoard(rate_hz=100, speed=8, unplug_after_rows=250) as board:
        threading.Timer(0.8, board.replug).start()
        summary, lines = capture(board, tmp_path, count=3)
    assert summary["kept"] == 3 and summary["reconnects"] == 1
    assert any("disconnected" in line for line in lines)
    check_files_valid(tmp_path / "data")


def test_cable_pulled_for_good_keeps_finished_samples(tmp_path):
    # 101 rows a sample plus the rows sent before the board sees STOP: the third sample is under way
    with SimBoard(rate_hz=100, speed=8, unplug_after_rows=340) as board:
        with pytest.raises(TinyMLError, match=r"did not come back .* 2 samples kept"):
            capture(board, tmp_path, count=5, reconnect_timeout=1.0)
    assert len(check_files_valid(tmp_path / "data")) == 2


def test_endless_line_from_the_board(tmp_path):
    with SimBoard(rate_hz=100, speed=8, endless_line_after_rows=30) as board:
        summary, _ = capture(board, tmp_path, count=2)
    assert summary["kept"] == 2
    check_files_valid(tmp_path / "data")


@pytest.mark.parametrize("fault,message", [("silent", "the board is silent"), ("wrong_baud", "check --baud")])
def test_silent_board_and_wrong_baud(tmp_path, fault, message):
    with SimBoard(**{fault: True}) as board:
        with pytest.raises(TinyMLError, match=message):
            capture(board, tmp_path, handshake_timeout=1.0)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_permission_denied_is_clear(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data").chmod(stat.S_IRUSR | stat.S_IXUSR)
    with SimBoard(rate_hz=100, speed=8) as board:
        with pytest.raises(TinyMLError, match="cannot write"):
            capture(board, tmp_path, count=1)
        (tmp_path / "data").chmod(0o755)


@pytest.mark.parametrize("err", [OSError(28, "No space left on device"), PermissionError(13, "Permission denied")])
def test_disk_error_keeps_earlier_samples(tmp_path, monkeypatch, err):
    """The third write fails (disk full, permission denied): a clear error, the first two files are intact."""
    from tinyml import files as writer

    real = writer.write_bytes_atomic
    calls = {"n": 0}

    def failing(path, data):
        if path.suffix == ".csv":
            calls["n"] += 1
            if calls["n"] == 3:
                raise err
        return real(path, data)

    monkeypatch.setattr(writer, "write_bytes_atomic", failing)
    with SimBoard(rate_hz=100, speed=8) as board:
        with pytest.raises(TinyMLError, match=f"{err.strerror}.*intact"):
            capture(board, tmp_path, count=5)
    assert len(check_files_valid(tmp_path / "data")) == 2


@pytest.mark.parametrize("label", ["a/b", "..", "x\x00y", "", "../../etc"])
def test_unsafe_labels_are_refused(tmp_path, label):
    with pytest.raises(TinyMLError, match="not a safe label"):
        run_capture(CaptureOptions(task="magic_wand", label=label, out_dir=tmp_path), lambda: None)
    assert not any(tmp_path.iterdir())


def test_capture_cli_is_light_and_says_what_is_wrong(tmp_path):
    code = ("import sys; from tinyml.cli import main\n"
            "rc = main(['capture', '--port', '/dev/nonexistent-tty', '--task', 'magic_wand', '--label', 'wing'])\n"
            "print('RC', rc, 'TF', 'tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "RC 2 TF False" in proc.stdout
    assert proc.stderr.startswith("tinyml: error: cannot open /dev/nonexistent-tty") and proc.stderr.count("\n") == 1
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tinyml", "capture", "--help"], check=True, capture_output=True)
    assert time.perf_counter() - start < 2.0


def test_ctrl_c_finishes_cleanly(tmp_path):
    seen = []

    def progress(line):
        seen.append(line)
        if "sample 2/" in line:
            raise KeyboardInterrupt

    opts = CaptureOptions(task="magic_wand", label="ring", out_dir=tmp_path / "data", count=10, seconds=1.0)
    with SimBoard(rate_hz=100, speed=8) as board:
        summary = run_capture(opts, lambda: open_port(board.path, 115200), progress=progress)
    assert summary["interrupted"] and summary["kept"] == 2
    assert len(check_files_valid(tmp_path / "data")) == 2


def test_plain_csv_mode_measures_the_rate(tmp_path):
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    stop = threading.Event()

    def sketch():  # the Arduino IMU_Capture tutorial's output, at about 100 lines/s
        os.write(master, b"aX,aY,aZ,gX,gY,gZ\r\n")
        while not stop.is_set():
            os.write(master, b"0.10\t-0.20\t0.98\t1.5\t-2.0\t0.3\r\n")
            time.sleep(0.01)

    thread = threading.Thread(target=sketch, daemon=True)
    thread.start()
    opts = CaptureOptions(task="magic_wand", label="punch", out_dir=tmp_path / "data", count=2, seconds=1.0,
                          plain=True, plain_axes=6)
    lines = []
    try:
        summary = run_capture(opts, lambda: open_port(path, 115200), progress=lines.append)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
    assert summary["kept"] == 2 and "rate measured on the host" in lines[0]
    from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir

    samples = load_motion_dir(tmp_path / "data", MotionFormat(axes=6))
    assert len(samples) == 2 and 50 < samples[0].rate_hz < 110 and samples[0].data.shape[1] == 6


def test_two_writers_never_take_the_same_sample_number(tmp_path):
    """Two processes writing one folder (default person): every sample kept, each in the manifest once."""
    import json
    import multiprocessing as mp

    from tinyml.capture.recorder import Sample, write_sample

    def writer(k):
        hello = Hello(1, "b", "BMI270", ("ax", "ay", "az"), ("g", "g", "g"), 100.0)
        for i in range(25):
            data = np.full((10, 3), k * 100 + i, dtype=np.float32)
            write_sample(tmp_path / "data", Sample("motion", np.arange(10) * 10_000, data, 100.0), hello, "wing", "me")

    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=writer, args=(k,)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    files = sorted((tmp_path / "data" / "wing").glob("*.csv"))
    assert len(files) == 50
    lines = (tmp_path / "data" / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 50 and len({json.loads(line)["file"] for line in lines}) == 50
    firsts = {f.read_text().splitlines()[2].split(",")[2] for f in files}
    assert len(firsts) == 50  # no file overwrote another


@pytest.mark.parametrize("board_kw, reason", [
    ({"rate_hz": 60, "announce_rate": 100}, "where HELLO announced 100 Hz"),
    ({"extra_values": 3}, "rows with 6 values where HELLO announced 3 axes"),
    ({"backwards": True}, "timestamps going backwards"),
])
def test_data_that_never_forms_a_sample_stops_with_the_reason(tmp_path, board_kw, reason):
    import time

    with SimBoard(speed=8, **board_kw) as board:
        start = time.monotonic()
        with pytest.raises(TinyMLError) as err:
            capture(board, tmp_path, count=1, seconds=0.5, sample_timeout=4.0)
    assert time.monotonic() - start < 12
    assert "no sample formed" in str(err.value) and reason in str(err.value), str(err.value)


@pytest.mark.parametrize("rate", ["0", "-5", "1e30", "nan"])
def test_hello_fields_are_checked(rate):
    from tinyml.capture.protocol import parse_hello

    msg = next(m for m in Parser().feed(encode("HELLO", 1, "b", "s", "ax;ay;az", "g;g;g", rate)) if isinstance(m, Message))
    with pytest.raises(ValueError, match="rate"):
        parse_hello(msg)
    for fields in ((2, "b", "s", "ax", "g", "100"), (1, "b", "s", "ax;ay", "g", "100")):
        msg = next(m for m in Parser().feed(encode("HELLO", *fields)) if isinstance(m, Message))
        with pytest.raises(ValueError):
            parse_hello(msg)


@pytest.mark.slow
def test_randomized_fault_sessions_lose_nothing():
    """The seeded CI slice of benchmarks/bench_robustness.py --capture (500 there)."""
    from capture_faults import run_sessions

    report = run_sessions(16, seed=5, show=print)
    totals = report["totals"]
    assert report["ok"], report["text"]
    assert totals["reported kept"] == totals["on disk"] > 0
    assert totals["discards on clean sessions"] == 0


# ---- plain mode: someone else's sketch -------------------------------------------------------

def test_plain_splitter_cuts_at_the_sketchs_marks():
    from tinyml.capture.session import PlainSplitter

    split = PlainSplitter(axes=3, seconds=0.5)
    out, t = [], 0.0
    lines = [b"aX,aY,aZ", b""] + [b"1,2,3"] * 40 + [b""] + [b"4,5,6"] * 30 + [b"aX,aY,aZ"] + [b"7,8"] + \
        [b"1,1,1"] * 2 + [b""]
    for line in lines:
        t += 0.02  # 40 rows span 0.8 s: longer than --seconds, still one gesture
        out += split.feed(line, t)
    assert [len(rows) for _, rows in out] == [40, 30]  # the 2-row blip is noise, not a gesture
    assert split.marks_seen and split.skipped == 1 and split.discarded == 1
    assert out[1][1][0].tolist() == [4.0, 5.0, 6.0]


def test_plain_splitter_cuts_by_time_without_marks():
    from tinyml.capture.session import PlainSplitter

    split = PlainSplitter(axes=2, seconds=1.0)
    cuts = [(i, [len(r) for _, r in got]) for i in range(650) if (got := split.feed(b"0.5\t-1", i * 0.01))]
    # rows are held until 4 s pass without a mark (a gesture could be longer than --seconds); then
    # every second is a sample
    assert cuts == [(400, [101, 101, 101]), (403, [101]), (504, [101]), (605, [101])] and split.mode == "time"
    assert split.feed(b"", 6.6) == [] and split.mode == "time"  # a stray blank line changes nothing


def _plain(board, tmp_path, **kw):
    opts = CaptureOptions(task="magic_wand", label="punch", out_dir=tmp_path / "data", count=kw.pop("count", 3),
                          seconds=kw.pop("seconds", 0.1), plain=True, plain_axes=6, data_timeout=2.0,
                          reconnect_timeout=3.0, **kw)
    lines = []
    summary = run_capture(opts, board.opener, progress=lines.append)
    return summary, lines


@pytest.mark.parametrize("repeat_header", [False, True])
def test_plain_mode_keeps_whole_gestures_as_the_sketch_marks_them(tmp_path, repeat_header):
    """IMU_Capture sends 119 rows per gesture; --seconds shorter than a gesture must not cut it."""
    from simboard import PlainBoard
    from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir

    with PlainBoard(rows=119, rate_hz=500, junk_every=50, repeat_header=repeat_header) as board:
        summary, lines = _plain(board, tmp_path, seconds=0.1)
    samples = load_motion_dir(tmp_path / "data", MotionFormat(axes=6))
    assert summary["kept"] == 3 and [len(s.data) for s in samples] == [119] * 3
    assert summary["rejected_lines"] >= 6 and summary["discarded"] == 0 and summary["marked"]
    assert any("marked by the sketch" in line for line in lines)


def test_plain_mode_reconnects_after_a_pulled_cable(tmp_path):
    from simboard import PlainBoard

    with PlainBoard(rows=60, rate_hz=500, unplug_after=1) as board:
        summary, lines = _plain(board, tmp_path, count=3)
    assert summary["kept"] == 3 and summary["reconnects"] == 1
    assert any("disconnected" in line for line in lines)
    assert len(check_files_valid_plain(tmp_path / "data")) == 3


def check_files_valid_plain(folder):
    files = sorted(folder.rglob("*.csv"))
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert sorted(m["file"] for m in manifest) == sorted(str(f.relative_to(folder)) for f in files)
    return files
