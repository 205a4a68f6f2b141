"""Generated C preprocessing and post-processing, compiled on the host, against the Python pipeline."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA, build_c_harness
from fixtures import FakeInfo
from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir
from tinyml.quantize import threshold_q
from tinyml.tasks.magic_wand.detect import GestureDetector, GestureRule, run_detector
from tinyml.tasks.magic_wand import features as mf
from tinyml.tasks.magic_wand.task import MagicWandConfig, TASK

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "motion_features.h"
#include "gesture_detector.h"
int main(int argc, char** argv) {
  (void)argv;
  if (argc > 1) { /* detector mode: lines "t_ms s0 s1 ..." */
    GestureDetector d; gesture_init(&d);
    unsigned long t; int8_t s[GESTURE_CLASSES]; int v;
    while (scanf("%lu", &t) == 1) {
      for (int i = 0; i < GESTURE_CLASSES; ++i) { if (scanf("%d", &v) != 1) return 2; s[i] = (int8_t)v; }
      int hit = gesture_update(&d, s, (uint32_t)t);
      if (hit >= 0) printf("%lu %d\n", t, hit);
    }
    return 0;
  }
  MotionFeatures m; motion_init(&m);
  unsigned long long t; float v[MOTION_AXES]; long i = 0; int8_t out[MOTION_WINDOW * MOTION_AXES];
  while (scanf("%llu", &t) == 1) {
    for (int a = 0; a < MOTION_AXES; ++a) if (scanf("%f", &v[a]) != 1) return 2;
    if (motion_push(&m, v, (uint64_t)t)) {
      motion_window_int8(&m, out);
      printf("%ld", i);
      for (int k = 0; k < MOTION_WINDOW * MOTION_AXES; ++k) printf(" %d", out[k]);
      printf("\n");
    }
    ++i;
  }
  return 0;
}
"""


def build_harness(tmp_path: Path, cfg: MagicWandConfig, info) -> Path:
    from tinyml import config

    return build_c_harness(tmp_path, TASK.firmware(cfg, info), HARNESS)


