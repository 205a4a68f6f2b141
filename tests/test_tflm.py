import numpy as np
import pytest

from fixtures import tiny_model
from tinyml import tflm
from tinyml.errors import ModelError


def test_arena_is_the_smallest_that_allocates():
    model = tiny_model()
    arena = tflm.measure_arena(model)
    assert arena % 16 == 0
    ok, _ = tflm._try_interpreter(model, arena, invoke=True)
    too_small, _ = tflm._try_interpreter(model, arena - 16, invoke=False)
    assert ok is not None and too_small is None


def test_verify_compares_tflm_with_tflite():
    result = tflm.verify(tiny_model(), count=25)
    assert result.compared == 25 and result.mismatches == 0 and result.source == "random"


def test_verify_counts_given_inputs():
    examples = [[np.full((1, 4), v, dtype=np.int8)] for v in (-128, 0, 127)]
    result = tflm.verify(tiny_model(), examples=examples)
    assert result.compared == 3 and result.source == "given"


def test_tflm_runs_the_model_like_the_math_says():
    """FC + softmax on the host TFLM agrees with a float re-computation within one int8 step."""
    model = tiny_model()
    interp = tflm.tflm_interpreter(model)
    x = np.array([[10, -20, 30, 5]], dtype=np.int8)
    (y,) = tflm.run_tflm(interp, [x])
    rng = np.random.default_rng(7)
    w = rng.integers(-100, 100, size=(3, 4)).astype(np.int8)
    b = rng.integers(-500, 500, size=(3,)).astype(np.int32)
    real_x = 0.05 * (x.astype(float) + 3)
    logits = real_x @ (0.01 * w.T.astype(float)) + 0.0005 * b
    logits_q = np.clip(np.round(logits / 0.1) + 2, -128, 127)
    logits = 0.1 * (logits_q - 2)
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    expected = np.clip(np.round(probs * 256) - 128, -128, 127)
    assert np.max(np.abs(y.astype(int) - expected.astype(int))) <= 1


def test_unsupported_op_is_reported():
    with pytest.raises(ModelError, match="LSH_PROJECTION|TFLM"):
        tflm.measure_arena(tiny_model("unsupported"))


def test_person_detect_arena_and_bit_exactness(reference_models):
    model = (reference_models / "person_detect.tflite").read_bytes()
    arena = tflm.measure_arena(model)
    assert 60 * 1024 <= arena <= 140 * 1024
    result = tflm.verify(model, count=5, arena=arena + 1024)
    assert result.mismatches == 0 and result.compared == 5


def test_litert_compatible_changes_only_quantized_dimension(reference_models):
    model = (reference_models / "person_detect.tflite").read_bytes()
    fixed = tflm.litert_compatible(model)
    assert len(fixed) == len(model)
    diff = np.flatnonzero(np.frombuffer(fixed, np.uint8) != np.frombuffer(model, np.uint8))
    assert 0 < len(diff) < 200  # a handful of int32 fields, nothing else


def test_export_accepts_rounding_sized_differences_from_tflite_and_says_so():
    from tinyml.errors import VerifyError
    from tinyml.tflm import EXPORT_TOLERANCE_STEPS, VerifyResult, check_for_export

    assert check_for_export(VerifyResult(20, 0, 0, "random")) is None
    note = check_for_export(VerifyResult(20, 1, 2, "random"))
    assert "at most 2 int8 steps on 1 of 20 random inputs" in note and "\n" not in note
    with pytest.raises(VerifyError, match="disagree on 3 of 20"):
        check_for_export(VerifyResult(20, 3, EXPORT_TOLERANCE_STEPS + 1, "random"))
