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


def _level_circle(clockwise: bool, gyro: bool = False):
    """A board at rest tilted off its z axis, with the motion of a circle drawn in the level plane."""
    import numpy as np

    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    up = np.array([0.3, -0.2, 0.93])
    up /= np.linalg.norm(up)
    a = np.cross(up, [1.0, 0, 0])
    a /= np.linalg.norm(a)
    b = np.cross(up, a)
    sign = -1 if clockwise else 1
    data = up + 0.3 * (np.outer(np.cos(t), a) + np.outer(sign * np.sin(t), b))
    if gyro:
        data = np.concatenate([data, np.tile(up * 40.0, (len(t), 1))], axis=1)  # turning about gravity
    return data, up


def _turn_about_up(data, up):
    """The circle's sense about the up axis: sign of the summed (motion × its change) · up."""
    import numpy as np

    motion = data[:, :3] - data[:, :3].mean(axis=0)
    return float(np.sign(np.cross(motion[:-1], np.diff(motion, axis=0)).sum(axis=0) @ up))


def test_augmentation_tilts_carries_and_mirrors_the_motion_not_gravity():
    """augment_tilt / augment_carry / augment_mirror act on the motion and keep the recording's mean
    (gravity), which the gravity frame would otherwise turn back; a mirror reverses a circle's sense
    and turns a rotation rate the other way (it is a pseudovector); carry removes most of the level
    motion along its main direction."""
    import numpy as np

    from tinyml.tasks.magic_wand.task import _restyle

    data, up = _level_circle(clockwise=False, gyro=True)
    for tilt, carry, mirror in ((0.5, 0, 0), (0, 1, 0), (0, 0, 1), (0.5, 1, 1)):
        out = _restyle(data, np.random.default_rng(3), tilt, carry, mirror)
        assert np.allclose(out[:, :3].mean(axis=0), data[:, :3].mean(axis=0))
    mirrored = _restyle(data, np.random.default_rng(3), 0.0, 0.0, 1.0)
    assert _turn_about_up(data, up) == 1 and _turn_about_up(mirrored, up) == -1
    assert np.allclose(np.linalg.norm(mirrored[:, :3] - up, axis=1), 0.3)  # a reflection keeps lengths
    assert np.allclose(mirrored[:, 3:], -up * 40.0)  # a turn to the left, mirrored, turns right
    tilted = _restyle(data, np.random.default_rng(3), 0.5, 0.0, 0.0)
    assert _turn_about_up(tilted, up) == 1 and not np.allclose(tilted, data)
    assert np.allclose(np.linalg.norm(tilted[:, :3] - up, axis=1), 0.3)

    t = np.linspace(0, 6 * np.pi, 150, endpoint=False)
    line = np.outer(np.sin(t), np.cross(up, [0, 1.0, 0])) + up  # level back and forth
    line += np.outer(0.1 * np.cos(2 * t), up)  # and a little up and down
    carried = _restyle(line, np.random.default_rng(0), 0.0, 1.0, 0.0)
    level = lambda x: np.linalg.norm((x - x.mean(axis=0)) - np.outer((x - x.mean(axis=0)) @ up, up))  # noqa: E731
    assert level(carried) < 0.3 * level(line)
    assert np.allclose((carried - carried.mean(axis=0)) @ up, (line - line.mean(axis=0)) @ up)


def test_augmentation_settings_are_range_checked():
    from tinyml.errors import TinyMLError

    base = MagicWandConfig()
    for bad, needle in (("augment_mirror=1.5", "between 0 and 1"), ("augment_carry=-0.1", "between 0 and 1"),
                        ("augment_tilt=-1", "0 or more")):
        with pytest.raises(TinyMLError, match=needle):
            config.apply_sets(base, [bad])
    with pytest.raises(TinyMLError, match="0 < low <= high"):
        TASK.check_config(config.apply_sets(base, ["augment_warp=1.2,0.8"]))
    cfg = config.apply_sets(base, ["augment_warp=0.5,1.25"])
    assert cfg.augment_warp == (0.5, 1.25) and config.from_dict(MagicWandConfig, config.to_dict(cfg)) == cfg


def test_generated_rings_go_clockwise_and_counter_clockwise_circles_are_negatives():
    """The TF wand data makes the drawing direction part of "ring" (two of its negative recordings
    are counter-clockwise circles), so generated rings turn one way about gravity and the circles
    among the generated negatives the other way. Carried circles on a near-upright plane turn about
    a level axis, so only the swung majority shows the sense."""
    from dataclasses import replace

    import numpy as np

    import tinyml.tasks.magic_wand.synthetic as synthetic
    from tinyml.tasks.magic_wand import features as mf
    from tinyml.tasks.magic_wand.task import sample_fixed

    frame = replace(MagicWandConfig().features, motion_rms=0)

    def turns_up(sample):  # the circle's turning axis has an upward share in the gravity frame
        w = mf.gravity_frame(sample_fixed(sample.data, sample.rate_hz, frame)[None], frame)[0].astype(float)
        return np.cross(w[:-1], np.diff(w, axis=0)).sum(axis=0)[2] > 0

    rings = synthetic.synthetic_wand(30, 2, labels=("ring",), negative_label="")
    circles = synthetic.synthetic_negatives(30, 2, ccw_share=1.0)
    assert np.mean([turns_up(s) for s in rings]) > 0.65
    assert np.mean([turns_up(s) for s in circles]) < 0.35
    # the negatives added to a user's recordings hold no such circles: their rings may go either way
    assert all((a.data == b.data).all() for a, b in zip(synthetic.synthetic_negatives(5, 2),
                                                         synthetic.synthetic_negatives(5, 2, ccw_share=0.0)))
