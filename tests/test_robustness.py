"""Untrusted models never crash the process: damaged files end in one line, valid small models
are measured without probing arena sizes that abort TFLM."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run_cli


def test_the_reported_segfault_is_one_line(tmp_path, reference_models):
    data = bytearray((reference_models / "micro_speech_quantized.tflite").read_bytes())
    data[18014] = 0x02  # made TFLM's interpreter constructor segfault (rc 139) before
    model = tmp_path / "m.tflite"
    model.write_bytes(bytes(data))
    for args in (("inspect", str(model)), ("export", str(model), "--board", "nano33ble_sense", "--out", str(tmp_path))):
        proc = run_cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "crashed" in proc.stderr


def test_seeded_mutations_never_crash_or_trace():
    """A small seeded version of benchmarks/bench_robustness.py (1,000 there)."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_robustness.py"), "--count", "45", "--cli", "0",
                           "--capture", "0",
                           "--seed", "7"], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "native crash      0" in proc.stdout and "traceback         0" in proc.stdout


def test_a_tiny_dense_model_is_measured_without_aborting():
    """Input(8) → Dense(2, softmax) aborted TFLM ("All temp buffers must be freed") while its arena
    was confirmed 16 B at a time; the confirmation now runs in a child."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from tinyml import tflm
    from tinyml.quantize import quantize

    keras.utils.set_random_seed(0)
    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp))
    tflite = quantize(model, np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32))
    arena = tflm.measure_arena(tflite)
    assert 0 < arena < 8192
    assert tflm.verify(tflite, count=5, arena=arena + 1024).compared == 5


@pytest.mark.parametrize("cut", [9, 100, 400])
def test_truncated_models_are_one_line(tmp_path, cut):
    from fixtures import tiny_model

    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model()[:cut])
    proc = run_cli("inspect", str(model))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", ["fifo", "devzero", "huge", "folder"])
def test_pipes_devices_and_huge_files_are_refused_not_read(tmp_path, kind):
    """A FIFO would block forever and /dev/zero would fill memory: each is one line, within seconds."""
    if kind == "fifo":
        bad = tmp_path / "model.tflite"
        os.mkfifo(bad)
    elif kind == "devzero":
        bad = tmp_path / "zero.tflite"
        os.symlink("/dev/zero", bad)
    elif kind == "huge":
        bad = tmp_path / "huge.tflite"
        with open(bad, "wb") as fh:  # sparse: 100 MB on paper, nothing on disk
            fh.truncate(100 << 20)
    else:
        bad = tmp_path / "dir.tflite"
        bad.mkdir()
    for args in (("inspect", str(bad)), ("export", str(bad), "--board", "nano33ble_sense", "--out", str(tmp_path / "o")),
                 ("verify", str(bad))):
        proc = run_cli(*args, timeout=60)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, (args, proc.stderr[-500:])
        assert proc.stderr.startswith("tinyml: error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "o").exists()


def test_a_fifo_among_recordings_or_as_a_recording_is_refused(tmp_path):
    from tinyml.errors import TinyMLError
    from tinyml.files import read_input
    from tinyml.tasks.micro_speech.data import read_wav

    fifo = tmp_path / "clip.wav"
    os.mkfifo(fifo)
    with pytest.raises(TinyMLError, match="not a regular file"):
        read_wav(fifo, 16000)
    with pytest.raises(TinyMLError, match="not a regular file"):
        read_input(fifo, "x", 10)
    small = tmp_path / "small"
    small.write_bytes(b"x" * 11)
    with pytest.raises(TinyMLError, match="more than"):
        read_input(small, "x", 10)


def test_terminal_escapes_in_tensor_names_are_not_printed(tmp_path):
    from fixtures import tiny_model

    data = tiny_model()
    assert data.count(b"input") == 1
    model = tmp_path / "m.tflite"
    model.write_bytes(data.replace(b"input", b"\x1b[2J\r"))  # clear screen, carriage return
    for args in (("inspect", str(model)), ("inspect", str(model), "--json"), ("verify", str(model))):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout + proc.stderr and "\r" not in proc.stdout + proc.stderr
    import json

    assert json.loads(run_cli("inspect", str(model), "--json").stdout)["inputs"][0]["name"] == "?[2J?"
