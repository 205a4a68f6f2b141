"""Typed --set: values parsed by field type and range-checked before any data is loaded."""

import pytest

from conftest import run_cli
from tinyml.config import apply_sets, describe, field_docs, from_dict
from tinyml.errors import TinyMLError
from tinyml.tasks.magic_wand.task import MagicWandConfig
from tinyml.tasks.micro_speech.task import MicroSpeechConfig


def test_values_take_their_field_types():
    cfg = apply_sets(MicroSpeechConfig(), ["words=yes", "epochs=3", "learning_rate=1e-3", "recognizer.minimum_count=2"])
    assert cfg.words == ("yes",) and cfg.epochs == 3 and cfg.learning_rate == 0.001
    assert cfg.recognizer.minimum_count == 2
    cfg = apply_sets(MagicWandConfig(), ["labels=a,b", "negative_label=", "data_format.axis_map=-y,x,z"])
    assert cfg.labels == ("a", "b") and cfg.negative_label == "" and cfg.data_format.axis_map == ("-y", "x", "z")
    assert apply_sets(MicroSpeechConfig(), ['words=["up","down"]']).words == ("up", "down")


@pytest.mark.parametrize("item, message", [
    ("epochs=abc", "--set epochs=abc: expected integer"),
    ("epochs=2.5", "expected integer"),
    ("epochs=0", "must be at least 1"),
    ("batch_size=0", "must be at least 1"),
    ("learning_rate=nan", "finite number"),
    ("learning_rate=-1", "greater than 0"),
    ("seed=-1", "0 or more"),
    ("val_fraction=1.5", "between 0 and 1"),
    ("rule.threshold=2", "between 0 and 1"),
    ("features=3", "a group of settings"),
    ("nope=1", "unknown setting 'nope'"),
    ("rule.nope=1", "unknown setting 'nope'"),
    ("epochs", "use KEY=VALUE"),
])
def test_bad_values_get_one_line_naming_key_value_and_type(item, message):
    with pytest.raises(TinyMLError) as err:
        apply_sets(MagicWandConfig(), [item])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_learning_rate_schedule_is_one_of_the_named():
    assert apply_sets(MicroSpeechConfig(), ["lr_schedule=cosine"]).lr_schedule == "cosine"
    with pytest.raises(TinyMLError, match="lr_schedule=linear: expected one of constant, cosine"):
        apply_sets(MicroSpeechConfig(), ["lr_schedule=linear"])
    # a config.json is held to the same values
    with pytest.raises(TinyMLError, match="'lr_schedule' = 'linear' is not one of constant, cosine"):
        from_dict(MicroSpeechConfig, {"lr_schedule": "linear"})


@pytest.mark.parametrize("item, message", [
    ("augment_min_crop=0", "greater than 0 and at most 1"),
    ("augment_min_crop=1.2", "greater than 0 and at most 1"),
    ("augment_blur=-1", "0 or more"),
    ("augment_noise=-0.5", "0 or more"),
])
def test_camera_augmentation_settings_are_range_checked(item, message):
    from tinyml.tasks.person_detection.task import PersonDetectionConfig

    assert apply_sets(PersonDetectionConfig(), ["augment_min_crop=1", "augment_blur=1.5"]).augment_blur == 1.5
    with pytest.raises(TinyMLError, match=message):
        apply_sets(PersonDetectionConfig(), [item])


def test_every_setting_is_described():
    rows = describe(MagicWandConfig())
    keys = [r[0] for r in rows]
    assert "epochs" in keys and "rule.threshold" in keys and "features.window" in keys
    assert all(doc for _, _, _, doc in rows)  # a docstring under every field
    assert field_docs(MagicWandConfig)["epochs"] == "Training epochs."


def test_cli_lists_config_and_refuses_bad_values_before_loading(tmp_path):
    proc = run_cli("train", "micro_speech", "--list-config")
    assert proc.returncode == 0 and "words = yes,no  (list of text (comma-separated))" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "augment_copies = 2  (integer)" in proc.stdout  # the default; training without --data differs:
    assert "without --data, training on the synthetic data starts from: epochs=5" in proc.stdout
    assert "augment_copies=4" in proc.stdout.split("synthetic data starts from:")[1]
    proc = run_cli("train", "magic_wand", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r"),
                   "--set", "epochs=abc")
    assert proc.returncode == 2 and proc.stderr.strip() == "tinyml: error: --set epochs=abc: expected integer"


def test_a_crafted_run_config_cannot_carry_text_into_c(tmp_path, quick_demo):
    """Config values are typed end to end: text where a number belongs is refused, never rendered."""
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(quick_demo / "runs" / "magic_wand", run)
    cfg = json.loads((run / "config.json").read_text())
    cfg["rule"]["suppression_ms"] = "1000\n#include </etc/passwd>"
    (run / "config.json").write_text(json.dumps(cfg))
    proc = run_cli("export", str(run), "--board", "nano33ble_sense", "--out", str(tmp_path / "out"), "--allow-weak")
    assert proc.returncode == 2 and "suppression_ms" in proc.stderr and "is not integer" in proc.stderr
    assert not (tmp_path / "out").exists()
    proc = run_cli("train", "magic_wand", "--out", str(tmp_path / "r"), "--set",
                   "rule.suppression_ms=1000\n#include </etc/passwd>")
    assert proc.returncode == 2 and "expected integer" in proc.stderr


@pytest.mark.parametrize("bad", [{"epochs": True}, {"epochs": "3"}, {"learning_rate": "nan"}, {"labels": "wing"},
                                 {"rule": 3}])
def test_from_dict_checks_types(bad):
    from tinyml.config import from_dict

    with pytest.raises(TinyMLError):
        from_dict(MagicWandConfig, bad)


@pytest.mark.parametrize("label", ["con", "NUL", "com1", "Lpt9"])
def test_windows_device_names_are_not_labels(label):
    from tinyml.names import safe_label

    with pytest.raises(TinyMLError, match="device name on Windows"):
        safe_label(label)
