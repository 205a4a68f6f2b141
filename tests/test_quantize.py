import numpy as np
import pytest

from tinyml.modelinfo import read_model
from tinyml.quantize import dequantize_array, quantize_array

pytestmark = pytest.mark.slow


def test_quantize_helpers_round_trip():
    x = np.array([-1.0, -0.02, 0.0, 0.5, 3.0])
    q = quantize_array(x, 0.01, -3)
    assert q.dtype == np.int8 and list(q) == [-103, -5, -3, 47, 127]
    assert np.allclose(dequantize_array(q[:4], 0.01, -3), x[:4], atol=0.005)


@pytest.fixture(scope="module")
def trained():
    from fixtures import train_waveform, waveform_dataset

    x, y = waveform_dataset(60, seed=3)
    return train_waveform(x, y, epochs=4, seed=3), x, y


def test_full_int8_batch_one_and_deterministic(trained):
    from tinyml.quantize import quantize

    model, x, _ = trained
    a = quantize(model, x[:50])
    b = quantize(model, x[:50])
    assert a == b
    info = read_model(a)
    info.require_full_int8()
    assert info.inputs[0].shape[0] == 1 and info.outputs[0].shape[0] == 1
    assert not {"SHAPE", "STRIDED_SLICE", "PACK", "QUANTIZE", "DEQUANTIZE"} & set(info.op_names)


def test_stripped_names_leave_the_same_model_in_fewer_bytes(trained):
    from tinyml import tflm
    from tinyml.quantize import quantize

    model, x, _ = trained
    named = quantize(model, x[:50])
    stripped = quantize(model, x[:50], strip_names=True)
    assert stripped == quantize(model, x[:50], strip_names=True) and len(stripped) < len(named)
    assert read_model(named).inputs[0].name
    assert all(not t.name for t in [*read_model(stripped).inputs, *read_model(stripped).outputs])
    q = np.random.default_rng(0).integers(-128, 128, (20, *x.shape[1:])).astype(np.int8)
    assert np.array_equal(tflm.predict_int8(stripped, q), tflm.predict_int8(named, q))


def test_accuracy_report_compares_float_and_int8(trained):
    from tinyml.quantize import accuracy_report, quantize

    model, x, y = trained
    tflite = quantize(model, x[:50])
    report = accuracy_report(model, tflite, x, y)
    assert report["samples"] == len(x)
    assert 0 <= report["int8_accuracy"] <= 1 and abs(report["float_accuracy"] - report["int8_accuracy"]) < 0.1
    assert report["agreement"] > 0.9


def test_quantize_cli(tmp_path, trained):
    import json

    from conftest import run_cli

    model, x, y = trained
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x=x, y=y)
    proc = run_cli("quantize", str(tmp_path / "m.keras"), "--data", str(tmp_path / "d.npz"),
                   "--out", str(tmp_path / "m.tflite"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert report["flash_bytes"] == (tmp_path / "m.tflite").stat().st_size
    assert "int8_accuracy" in report and "float_accuracy" in report
    bad = run_cli("quantize", str(tmp_path / "m.keras"), "--data", str(tmp_path / "missing.npz"),
                  "--out", str(tmp_path / "x.tflite"))
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
