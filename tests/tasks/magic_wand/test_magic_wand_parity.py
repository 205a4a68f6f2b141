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
