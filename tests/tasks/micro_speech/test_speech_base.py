"""The shipped keyword-spotter base: what training starts from, and what the demo's model hears."""

import json

import numpy as np
import pytest

from tinyml import config
from tinyml.errors import TinyMLError
from tinyml.modelimport import import_layers, init_model_bytes
from tinyml.tasks.micro_speech.task import ARCHITECTURE, BASE_FILE, REBUILD, TASK, MicroSpeechConfig, seed_weights


def _base() -> bytes:
    return init_model_bytes("base", "tinyml.tasks.micro_speech", BASE_FILE, REBUILD)


def _keras_weights(cfg):
    model = TASK.build_model(config.replace(cfg, init_from=""))
    return [layer.get_weights() for layer in model.layers if layer.weights]


def test_shipped_base_fits_the_budget_and_matches_the_default_config():
    from importlib.resources import files

    from tinyml import tflm
    from tinyml.budgets import budgets

    settings = json.loads(files("tinyml.tasks.micro_speech").joinpath("base/speech_base.json").read_text())
    default = config.to_dict(MicroSpeechConfig())
    for key in ("words", "frontend", *ARCHITECTURE):
        assert settings[key] == default[key], key
    assert MicroSpeechConfig().init_from == "base"
    model = _base()
    budget = budgets()["micro_speech"]
    assert len(model) <= budget["flash_bytes"] and len(model) <= 18800  # the published model's size
    assert tflm.measure_arena(model) <= budget["arena_bytes"]


def test_seeding_keeps_the_base_and_matches_words_by_label():
    _, layers = import_layers(_base())
    cfg = MicroSpeechConfig(words=("no", "left"))
    fresh = _keras_weights(cfg)
    seeded = seed_weights(cfg, fresh)
    for layer, (kernel, bias) in zip(layers[:-1], seeded[:-1]):
        assert np.array_equal(layer.kernel, kernel) and np.array_equal(layer.bias, bias)
    out_kernel, out_bias = seeded[-1]
    base_rows = {"silence": 0, "unknown": 1, "yes": 2, "no": 3}
    for j, label in enumerate(cfg.labels):
        if label in base_rows:  # silence, unknown, no: the base's rows, wherever the word now sits
            assert np.array_equal(out_kernel[:, j], layers[-1].kernel[:, base_rows[label]]), label
        else:  # 'left' is new: a fresh output on the base's features
            assert np.array_equal(out_kernel[:, j], fresh[-1][0][:, j]) and out_bias[j] == fresh[-1][1][j]


@pytest.mark.parametrize("sets", [["ds_width=16"], ["ds_coarse_blocks=2"], ["model=tiny_conv"], ["frontend.channels=32"]])
def test_a_start_with_other_layers_or_features_is_refused_in_one_line(sets):
    cfg = config.apply_sets(MicroSpeechConfig(), sets)
    with pytest.raises(TinyMLError, match="other layers or features") as err:
        TASK.build_model(cfg)
    assert "\n" not in str(err.value) and "init_from=" in str(err.value)


def test_a_run_folder_is_a_start_and_a_bare_model_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.tflite").write_bytes(_base())
    (run / "config.json").write_text(json.dumps(config.to_dict(MicroSpeechConfig())))
    cfg = MicroSpeechConfig(init_from=str(run / "model.tflite"))
    assert len(seed_weights(cfg, _keras_weights(cfg))) == len(_keras_weights(cfg)) == 10
    (tmp_path / "bare.tflite").write_bytes(_base())
    with pytest.raises(TinyMLError, match="config.json"):
        seed_weights(MicroSpeechConfig(init_from=str(tmp_path / "bare.tflite")), _keras_weights(cfg))


def _real_test_clips(shared_data):
    root = shared_data / "speech_commands"
    if not root.is_dir():
        pytest.skip(f"{root} missing")
    cfg = MicroSpeechConfig()
    clips = [c for c in TASK.load_for_scoring([root], cfg) if c.label]
    return TASK.examples(clips, cfg, 0, 0)


def _tflm_reference_calls(model: bytes, shared_data) -> list[str]:
    """What the model calls TFLM's own yes_1000ms.wav and no_1000ms.wav."""
    from tinyml.fit import evaluate_int8
    from tinyml.tasks.micro_speech.data import SpeechClip, read_wav

    ref = shared_data / "tflm_reference" / "micro_speech"
    cfg = MicroSpeechConfig()
    clips = [SpeechClip(read_wav(ref / f"{w}_1000ms.wav", 16000), w, "tflm", "") for w in ("yes", "no")]
    x, y = TASK.examples(clips, cfg, 0, 0)
    scores = evaluate_int8(TASK, model, x, y, cfg.labels)["scores"]
    return [cfg.labels[int(i)] for i in scores.argmax(1)]


def test_base_hears_real_speakers(shared_data):
    from tinyml.fit import evaluate_int8

    assert _tflm_reference_calls(_base(), shared_data) == ["yes", "no"]
    x, y = _real_test_clips(shared_data)
    r = evaluate_int8(TASK, _base(), x, y, MicroSpeechConfig().labels)
    assert r["accuracy"] >= 0.88 and min(r["per_class_recall"].values()) >= 0.8, r


def test_the_demos_model_hears_real_speakers(quick_demo, shared_data):
    """Trained on generated voices from the base: it must still hear people (issue 30: ≥ 0.85)."""
    from tinyml.fit import evaluate_int8
    from tinyml.run import read_run

    run = read_run(quick_demo / "runs" / "micro_speech")
    assert run.config.init_from == "base"
    assert _tflm_reference_calls(run.model, shared_data) == ["yes", "no"]
    x, y = _real_test_clips(shared_data)
    r = evaluate_int8(TASK, run.model, x, y, run.config.labels)
    assert r["accuracy"] >= 0.85, r
