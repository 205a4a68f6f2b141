"""micro_speech: bit-exact front end, data handling, recognizer parity, end to end."""

import json
import subprocess
import wave

import numpy as np
import pytest

from conftest import check_golden, compile_sketch, run_cli
from tinyml import config
from tinyml.tasks.micro_speech.data import load_speech_dir, read_wav, which_set
from tinyml.tasks.micro_speech.recognizer import CommandRecognizer
from tinyml.errors import TinyMLError
from tinyml.export.render import render
from tinyml.tasks.micro_speech import features as fa
from tinyml.tasks.micro_speech.task import TASK, MicroSpeechConfig


def write(path, audio, rate=16000, width=2, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(audio).tobytes())


@pytest.mark.parametrize("word", ["yes", "no"])
def test_features_are_bit_exact_with_the_device(shared_data, word):
    ref = shared_data / "tflm_reference" / "micro_speech"
    audio = read_wav(ref / f"{word}_1000ms.wav", 16000)
    golden = np.load(ref / f"{word}_1000ms_features_int8.npy")
    feats = fa.features_int8(audio)
    assert feats.shape == (49, 40) and feats.dtype == np.int8
    assert np.array_equal(feats, golden)


def test_int8_conversion_is_the_device_formula():
    v = np.array([0, 1, 332, 333, 666, 1000, 65535])
    expected = [max(-128, min(127, (x * 256 + 333) // 666 - 128)) for x in v.tolist()]
    assert fa.to_int8(v).tolist() == expected


def test_official_split_keeps_speakers_together():
    a = which_set("yes/0a7c2a8d_nohash_0.wav")
    assert which_set("no/0a7c2a8d_nohash_3.wav") == a
    sets = {which_set(f"x/{i:08x}_nohash_0.wav") for i in range(400)}
    assert sets == {"training", "validation", "testing"}


def test_corrupt_wav_names_the_file(tmp_path):
    bad = tmp_path / "yes" / "bad_nohash_0.wav"
    bad.parent.mkdir()
    bad.write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(TinyMLError, match="bad_nohash_0.wav: not a readable WAV"):
        load_speech_dir(tmp_path, ("yes",))


def test_other_rates_lengths_and_formats_are_converted(tmp_path, capsys):
    t = np.arange(8000) / 8000
    write(tmp_path / "a.wav", (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2"), rate=8000)
    audio = read_wav(tmp_path / "a.wav", 16000)
    assert len(audio) == 16000 and 7000 < np.abs(audio).max() < 9000
    stereo = np.stack([np.full(100, 1000), np.full(100, 3000)], 1).astype("<i2")
    write(tmp_path / "s.wav", stereo, channels=2)
    assert read_wav(tmp_path / "s.wav", 16000)[0] == 2000
    (tmp_path / "yes").mkdir()
    write(tmp_path / "yes" / "sp_nohash_0.wav", np.zeros(12000, "<i2"))
    (tmp_path / "no").mkdir()
    write(tmp_path / "no" / "sp_nohash_0.wav", np.zeros(20000, "<i2"), rate=22050)
    clips = load_speech_dir(tmp_path, ("yes", "no"))
    assert all(len(c.audio) == 16000 for c in clips)
    err = capsys.readouterr().err
    assert "padded" in err and "resampled from 22050 Hz" in err


def test_model_with_foreign_input_scale_is_refused():
    from fixtures import FakeInfo

    with pytest.raises(TinyMLError, match="input quantization"):
        TASK.int8_inputs(np.zeros((1, 49, 40), np.int8), FakeInfo(0.05, 0, 49, 40, 4))


@pytest.mark.parametrize("sets, maps", [
    ([], [(25, 10, 20), (25, 10, 20), (13, 5, 32), (13, 5, 32), (13, 5, 32)]),
    (["ds_blocks=2", "ds_coarse_blocks=0"], [(25, 10, 20), (25, 10, 20), (25, 10, 20)]),
    (["ds_blocks=0", "ds_coarse_width=8", "ds_coarse_blocks=1"], [(25, 10, 20), (13, 5, 8)]),
])
def test_ds_cnn_blocks_halve_the_map_where_the_coarse_blocks_start(sets, maps):
    cfg = config.apply_sets(MicroSpeechConfig(init_from=""), sets)
    model = TASK.build_model(cfg)
    # the first convolution, then each block's 1x1 convolution: the map every block hands on
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [tuple(layer.output.shape[1:]) for layer in convs] == maps
    strides = [layer.strides for layer in model.layers if type(layer).__name__ == "DepthwiseConv2D"]
    assert strides == [(1, 1)] * cfg.ds_blocks + [(2, 2)] * min(cfg.ds_coarse_blocks, 1) + [(1, 1)] * max(
        cfg.ds_coarse_blocks - 1, 0)


RECOGNIZER_HARNESS = r"""
#include <stdio.h>
#include "command_recognizer.h"
int main(void) {
  CommandRecognizer r; recognizer_init(&r);
  long t; int v; int8_t s[RECOGNIZER_CLASSES];
  while (scanf("%ld", &t) == 1) {
    for (int i = 0; i < RECOGNIZER_CLASSES; ++i) { if (scanf("%d", &v) != 1) return 2; s[i] = (int8_t)v; }
    int hit = recognizer_update(&r, s, (int32_t)t);
    if (hit >= 0) printf("%ld %d\n", t, hit);
  }
  return 0;
}
"""


def recognizer_files(cfg):
    from fixtures import FakeInfo

    info = FakeInfo(fa.INPUT_SCALE, fa.INPUT_ZERO_POINT, 49, 40, len(cfg.labels))
    info.inputs = (info.inputs[0].__class__("in", (1, 49, 40, 1), "int8", fa.INPUT_SCALE, -128),)
    fw = TASK.firmware(cfg, info)
    ctx = {"tool_version": "golden", **fw.context}
    return {out: render(t, ctx) for out, t in fw.extra_templates}


def score_stream(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Inference times (ms) and int8 scores of 4 classes: a new class on top every 25 inferences."""
    rng = np.random.default_rng(seed)
    scores = np.full((n, 4), -128, dtype=np.int8)
    cls = 0
    for i in range(n):
        if i % 25 == 0:
            cls = int(rng.integers(0, 4))
        scores[i, cls] = rng.integers(40, 128)
        scores[i, (cls + 1) % 4] = rng.integers(-128, 40)
    return np.cumsum(rng.integers(80, 130, size=n)), scores


@pytest.mark.parametrize("window", [300, 1000])
def test_averages_once_then_decisions_per_threshold_equal_the_recognizer(window):
    # calibration averages a stream once per window and replays only the decisions per threshold
    times, scores = score_stream(4, 1500)
    averager = CommandRecognizer(4, window, 0, 1500, 3)
    steps = [(int(t), a) for t, sc in zip(times, scores) if (a := averager.average(sc, int(t))) is not None]
    found = []
    for threshold in (150, 200, 240):
        whole = CommandRecognizer(4, window, threshold, 1500, 3)
        expected = [(int(t), h) for t, sc in zip(times, scores) if (h := whole.update(sc, int(t))) >= 0]
        replay = CommandRecognizer(4, window, threshold, 1500, 3)
        assert [(t, h) for t, a in steps if (h := replay.decide(a, t)) >= 0] == expected
        found.append(len(expected))
    assert found[0] > 10 and found[0] > found[-1]  # thresholds that decide differently, so the check is not empty


def test_recognizer_c_matches_python(tmp_path):
    cfg = MicroSpeechConfig()
    for name, text in recognizer_files(cfg).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "h.c").write_text(RECOGNIZER_HARNESS)
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", "h", "h.c", "command_recognizer.c"],
                   cwd=tmp_path, check=True)
    times, scores = score_stream(3)
    text = "\n".join(f"{t} " + " ".join(str(int(v)) for v in row) for t, row in zip(times, scores))
    out = subprocess.run([str(tmp_path / "h")], input=text, capture_output=True, text=True, check=True).stdout
    c_hits = [tuple(map(int, line.split())) for line in out.splitlines()]
    r = cfg.recognizer
    rec = CommandRecognizer(4, r.average_window_ms, r.detection_threshold, r.suppression_ms, r.minimum_count)
    py_hits = [(int(t), h) for t, s in zip(times, scores) if (h := rec.update(s, int(t))) >= 0]
    assert len(py_hits) > 50 and c_hits == py_hits


def test_recognizer_c_golden():
    check_golden("micro_speech_c", recognizer_files(MicroSpeechConfig()))


def test_synthetic_corpus_is_deterministic():
    from tinyml.tasks.micro_speech.synthetic import synthetic_speech

    a = synthetic_speech(("yes", "no"), 3, seed=5)
    b = synthetic_speech(("yes", "no"), 3, seed=5)
    assert [c.label for c in a] == ["yes", "no", "unknown", "silence"] * 3
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(a, b))
    assert all(len(c.audio) == 16000 for c in a)
    assert np.abs(a[0].audio).max() > 2000  # the word is audible over the noise


def test_synthetic_corpus_follows_the_class_shares():
    from tinyml.tasks.micro_speech.synthetic import synthetic_speech

    clips = synthetic_speech(("yes",), 4, seed=1, unknown_ratio=2.0, silence_ratio=0.5)
    labels = [c.label for c in clips]
    assert (labels.count("yes"), labels.count("unknown"), labels.count("silence")) == (4, 8, 2)
    # the task passes its config's shares (the same ones real data is sampled with)
    cfg = config.replace(TASK.quick_config(), unknown_ratio=1.5, synthetic_flite_share=0.0)
    assert [c.label for c in TASK.synthetic(cfg, 2, 0)].count("unknown") == 3
    with pytest.raises(TinyMLError, match="synthetic_flite_share"):
        TASK.check_config(config.replace(cfg, synthetic_flite_share=1.5))


@pytest.mark.skipif(__import__("shutil").which("flite") is None, reason="the flite program is not installed "
                    "(apt-get install flite; .ci/run installs it)")
def test_flite_voices_speak_when_installed():
    from tinyml.tasks.micro_speech.synthetic import FLITE_VOICES, synthetic_speech

    a = synthetic_speech(("yes", "no"), 6, seed=2, flite_share=1.0)
    b = synthetic_speech(("yes", "no"), 6, seed=2, flite_share=1.0)
    spoken = [c for c in a if c.label != "silence"]
    assert {c.person for c in spoken} <= {f"flite-{v}" for v in FLITE_VOICES}
    assert len({c.person for c in spoken}) >= 3
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(a, b))  # deterministic
    assert all(np.abs(c.audio).max() > 2000 for c in spoken)
    half = synthetic_speech(("yes", "no"), 6, seed=2, flite_share=0.5)
    share = np.mean([c.person.startswith("flite-") for c in half if c.label != "silence"])
    assert 0.2 < share < 0.8


def test_without_flite_espeak_speaks_every_word(tmp_path, monkeypatch, capsys):
    from tinyml.tasks.micro_speech.synthetic import synthetic_speech

    monkeypatch.setenv("PATH", str(tmp_path))  # no flite here; the child runs sys.executable by its path
    clips = synthetic_speech(("yes", "no"), 3, seed=2, flite_share=1.0)
    assert "flite program is not installed" in capsys.readouterr().out
    assert not any(c.person.startswith("flite-") for c in clips)
    plain = synthetic_speech(("yes", "no"), 3, seed=2)
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(clips, plain))


@pytest.mark.slow
def test_train_export_evaluate_stream(tmp_path, shared_data):
    run = tmp_path / "run"
    proc = run_cli("train", "micro_speech", "--out", str(run), "--synthetic", "30", "--set", "epochs=4",
                   "--set", "augment_copies=1", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((run / "report.json").read_text())
    assert report["flash_bytes"] <= 18800
    saved = json.loads((run / "config.json").read_text())  # without --data: the synthetic config, --set on top
    assert (saved["freq_warp"], saved["time_masks"], saved["augment_copies"]) == (0.15, 3, 1)
    assert (saved["mixup"], saved["init_from"], saved["learning_rate"]) == (0.5, "base", 0.0001)
    out = tmp_path / "sketch"
    proc = run_cli("export", str(run), "--board", "nano33ble_sense", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    settings = (out / "run" / "model_settings.h").read_text()  # the sketch is named after the run folder
    assert "kFeatureSliceCount = 49;" in settings and "kFeatureSize = 40;" in settings
    assert compile_sketch(out / "run", "run.ino").returncode == 0
    proc = run_cli("evaluate", str(run), "--data", str(shared_data / "speech_commands"), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["samples"] > 500
    stream = tmp_path / "s.wav"
    assert run_cli("make-stream", "--data", str(shared_data / "speech_commands"), "--out", str(stream),
                   "--seconds", "60").returncode == 0
    proc = run_cli("evaluate", str(run), "--stream", str(stream), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["words"] > 5 and result["hits"] + result["misses"] == result["words"]


def test_training_split_follows_lists_or_speaker_hash(tmp_path):
    from tinyml.tasks.micro_speech.data import SpeechClip

    cfg = MicroSpeechConfig()
    silent = np.zeros(16000, np.int16)
    clips = [SpeechClip(silent, "yes", f"{i:08x}", f"synthetic:{i}") for i in range(300)]
    train, val = TASK.split(clips, cfg)
    assert 30 < len(val) < 90 and len(train) + len(val) == 300
    assert all(which_set(f"{clips[i].person}_nohash_1.wav") != "training" for i in val)
    # with list files, exactly the listed clips are held out
    for i in range(4):
        (tmp_path / "yes").mkdir(exist_ok=True)
        write(tmp_path / "yes" / f"sp{i}_nohash_0.wav", np.zeros(16000, "<i2"))
    (tmp_path / "validation_list.txt").write_text("yes/sp1_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("yes/sp3_nohash_0.wav\n")
    listed = [SpeechClip(silent, "yes", f"sp{i}", str(tmp_path / "yes" / f"sp{i}_nohash_0.wav")) for i in range(4)]
    train, val = TASK.split(listed, cfg)
    assert val.tolist() == [1, 3] and train.tolist() == [0, 2]


def test_recognizer_threshold_is_calibrated_on_validation(quick_demo):
    """The saved threshold and averaging window are the pair with the most hits minus
    FALSE_ACCEPT_COST x false accepts on a stream of validation clips; the run records what it
    measured, and export uses it."""
    from tinyml.run import read_run
    from tinyml.tasks.micro_speech.task import (CALIBRATION_THRESHOLDS, CALIBRATION_WINDOWS, FALSE_ACCEPT_COST,
                                                calibrate_threshold)

    run = read_run(quick_demo / "runs" / "micro_speech")
    cal = run.report["calibration"]
    assert cal["threshold"] == run.config.recognizer.detection_threshold
    assert cal["average_window_ms"] == run.config.recognizer.average_window_ms
    assert cal["threshold"] in CALIBRATION_THRESHOLDS and cal["configured_threshold"] == 200
    assert cal["average_window_ms"] in CALIBRATION_WINDOWS and cal["configured_average_window_ms"] == 1000
    assert cal["hits"] - FALSE_ACCEPT_COST * cal["false_accepts"] >= \
        cal["configured_hits"] - FALSE_ACCEPT_COST * cal["configured_false_accepts"]
    header = (quick_demo / "arduino" / "micro_speech" / "command_recognizer.h").read_text()
    assert f"#define RECOGNIZER_DETECTION_THRESHOLD {cal['threshold']}\n" in header
    assert f"#define RECOGNIZER_AVERAGE_WINDOW_MS {cal['average_window_ms']}\n" in header
    # the same clips give the same answer; turned off, the configured value stays
    clips = TASK.synthetic(run.config, 6, seed=3)
    tuned, info = calibrate_threshold(run.model, clips, run.config)
    assert calibrate_threshold(run.model, clips, run.config) == (tuned, info)
    off = config.replace(run.config, recognizer={**config.to_dict(run.config.recognizer), "calibrate": False})
    assert TASK.calibrate(off, run.model, clips, []) == (off, {})


def test_make_stream_never_leaves_a_recording_with_another_runs_truth(tmp_path, monkeypatch):
    """A run that dies while writing the new WAV must not leave the old CSV beside it."""
    import argparse

    from tinyml.tasks.micro_speech import commands, data

    rng = np.random.default_rng(0)
    for folder in ("yes", "no", "cat", "_background_noise_"):
        (tmp_path / "sc" / folder).mkdir(parents=True)
    for word in ("yes", "no", "cat"):
        for i in range(3):
            write(tmp_path / "sc" / word / f"{i:08x}_nohash_0.wav", (rng.normal(0, 3000, 16000)).astype(np.int16))
    write(tmp_path / "sc" / "_background_noise_" / "hum.wav", (rng.normal(0, 300, 48000)).astype(np.int16))
    out = tmp_path / "stream.wav"
    args = argparse.Namespace(data=str(tmp_path / "sc"), out=str(out), seconds=20.0, seed=0, set=None)
    assert commands.make_stream(TASK, args) == 0
    truth = out.with_suffix(".csv").read_text()
    assert truth.count("\n") >= 1 and out.stat().st_size == 44 + 2 * 20 * 16000

    def dies(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "write_wav", dies)
    with pytest.raises(KeyboardInterrupt):
        commands.make_stream(TASK, argparse.Namespace(**{**vars(args), "seed": 1}))
    assert not out.with_suffix(".csv").exists()  # evaluate then refuses, naming the missing truth
