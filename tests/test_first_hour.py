"""The first hour: output that fits 80 columns, no TensorFlow chatter, help that teaches,
sketch files the IDEs build, capture prompts and clear port errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run80, run_cli
from fixtures import tiny_model
from simboard import SimBoard

TF_LOG_MARKERS = ("I0000", "E0000", "W0000", "oneDNN", "absl::InitializeLog", "cpu_feature_guard", "NodeDef")


def widest(proc) -> int:
    return max((len(line) for line in (proc.stdout + proc.stderr).splitlines()), default=0)


def test_tinyml_alone_prints_help_and_exits_2():
    proc = run80()
    assert proc.returncode == 2 and "usage: tinyml" in proc.stdout
    proc = run80("train", "--help")
    assert "magic_wand" in proc.stdout and "micro_speech" in proc.stdout and "person_detection" in proc.stdout


def test_inspect_fits_80_columns(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run80("inspect", str(model))
    assert proc.returncode == 0 and widest(proc) <= 80, proc.stdout


@pytest.mark.slow
def test_train_prints_no_tensorflow_log_and_fits_80_columns(tmp_path):
    proc = run80("train", "magic_wand", "--synthetic", "20", "--set", "epochs=1", "--out", str(tmp_path / "r"),
                 "--allow-weak")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert not [line for line in out.splitlines() if any(m in line for m in TF_LOG_MARKERS)], out
    assert widest(proc) <= 80, out


@pytest.mark.slow
def test_demo_quick_fits_80_columns(quick_demo_run):
    proc, _ = quick_demo_run  # run in 80 columns with TensorFlow's log level unset
    assert widest(proc) <= 80, "\n".join(line for line in proc.stdout.splitlines() if len(line) > 80)
    assert not [line for line in proc.stderr.splitlines() if any(m in line for m in TF_LOG_MARKERS)]


def test_capture_fits_80_columns_and_counts_down(tmp_path):
    board = SimBoard(rate_hz=100, speed=8)
    try:
        proc = run80("capture", "--port", board.path, "--task", "magic_wand", "--label", "wing", "--count", "2",
                     "--seconds", "0.5", "--countdown", "1", "--out", str(tmp_path / "d"), timeout=120)
    finally:
        board.close()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert widest(proc) <= 80, proc.stdout
    assert sum("get ready" in line for line in lines) == 2 and sum("go!" in line for line in lines) == 2
    ready = next(i for i, line in enumerate(lines) if "get ready" in line)
    assert any("1…" in line for line in lines[ready:ready + 2])


def test_capture_refuses_a_board_of_another_sensor(tmp_path):
    board = SimBoard(rate_hz=100, speed=8)  # an IMU board
    try:
        proc = run80("capture", "--port", board.path, "--task", "micro_speech", "--label", "yes", "--count", "1",
                     "--countdown", "0", "--out", str(tmp_path / "d"), timeout=120)
    finally:
        board.close()
    assert proc.returncode == 2 and "sends motion" in proc.stderr and "records audio" in proc.stderr
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").rglob("*.csv"))


def test_permission_denied_names_the_dialout_fix(monkeypatch):
    import serial

    from tinyml.capture.port import open_port
    from tinyml.errors import TinyMLError

    def denied(*a, **kw):
        raise serial.SerialException(13, "could not open port /dev/ttyACM0: [Errno 13] Permission denied")

    monkeypatch.setattr(serial, "Serial", denied)
    with pytest.raises(TinyMLError, match="dialout"):
        open_port("/dev/ttyACM0", 115200)


def test_sketch_files_ide_friendly(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    old = os.umask(0o022)
    try:
        proc = run_cli("export", str(model), "--board", "nano33ble_sense", "--out", str(tmp_path / "s"))
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    sketch = tmp_path / "s" / "m"
    assert (sketch / "model_data.cpp").is_file() and not (sketch / "model_data.cc").exists()
    for f in sketch.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
    upload = next(line for line in proc.stdout.splitlines() if "arduino-cli upload" in line)
    assert "'<PORT>'" in upload or "/dev/" in upload  # quoted placeholder: pasting it never redirects


def test_two_runs_of_one_task_export_side_by_side(tmp_path, quick_demo):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(quick_demo / "runs" / "magic_wand", runs / "wand_a")
    shutil.copytree(quick_demo / "runs" / "magic_wand", runs / "wand_b")
    for run in ("wand_a", "wand_b"):
        proc = run_cli("export", str(runs / run), "--board", "nano33ble_sense", "--out", str(tmp_path / "out"))
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "wand_a" / "wand_a.ino").is_file()
    assert (tmp_path / "out" / "wand_b" / "wand_b.ino").is_file()
    assert json.loads((tmp_path / "out" / "wand_a" / "manifest.json").read_text())["task"] == "magic_wand"


def test_evaluate_scores_a_bare_published_model(reference_models, shared_data):
    proc = run_cli("evaluate", str(reference_models / "micro_speech_quantized.tflite"), "--task", "micro_speech",
                   "--data", str(shared_data / "speech_commands"), "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["samples"] == 839 and result["accuracy"] > 0.85  # every clip; the published model, measured: 0.880
    proc = run_cli("evaluate", str(reference_models / "micro_speech_quantized.tflite"),
                   "--data", str(shared_data / "speech_commands"))
    assert proc.returncode == 2 and "--task" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_everything_but_synthetic_speech_works_without_espeak():
    code = ("import sys; sys.modules['espeakng_loader'] = None\n"
            "from tinyml.cli import main\n"
            "from tinyml.tasks import all_tasks, get_task\n"
            "wand = get_task('magic_wand'); cfg = wand.default_config()\n"
            "assert len(wand.synthetic(cfg, 2, 0)) == 8\n"
            "from tinyml.errors import TinyMLError\n"
            "from tinyml.tasks.micro_speech.synthetic import _ESpeak\n"  # the engine (clips may come from a cache)
            "try:\n    _ESpeak()\nexcept TinyMLError as e:\n    print('REFUSED', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED" in out.stdout and "tinyml[speech-synth]" in out.stdout


def test_sigterm_stops_the_board_and_exits_130(tmp_path):
    import signal
    import time

    board = SimBoard(rate_hz=100, speed=1)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tinyml", "capture", "--port", board.path, "--task",
                                 "magic_wand", "--label", "wing", "--count", "50", "--seconds", "1", "--countdown",
                                 "0", "--out", str(tmp_path / "d")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=REPO)
        deadline = time.time() + 60
        while not list((tmp_path / "d").rglob("*.csv")) and time.time() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "stopped" in out
        stops = board.stops_received  # one STOP per finished sample, and one for the interruption
        assert stops >= len(list((tmp_path / "d").rglob("*.csv"))) + 1
    finally:
        board.close()


def test_count_options_need_at_least_one(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    for args in (("verify", str(model), "--count", "0"),
                 ("export", str(model), "--board", "nano33ble_sense", "--out", str(tmp_path), "--verify-count", "-1")):
        proc = run_cli(*args)
        assert proc.returncode == 2 and "at least 1" in proc.stderr


# --- nothing the user made is lost -------------------------------------------------------------


def _export_tiny(tmp_path, path: Path, *extra: str):
    if not path.exists():
        path.write_bytes(tiny_model())
    return run_cli("export", str(path), "--board", "nano33ble_sense", "--out", str(tmp_path / "out"), *extra)


def test_export_again_keeps_the_users_files_and_refuses_hand_edits(tmp_path):
    assert _export_tiny(tmp_path, tmp_path / "tiny.tflite").returncode == 0
    sketch = tmp_path / "out" / "tiny"
    (sketch / "wiring.txt").write_text("LED on pin 3")
    assert _export_tiny(tmp_path, tmp_path / "tiny.tflite").returncode == 0  # unedited: replaced in place
    assert (sketch / "wiring.txt").read_text() == "LED on pin 3"
    ino = sketch / "tiny.ino"
    ino.write_text(ino.read_text() + "\n// my LED code\n")
    proc = _export_tiny(tmp_path, tmp_path / "tiny.tflite")
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and "tiny.ino" in proc.stderr
    assert "edited by hand" in proc.stderr and "--overwrite" in proc.stderr
    assert ino.read_text().endswith("// my LED code\n")
    proc = _export_tiny(tmp_path, tmp_path / "tiny.tflite", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert "my LED code" not in ino.read_text() and (sketch / "wiring.txt").is_file()


def test_colliding_sketch_names_are_refused_not_overwritten(tmp_path):
    assert _export_tiny(tmp_path, tmp_path / "my run.tflite").returncode == 0
    first = (tmp_path / "out" / "my_run" / "manifest.json").read_text()
    proc = _export_tiny(tmp_path, tmp_path / "my-run.tflite")
    assert proc.returncode != 0 and "my run" in proc.stderr and "--name" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert (tmp_path / "out" / "my_run" / "manifest.json").read_text() == first
    proc = run_cli("export", str(tmp_path / "my run.tflite"), "--board", "nano_esp32", "--out",
                   str(tmp_path / "out"))
    assert proc.returncode != 0 and "--name my_run_nano_esp32" in proc.stderr
    assert (tmp_path / "out" / "my_run" / "manifest.json").read_text() == first
    proc = run_cli("export", str(tmp_path / "my run.tflite"), "--board", "nano_esp32", "--out",
                   str(tmp_path / "out"), "--name", "my_run_nano_esp32")
    assert proc.returncode == 0 and (tmp_path / "out" / "my_run" / "manifest.json").read_text() == first


def test_a_folder_that_is_not_a_run_is_refused_before_training(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    proc = run_cli("train", "magic_wand", "--out", str(mine), "--synthetic", "10")
    assert proc.returncode != 0 and "did not write" in proc.stderr and "training" not in proc.stdout
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]


def test_a_second_training_into_the_same_out_is_refused_at_once(tmp_path):
    from tinyml.files import output_lock

    with output_lock(tmp_path / "race"):  # another tinyml holds it, as a training would
        proc = run_cli("train", "magic_wand", "--out", str(tmp_path / "race"), "--synthetic", "10")
    assert proc.returncode != 0 and "another tinyml command is writing" in proc.stderr
    assert "training" not in proc.stdout and not (tmp_path / "race").exists()


@pytest.mark.slow
def test_training_again_keeps_the_users_files_in_the_run_folder(tmp_path):
    run = tmp_path / "runs" / "ow"
    args = ("train", "magic_wand", "--out", str(run), "--synthetic", "10", "--set", "epochs=1",
            "--set", "cross_validate_below=0", "--allow-weak")  # one training per run, not 5 folds + 1
    assert run_cli(*args).returncode == 0
    (run / "NOTES.md").write_text("tried 1 epoch")
    assert run_cli("export", str(run), "--board", "nano33ble_sense", "--out", str(run / "sketches"),
                   "--allow-weak").returncode == 0
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert (run / "NOTES.md").read_text() == "tried 1 epoch" and (run / "sketches" / "ow" / "ow.ino").is_file()
    assert "sketches" not in json.loads((run / "run.json").read_text())["files"]
