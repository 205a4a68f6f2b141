"""The main job end to end (quick size), and the packaging contract."""

import json
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO, compile_sketch, run_cli
from tinyml.budgets import budgets

pytestmark = pytest.mark.slow


def test_demo_quick_builds_a_verified_sketch(tmp_path, quick_demo):
    build = quick_demo
    rows = {row["task"]: row for row in json.loads((build / "summary.json").read_text())}
    assert set(rows) == {"micro_speech", "magic_wand", "person_detection"}
    for task, row in rows.items():
        assert row["int8_accuracy"] > 0.4 and row["verified_inputs"] == 20
        assert row["flash_bytes"] <= budgets()[task]["flash_bytes"] and "nano33ble_sense" in row["fits"]
        sketch = build / "arduino" / task
        assert (build / "runs" / task / "confusion.png").stat().st_size > 1000
        assert compile_sketch(sketch, f"{task}.ino").returncode == 0
    manifest = json.loads((build / "arduino" / "magic_wand" / "manifest.json").read_text())
    assert manifest["labels"] == ["wing", "ring", "slope", "negative"]

    # same data and seed: byte-identical models and sketches (reports differ only in timings)
    proc = run_cli("demo", "--quick", "--out", str(tmp_path / "again"), timeout=600)
    assert proc.returncode == 0

    def built(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and (p.suffix == ".tflite" or "arduino" in p.parts)}

    first, second = built(build), built(tmp_path / "again")
    assert len(first) == 29 and first == second
    report = (build / "REPORT.md").read_text()
    assert "## micro_speech" in report and "runs/magic_wand/confusion.png" in report
    # the quick wand config is the synthetic config `tinyml train` uses without --data: nothing to --set
    assert "tinyml train magic_wand --synthetic 40 --out build/runs/magic_wand" in report.splitlines()


def test_wheel_ships_the_templates(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("tinyml-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("tinyml/tasks/micro_speech/data.py", "tinyml/tasks/micro_speech/features.py",
                   "tinyml/capture/protocol.py", "tinyml/tasks/micro_speech/task.py", "tinyml/budgets.json"):
        assert module in names
    for template in ("model_data.cpp.j2", "model_data.h.j2", "model_settings.h.j2", "op_resolver.h.j2"):
        assert f"tinyml/firmware_templates/{template}" in names
    for task in ("generic", "magic_wand", "micro_speech", "person_detection"):
        assert f"tinyml/tasks/{task}/templates/sketch.ino.j2" in names
    for standin in ("Arduino.h", "arduino_core.cpp", "startup.c", "link.ld"):
        assert f"tinyml/device/standins/{standin}" in names
    for shipped in ("person_detection/base/person_base.tflite", "magic_wand/base/wand_base.tflite",
                    "magic_wand/base/wand_base.json", "micro_speech/base/speech_base.tflite",
                    "micro_speech/base/speech_base.json"):  # the bases training and the demo start from
        assert f"tinyml/tasks/{shipped}" in names


def test_demo_rebuild_commands_give_the_config_each_run_saved(quick_demo):
    """`tinyml train` without --data starts from the task's synthetic config; the --set flags the
    report prints on top of it must give back the config the demo trained with."""
    import shlex

    from tinyml import config
    from tinyml.tasks import get_task
    from tinyml.tasks.micro_speech.task import CALIBRATED_FIELDS

    for row in json.loads((quick_demo / "summary.json").read_text()):
        argv = shlex.split(row["rebuild"][0])
        assert "--data" not in argv
        sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        rebuilt = config.apply_sets(get_task(row["task"]).synthetic_config(), sets)
        saved = json.loads((quick_demo / "runs" / row["task"] / "config.json").read_text())
        wanted = json.loads(json.dumps(config.to_dict(rebuilt)))
        if saved.get("recognizer", {}).get("calibrate"):  # training writes the threshold and window it calibrated
            for key in CALIBRATED_FIELDS:
                wanted["recognizer"][key] = saved["recognizer"][key]
        assert wanted == saved


def test_the_demo_refuses_before_training_to_overwrite_a_hand_edited_sketch(tmp_path):
    sketch = tmp_path / "arduino" / "magic_wand"
    sketch.mkdir(parents=True)
    (sketch / "magic_wand.ino").write_text("// my changes\n")
    (sketch / "manifest.json").write_text(json.dumps({"source": {"kind": "run", "name": "magic_wand"},
                                                       "board": {"key": "nano33ble_sense"},
                                                       "files": {"magic_wand.ino": "0" * 64}}))
    proc = run_cli("demo", "--quick", "--out", str(tmp_path))
    assert proc.returncode != 0 and "magic_wand.ino changed since tinyml exported it" in proc.stderr
    assert "training" not in proc.stdout and not (tmp_path / "runs").exists()
    assert (sketch / "magic_wand.ino").read_text() == "// my changes\n"
