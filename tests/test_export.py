"""Export: golden C, compile checks, hostile input, determinism."""

import json
import os
import re
from pathlib import Path

import pytest

from conftest import check_golden, compile_sketch, run_cli
from fixtures import tiny_model
from tinyml.boards import get_board
from tinyml.errors import BudgetError, ModelError, TinyMLError
from tinyml.export.carray import parse_c_array
from tinyml.export.pipeline import ExportSource, build_export, require_fit
from tinyml.files import write_files

def tiny_source(variant="int8"):
    return ExportSource(model=tiny_model(variant), task="generic", labels=(), config=None, stem="tiny")


def test_tiny_export_matches_golden_files():
    result = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", ["left", "right", "idle"])
    check_golden("tiny_nano33ble_sense", result.files)


def test_model_array_round_trips_and_is_aligned():
    model = tiny_model()
    files = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", None).files
    assert parse_c_array(files["model_data.cpp"]) == model
    assert "alignas(16) const unsigned char g_model_data[]" in files["model_data.cpp"]
    assert f"g_model_data_len = {len(model)};" in files["model_data.cpp"]


def test_resolver_has_exactly_the_model_ops():
    files = build_export(tiny_source(), get_board("nano_esp32"), "tiny", None).files
    adds = re.findall(r"resolver\.(Add\w+)\(\)", files["op_resolver.h"])
    assert adds == ["AddFullyConnected", "AddSoftmax"]
    assert "MicroMutableOpResolver<kNumOps>" in files["op_resolver.h"] and "kNumOps = 2;" in files["op_resolver.h"]


def test_generated_sketch_compiles(tmp_path):
    result = build_export(tiny_source(), get_board("nano33ble_sense_rev2"), "tiny", ["a", "b", "c"])
    write_files(tmp_path / "tiny", result.files)
    proc = compile_sketch(tmp_path / "tiny", "tiny.ino")
    assert proc.returncode == 0, proc.stderr


def test_shim_rejects_a_wrong_op_method(tmp_path):
    """The compile check can fail: a misspelt TFLM method is caught like on the board."""
    result = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", None)
    files = dict(result.files)
    files["op_resolver.h"] = files["op_resolver.h"].replace("AddFullyConnected", "AddDense")
    write_files(tmp_path / "tiny", files)
    assert compile_sketch(tmp_path / "tiny", "tiny.ino").returncode != 0


HOSTILE_LABELS = ['yes"; system("x', "../../etc", "héllo", "??/", "*/ int x; /*", "back\\slash"]


def test_hostile_labels_stay_inert(tmp_path):
    labels = HOSTILE_LABELS[:3]
    result = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", labels)
    settings = result.files["model_settings.h"]
    assert 'system("x' not in settings  # the quote is escaped, so no code escapes the literal
    write_files(tmp_path / "tiny", result.files)
    assert compile_sketch(tmp_path / "tiny", "tiny.ino").returncode == 0
    # compile a probe that prints the labels back: C sees exactly the original UTF-8 text
    probe = tmp_path / "tiny" / "probe.cc"
    probe.write_text('#include <cstdio>\n#include "model_settings.h"\n'
                     'int main() { for (int i = 0; i < kLabelCount; ++i) std::printf("%s\\n", kLabels[i]); }\n')
    import subprocess

    exe = tmp_path / "probe"
    subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", str(probe), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout.decode("utf-8")
    assert out.splitlines() == labels


def test_more_hostile_labels_compile(tmp_path):
    result = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", HOSTILE_LABELS[3:])
    write_files(tmp_path / "tiny", result.files)
    assert compile_sketch(tmp_path / "tiny", "tiny.ino").returncode == 0


@pytest.mark.parametrize("name", ["../../etc", "a/b", "x; rm -rf", "", "héllo", "9lives", "a" * 64])
def test_hostile_sketch_names_are_refused(tmp_path, name):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    proc = run_cli("export", str(model), "--board", "nano33ble_sense", "--out", str(tmp_path / "out"), "--name", name)
    assert proc.returncode != 0
    assert proc.stderr.startswith("tinyml: error:") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "etc").exists()


