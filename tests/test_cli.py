import json
import subprocess
import sys

import pytest

from conftest import run_cli
from fixtures import tiny_model


def test_help_does_not_import_tensorflow():
    code = ("import sys; from tinyml.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'tflite_micro', 'ai_edge_litert') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_inspect_json_has_the_contract_keys(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run_cli("inspect", str(model), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in ("flash_bytes", "arena_bytes", "ops", "inputs", "outputs", "fits"):
        assert key in report
    assert report["ops"] == ["FULLY_CONNECTED", "SOFTMAX"]
    assert report["flash_bytes"] == len(tiny_model())
    assert set(report["fits"]) == {"nano33ble_sense", "nano33ble_sense_rev2", "nano_esp32", "portenta_h7"}
    assert all(report["fits"].values())


def test_inspect_one_board_text(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run_cli("inspect", str(model), "--board", "portenta_h7")
    assert proc.returncode == 0
    assert "portenta_h7" in proc.stdout and "nano_esp32" not in proc.stdout and "arena" in proc.stdout


BAD_MODELS = {
    "garbage": (lambda: b"garbage that is not a model", "not a TensorFlow Lite model"),
    "truncated": (lambda: tiny_model()[:200], "damaged or truncated"),
    "float": (lambda: tiny_model("float"), "full-int8"),
}
CASES = [(cmd, bad) for cmd in ("export", "inspect", "verify") for bad in BAD_MODELS
         if bad != "float" or cmd == "export"]  # inspect/verify accept float models


@pytest.mark.parametrize("command,bad", CASES)
def test_bad_models_get_one_line_errors(tmp_path, command, bad):
    make, message = BAD_MODELS[bad]
    model = tmp_path / "bad.tflite"
    model.write_bytes(make())
    args = [command, str(model)] + (["--board", "nano33ble_sense", "--out", str(tmp_path / "o")]
                                    if command == "export" else [])
    proc = run_cli(*args)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_and_unknown_board(tmp_path):
    proc = run_cli("inspect", str(tmp_path / "nope.tflite"))
    assert proc.returncode != 0 and "no such file" in proc.stderr
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run_cli("export", str(model), "--board", "uno", "--out", str(tmp_path))
    assert proc.returncode != 0 and "unknown board 'uno'" in proc.stderr


def test_verify_reports_count(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run_cli("verify", str(model), "--count", "33")
    assert proc.returncode == 0, proc.stderr
    assert "identical int8 outputs on 33 random inputs" in proc.stdout
