"""Truth guards: a model that learned nothing, misses a class or was trained on a starved split is
named in the report and fails `tinyml train` unless --allow-weak."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from tinyml.guards import score_warnings, split_warnings

LABELS = ["wing", "ring", "slope", "negative"]


def test_chance_level_accuracy_is_named():
    confusion = [[10, 0, 0, 0], [10, 0, 0, 0], [10, 0, 0, 0], [10, 0, 0, 0]]  # always "wing"
    warnings = score_warnings(LABELS, confusion, 0.25)
    assert any("not clearly above 0.250" in w and "'wing'" in w for w in warnings)
    assert sum("zero recall" in w for w in warnings) == 3


def test_one_unlearnt_class_is_named():
    confusion = [[9, 1, 0, 0], [0, 10, 0, 0], [0, 0, 10, 0], [5, 5, 0, 0]]
    warnings = score_warnings(LABELS, confusion, 29 / 40)
    assert warnings == [w for w in warnings if "class 'negative' has zero recall" in w] and len(warnings) == 1


def test_majority_class_rate_is_the_bar_not_chance():
    # 90 % of the validation set is one class: 0.9 accuracy is what "always negative" scores
    confusion = [[0, 0, 0, 5], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 0, 90]]
    assert any("not clearly above 0.900" in w for w in score_warnings(LABELS, confusion, 0.9))
    good = [[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 90]]
    assert score_warnings(LABELS, good, 1.0) == []


def test_a_split_that_starves_a_class_is_named():
    warnings = split_warnings(LABELS, ["wing", "ring", "negative"], ["wing", "ring", "slope"])
    assert any("'slope' has no training examples" in w for w in warnings)
    assert any("'negative' has no validation examples" in w for w in warnings)
    assert split_warnings(LABELS, LABELS, LABELS) == []


def _noise_dataset(root, per_class=12):
    """Recordings of pure noise: no class can be told from another."""
    rng = np.random.default_rng(0)
    for label in LABELS:
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            rows = rng.normal(0, 300, (120, 3)).round().astype(int)
            (root / label / f"output_{label}_p{i % 2}.txt").write_text(
                "-,-,-\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_train_refuses_a_model_that_learned_nothing(tmp_path):
    _noise_dataset(tmp_path / "data")
    common = ("train", "magic_wand", "--data", str(tmp_path / "data"), "--set", "epochs=2", "--set",
              "augment_copies=0", "--set", "synthetic_negatives=0", "--set", "data_format.units=mg")
    proc = run_cli(*common, "--out", str(tmp_path / "run"), timeout=600)
    assert proc.returncode == 5, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "--allow-weak" in proc.stderr
    assert "warning: " in proc.stderr and ("not clearly above" in proc.stderr or "zero recall" in proc.stderr)
    report = json.loads((tmp_path / "run" / "report.json").read_text())  # the run is kept for inspection
    assert report["warnings"] and 1 <= report["kept_epoch"] <= 2
    export = ("export", str(tmp_path / "run"), "--board", "nano33ble_sense", "--out", str(tmp_path / "sk"))
    proc = run_cli(*export)  # ...but not shipped
    assert proc.returncode == 5 and "weak model" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "sk").exists()
    assert run_cli(*export, "--allow-weak").returncode == 0

    # once more with --allow-weak (one training, not k folds: the guard's verdict is what is checked)
    proc = run_cli(*common, "--set", "cross_validate_below=0", "--out", str(tmp_path / "run2"), "--allow-weak",
                   timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "run2" / "report.json").read_text())["warnings"]


def test_distillation_without_images_is_refused(tmp_path, reference_models):
    proc = run_cli("train", "person_detection", "--init-from", str(reference_models / "person_detect.tflite"),
                   "--set", "distill=true", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--data" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