def test_writer_refuses_paths_outside_the_folder(tmp_path):
    with pytest.raises(TinyMLError, match="outside"):
        write_files(tmp_path / "sketch", {"../escape.h": "x"})
    assert not (tmp_path / "escape.h").exists()


def test_wrong_label_count():
    with pytest.raises(TinyMLError, match="3 outputs"):
        build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", ["a", "b"])


@pytest.mark.parametrize("variant,message", [("float", "full-int8"), ("custom", "custom ops"),
                                             ("unsupported", "LSH_PROJECTION")])
def test_unfit_models_are_refused(variant, message):
    with pytest.raises(ModelError, match=message):
        build_export(tiny_source(variant), get_board("nano33ble_sense"), "tiny", None)


def test_board_budget_refusal_names_the_numbers():
    board = get_board("nano33ble_sense")
    with pytest.raises(BudgetError, match="flash"):
        require_fit(board, board.model_flash_budget + 1, 1000)
    with pytest.raises(BudgetError, match="tensor arena"):
        require_fit(board, 1000, board.model_ram_budget)


def test_export_is_byte_identical_across_runs(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_model())
    for out in ("a", "b"):
        proc = run_cli("export", str(model), "--board", "portenta_h7", "--out", str(tmp_path / out),
                       "--name", "tiny", "--labels", "x,y,z")
        assert proc.returncode == 0, proc.stderr
    a = {p.name: p.read_bytes() for p in (tmp_path / "a" / "tiny").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b" / "tiny").iterdir()}
    assert a == b and len(a) == 6


def test_manifest_records_what_the_firmware_uses():
    result = build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", ["a", "b", "c"])
    manifest = json.loads(result.files["manifest.json"])
    assert manifest["board"]["key"] == "nano33ble_sense"
    assert manifest["model"]["sha256"] == result.info.sha256
    assert manifest["labels"] == ["a", "b", "c"]
    assert manifest["arena"]["measured_bytes"] == result.arena_measured
    assert manifest["arena"]["total_bytes"] > result.arena_measured
    assert manifest["verified"]["mismatches"] == 0
    assert set(manifest["files"]) == set(result.files) - {"manifest.json"}


@pytest.mark.parametrize("model,count,board", [("micro_speech_quantized", 4, "nano33ble_sense"),
                                               ("person_detect", 5, "nano33ble_sense_rev2")])
def test_reference_models_export_verify_and_compile(reference_models, tmp_path, model, count, board):
    proc = run_cli("export", str(reference_models / f"{model}.tflite"), "--board", board, "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    sketch = tmp_path / model
    resolver = (sketch / "op_resolver.h").read_text()
    assert len(re.findall(r"resolver\.Add\w+\(\)", resolver)) == count
    manifest = json.loads((sketch / "manifest.json").read_text())
    assert manifest["verified"]["compared"] == 20 and manifest["verified"]["mismatches"] == 0
    if model == "person_detect":
        assert 60 * 1024 <= manifest["arena"]["measured_bytes"] <= 140 * 1024
    assert compile_sketch(sketch, f"{model}.ino").returncode == 0


def test_reference_resolver_golden(reference_models):
    source = ExportSource(model=(reference_models / "micro_speech_quantized.tflite").read_bytes(),
                          task="generic", labels=(), config=None, stem="ms")
    result = build_export(source, get_board("nano33ble_sense"), "micro_speech_ref",
                          ["silence", "unknown", "yes", "no"])
    check_golden("micro_speech_reference", {k: result.files[k] for k in ("op_resolver.h", "model_settings.h")})


def test_duplicate_labels_are_refused():
    with pytest.raises(TinyMLError, match="repeat a name"):
        build_export(tiny_source(), get_board("nano33ble_sense"), "tiny", ["a", "b", "a"])
