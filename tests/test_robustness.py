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
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_robustness.py"), "--count", "45",
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
