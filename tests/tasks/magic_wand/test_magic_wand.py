"""magic_wand end to end: train (quick) → evaluate → export → compile; and golden generated C."""

import json

import pytest

from conftest import check_golden, compile_sketch, run_cli
from fixtures import FakeInfo
from tinyml import config
from tinyml.export.render import render
from tinyml.tasks.magic_wand.task import TASK, MagicWandConfig


def test_generated_c_matches_golden_files():
    cfg = MagicWandConfig()
    fw = TASK.firmware(cfg, FakeInfo(0.031, -3, 64, 3, 4))
    ctx = {"tool_version": "golden", **fw.context}
    check_golden("magic_wand_c", {out: render(t, ctx) for out, t in fw.extra_templates})


def test_config_round_trips_and_refuses_unknown_keys():
    cfg = MagicWandConfig(epochs=3)
    assert config.from_dict(MagicWandConfig, config.to_dict(cfg)) == cfg
    from tinyml.errors import TinyMLError

    with pytest.raises(TinyMLError, match="unknown MagicWandConfig setting"):
        config.from_dict(MagicWandConfig, {"epochz": 3})


def test_unsafe_label_in_config_is_refused(tmp_path):
    proc = run_cli("train", "magic_wand", "--out", str(tmp_path / "run"), "--set", "labels=wing,../x,negative")
    assert proc.returncode == 2 and "not a safe label" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_train_evaluate_export(tmp_path, shared_data):
    run = tmp_path / "run"
    proc = run_cli("train", "magic_wand", "--out", str(run), "--synthetic", "30", "--set", "epochs=6",
                   "--set", "augment_copies=1", "--allow-weak", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((run / "report.json").read_text())
    assert report["flash_bytes"] <= 20480 and report["arena_bytes"] > 0
    assert set(report) >= {"float_accuracy", "int8_accuracy", "confusion", "per_class_recall"}
    # generated negatives train the model but are never scored: validation holds only the given data
    assert report["generated_train_recordings"] == MagicWandConfig().synthetic_negatives
    assert report["train_recordings"] + report["val_recordings"] == 4 * 30 + report["generated_train_recordings"]
    assert (run / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((run / "config.json").read_text())
    assert saved["epochs"] == 6 and saved["features"]["window"] == 64

    proc = run_cli("evaluate", str(run), "--data", str(shared_data / "magic_wand"), "--json",
                   "--set", "data_format.rate_hz=100")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["samples"] > 400 and 0 <= result["accuracy"] <= 1

    out = tmp_path / "sketch"
    proc = run_cli("export", str(run), "--board", "nano33ble_sense", "--out", str(out), "--allow-weak")
    assert proc.returncode == 0, proc.stderr
    sketch = out / "run"  # named after the run folder
    assert "Arduino_LSM9DS1.h" in (sketch / "run.ino").read_text()
    assert compile_sketch(sketch, "run.ino").returncode == 0
    proc = run_cli("export", str(run), "--board", "nano33ble_sense_rev2", "--out", str(out), "--name", "wand2", "--allow-weak")
    assert proc.returncode == 0
    assert "Arduino_BMI270_BMM150.h" in (out / "wand2" / "wand2.ino").read_text()
    assert compile_sketch(out / "wand2", "wand2.ino").returncode == 0


def test_generated_negatives_join_training_only():
    cfg = MagicWandConfig(synthetic_negatives=12)
    extra = TASK.extra_training(cfg)
    assert len(extra) == 12 and {s.label for s in extra} == {"negative"}
    again = TASK.extra_training(cfg)
    assert all((a.data == b.data).all() for a, b in zip(extra, again))  # same seed, same recordings
    # magnitude at rest is gravity: the generator speaks the loaders' units (g)
    assert 0.5 < float(abs(extra[0].data).max()) < 8
    assert TASK.extra_training(MagicWandConfig(synthetic_negatives=0)) == []
    no_negative = MagicWandConfig(labels=("punch", "flex"), negative_label="", synthetic_negatives=12)
    assert TASK.extra_training(no_negative) == []


def test_generated_gestures_come_in_both_drawing_styles():
    """synthetic_gestures adds wing/ring/slope swung from the wrist (the board turns: the direction of
    gravity in the board's frame swings) and carried (it barely turns), for the training split only."""
    import numpy as np

    cfg = MagicWandConfig(synthetic_negatives=0, synthetic_gestures=20)
    extra = TASK.extra_training(cfg)
    assert len(extra) == 60 and {s.label for s in extra} == {"wing", "ring", "slope"}

    def tilt_degrees(sample):  # largest angle between the slowly-varying reading and its mean
        k = max(1, int(sample.rate_hz * 0.2))
        slow = np.stack([np.convolve(sample.data[:, a], np.ones(k) / k, mode="valid") for a in range(3)], axis=1)
        mean = sample.data.mean(axis=0)
        cos = slow @ mean / (np.linalg.norm(slow, axis=1) * np.linalg.norm(mean))
        return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).max())

    from tinyml.tasks.magic_wand.synthetic import synthetic_wand

    def median_tilt(swing_share):
        gestures = synthetic_wand(20, 1, labels=("wing", "ring", "slope"), negative_label="", swing_share=swing_share)
        return float(np.median([tilt_degrees(s) for s in gestures]))

    assert median_tilt(1.0) > 1.5 * median_tilt(0.0)  # swung gestures turn the board, carried ones barely
    assert TASK.extra_training(MagicWandConfig(synthetic_negatives=0)) == []
    punch = MagicWandConfig(labels=("punch", "flex"), negative_label="", synthetic_gestures=20)
    assert TASK.extra_training(punch) == []  # the generator cannot draw these