def real_stream():
    root = SHARED_DATA / "magic_wand"
    if not root.is_dir():
        pytest.skip(f"real wand recordings not found at {root}")
    samples = load_motion_dir(root, MotionFormat(units="mg", rate_hz=100.0))
    # a continuous stream: 12 real gestures of different classes back to back
    picks = [samples[i] for i in range(0, len(samples), len(samples) // 12)][:12]
    return np.concatenate([s.data for s in picks]).astype(np.float32)


@pytest.mark.parametrize("scale,zp", [(0.031, -3), (0.0157, 10)])
def test_c_preprocessing_matches_python_on_a_real_recording(tmp_path, scale, zp):
    cfg = MagicWandConfig()
    info = FakeInfo(scale, zp, cfg.features.window, cfg.features.axes, len(cfg.labels))
    exe = build_harness(tmp_path, cfg, info)
    values = real_stream()
    rng = np.random.default_rng(1)
    # irregular device timing (jitter and a dropped stretch) exercises binning and gap filling
    dt = rng.integers(8000, 12001, size=len(values))
    dt[len(dt) // 2] = 450_000
    t_us = np.cumsum(dt).astype(np.int64) + 3_000_000_000  # past the 32-bit micros() wrap
    lines = "\n".join(f"{t} " + " ".join(repr(float(x)) for x in row) for t, row in zip(t_us, values))
    out = subprocess.run([str(exe)], input=lines, capture_output=True, text=True, check=True).stdout.splitlines()
    c_windows = [(int(line.split()[0]), np.array(line.split()[1:], dtype=np.int8)) for line in out]
    py_windows = mf.stream_windows(values, t_us, cfg.features, mf.input_multiplier(scale), zp)
    assert len(c_windows) == len(py_windows) > 50
    for (ci, cw), (pi, pw) in zip(c_windows, py_windows):
        assert ci == pi
        assert np.array_equal(cw, pw.reshape(-1)), f"window after reading {ci} differs"


def run_c_and_python(tmp_path, cfg, values, scale=0.031, zp=-3):
    info = FakeInfo(scale, zp, cfg.features.window, cfg.features.axes, len(cfg.labels))
    exe = build_harness(tmp_path, cfg, info)
    t_us = mf.timestamps_us(len(values), 100.0, 1_000_000)
    lines = "\n".join(f"{t} " + " ".join(repr(float(x)) for x in row) for t, row in zip(t_us, values))
    out = subprocess.run([str(exe)], input=lines, capture_output=True, text=True, check=True).stdout.splitlines()
    c_windows = [(int(line.split()[0]), np.array(line.split()[1:], dtype=np.int8)) for line in out]
    py_windows = mf.stream_windows(values, t_us, cfg.features, mf.input_multiplier(scale), zp)
    return c_windows, py_windows


@pytest.mark.parametrize("mounting", ["upside down", "on its side", "free fall", "rms off", "raw window"])
def test_c_gravity_frame_matches_python_for_every_mounting(tmp_path, mounting):
    """The gravity frame's branches: flipped boards, a tilted one, a weak mean (no rotation), and the
    options that turn parts of it off, all bit-exact between the generated C and Python."""
    from dataclasses import replace

    cfg = MagicWandConfig()
    values = real_stream()[:1500].copy()
    if mounting == "upside down":
        values[:, 1:] *= -1
    elif mounting == "on its side":
        values = values @ np.array([[0.0, 0.6, 0.8], [1.0, 0.0, 0.0], [0.0, 0.8, -0.6]]).T.astype(np.float32)
    elif mounting == "free fall":
        values[300:900] = np.random.default_rng(2).normal(0, 0.05, (600, 3)).astype(np.float32)
    elif mounting == "rms off":
        cfg = replace(cfg, features=replace(cfg.features, motion_rms=0))
    else:
        cfg = replace(cfg, features=replace(cfg.features, align_gravity=False))
    c_windows, py_windows = run_c_and_python(tmp_path, cfg, values)
    assert len(c_windows) == len(py_windows) > 50
    for (ci, cw), (pi, pw) in zip(c_windows, py_windows):
        assert ci == pi and np.array_equal(cw, pw.reshape(-1)), f"window after reading {ci} differs"


def test_c_gravity_frame_turns_the_gyroscope_too(tmp_path):
    from dataclasses import replace

    cfg = MagicWandConfig(labels=("punch", "flex"), negative_label="")
    cfg = replace(cfg, features=replace(cfg.features, axes=6))
    accel = real_stream()[:1200]
    gyro = np.random.default_rng(3).normal(0, 120, (len(accel), 3)).astype(np.float32)
    c_windows, py_windows = run_c_and_python(tmp_path, cfg, np.concatenate([accel[:, [2, 0, 1]], gyro], axis=1))
    assert len(c_windows) == len(py_windows) > 50
    assert all(ci == pi and np.array_equal(cw, pw.reshape(-1)) for (ci, cw), (pi, pw) in zip(c_windows, py_windows))


def test_gravity_frame_removes_the_mounting():
    """The same motion recorded by a board mounted another way gives (nearly) the same features;
    the raw window does not."""
    from dataclasses import replace

    cfg = MagicWandConfig().features
    values = real_stream()[:400]
    turned = values @ np.array([[0.0, 0.6, 0.8], [1.0, 0.0, 0.0], [0.0, 0.8, -0.6]]).T.astype(np.float32)
    rows = lambda v: mf.decimate(mf.to_fixed(v, cfg), mf.timestamps_us(len(v), 100.0), cfg)[:cfg.window]
    a, b = mf.gravity_frame(rows(values), cfg), mf.gravity_frame(rows(turned), cfg)
    raw = replace(cfg, align_gravity=False)
    # the turned board's heading about gravity differs, so compare what a heading cannot change
    assert np.abs(a[:, 2] - b[:, 2]).max() <= 8
    assert np.abs(np.hypot(a[:, 0], a[:, 1]) - np.hypot(b[:, 0], b[:, 1])).max() <= 12
    assert np.abs(mf.gravity_frame(rows(values), raw) - mf.gravity_frame(rows(turned), raw)).max() > 500


def test_isqrt_is_exact():
    v = np.array([0, 1, 2, 3, 4, 15, 16, 17, 10**12 - 1, 10**12, 2**52 + 1, 2**62 - 1], dtype=np.int64)
    import math

    assert mf.isqrt(v).tolist() == [math.isqrt(int(x)) for x in v]


def test_c_detector_matches_python_on_a_score_stream(tmp_path):
    cfg = MagicWandConfig(rule=GestureRule(threshold=0.7, min_consecutive=3, suppression_ms=800))
    info = FakeInfo(0.03, 0, cfg.features.window, cfg.features.axes, len(cfg.labels))
    exe = build_harness(tmp_path, cfg, info)
    rng = np.random.default_rng(5)
    n = 3000
    scores = rng.integers(-128, 128, size=(n, 4)).astype(np.int8)
    # bursts where one class dominates, so detections actually happen
    for start in rng.integers(0, n - 10, size=120):
        cls = rng.integers(0, 4)
        scores[start:start + 6] = -128
        scores[start:start + 6, cls] = rng.integers(60, 128, size=6)
    times = np.cumsum(rng.integers(100, 200, size=n))
    text = "\n".join(f"{t} " + " ".join(str(int(v)) for v in row) for t, row in zip(times, scores))
    out = subprocess.run([str(exe), "detect"], input=text, capture_output=True, text=True, check=True).stdout
    c_hits = [tuple(map(int, line.split())) for line in out.splitlines()]
    tq = threshold_q(cfg.rule.threshold, 1 / 256, -128)
    py_hits = run_detector(GestureDetector(cfg.rule, 3, tq), scores, times)
    assert len(py_hits) > 20
    assert c_hits == py_hits


def test_threshold_q_is_the_smallest_passing_score():
    for thr in (0.5, 0.8, 0.93):
        q = threshold_q(thr, 1 / 256, -128)
        assert (q + 128) / 256 >= thr > (q - 1 + 128) / 256


def test_int8_inputs_equal_the_stream_pipeline():
    """Training-time int8 inputs use the same integer steps as stream_windows (and thus the C)."""
    cfg = MagicWandConfig()
    info = FakeInfo(0.031, -3, cfg.features.window, 3, 4)
    samples = TASK.synthetic(cfg, 2, seed=4)
    fixed, _ = TASK.examples(samples, cfg)
    q = TASK.int8_inputs(fixed, info)
    direct = mf.quantize_fixed(fixed, mf.input_multiplier(0.031), -3)
    assert np.array_equal(q.reshape(direct.shape), direct)
