"""Speech data: soundfile reads every common format, several folders read as one dataset, and
a split that would starve a class falls back to a speaker-disjoint stratified split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tinyml.errors import TinyMLError
from tinyml.tasks.micro_speech.data import load_speech_dir, read_wav
from tinyml import config
from tinyml.tasks.micro_speech.task import GENERATED_SOURCE, NOISE_LABEL, TASK, MicroSpeechConfig

TONE = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 12000).astype(np.int16)


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".wav", "PCM_24"), (".wav", "PCM_32"),
                                             (".wav", "PCM_U8"), (".wav", "FLOAT"), (".flac", "PCM_16"),
                                             (".ogg", "VORBIS")])
def test_every_common_format_reads_as_int16(tmp_path, suffix, subtype):
    path = tmp_path / f"tone{suffix}"
    soundfile.write(str(path), TONE.astype(np.float32) / 32768, 16000, subtype=subtype)
    audio = read_wav(path, 16000)
    assert audio.dtype == np.int16 and len(audio) == 16000
    tolerance = {"VORBIS": 2000, "PCM_U8": 256}.get(subtype, 1)  # lossy; one 8-bit step is 256
    assert np.max(np.abs(audio.astype(int) - TONE)) <= tolerance


def test_other_rates_and_stereo_are_converted(tmp_path):
    stereo = np.stack([TONE, TONE], 1).astype(np.float32) / 32768
    soundfile.write(str(tmp_path / "s.wav"), stereo, 16000)
    assert np.max(np.abs(read_wav(tmp_path / "s.wav", 16000).astype(int) - TONE)) <= 1
    soundfile.write(str(tmp_path / "r.flac"), TONE.astype(np.float32) / 32768, 8000)
    assert len(read_wav(tmp_path / "r.flac", 16000)) == 32000


def test_unreadable_audio_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + b"\x00" * 40)
    with pytest.raises(TinyMLError) as err:
        read_wav(bad, 16000)
    assert str(err.value).startswith(f"{bad}: not a readable") and "\n" not in str(err.value)


def _dataset(root: Path, words: dict[str, int], speakers: int = 6, suffix=".flac"):
    rng = np.random.default_rng(len(str(root)))
    for word, n in words.items():
        (root / word).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            audio = (rng.normal(0, 3000, 16000)).astype(np.float32) / 32768
            soundfile.write(str(root / word / f"{i % speakers:08x}_nohash_{i}{suffix}"), audio, 16000)


def test_several_folders_read_as_one_dataset(tmp_path):
    _dataset(tmp_path / "train", {"yes": 6, "go": 6})
    _dataset(tmp_path / "extra", {"no": 6, "stop": 6}, suffix=".wav")
    noise = tmp_path / "sc" / "_background_noise_"
    noise.mkdir(parents=True)
    soundfile.write(str(noise / "white.wav"), np.zeros(32000, np.float32), 16000)
    cfg = MicroSpeechConfig()
    samples = TASK.load_many([tmp_path / "train", tmp_path / "extra", noise], cfg)
    labels = [s.label for s in samples]
    assert labels.count("yes") == 6 and labels.count("no") == 6 and labels.count("unknown") > 0
    assert labels.count(NOISE_LABEL) == 1 and labels.count("silence") > 0
    with pytest.raises(TinyMLError, match="class 'no' has no clips"):
        load_speech_dir([tmp_path / "train"], ("yes", "no"))


def test_a_split_that_would_starve_a_class_falls_back(tmp_path, capsys):
    """All clips from one official split's speakers (like a test-split download): the speaker hash
    would hold out every word clip; the fallback keeps every class on both sides, speakers disjoint."""
    from tinyml.tasks.micro_speech.data import which_set

    # speakers the official hash puts in validation/testing (none in training)
    speakers = [f"{i:08x}" for i in range(4000) if which_set(f"{i:08x}_nohash_0") != "training"][:8]
    root = tmp_path / "test_split"
    rng = np.random.default_rng(0)
    for word in ("yes", "no", "go"):
        (root / word).mkdir(parents=True)
        for k, spk in enumerate(speakers):
            soundfile.write(str(root / word / f"{spk}_nohash_{k}.wav"), rng.normal(0, .1, 16000), 16000)
    cfg = MicroSpeechConfig()
    samples = TASK.load(root, cfg)
    train, val = TASK.split(samples, cfg)
    assert "holding out whole speakers per class" in capsys.readouterr().err
    tl = {samples[i].label for i in train}
    vl = {samples[i].label for i in val}
    assert {"yes", "no", "unknown", "silence"} <= tl and {"yes", "no", "unknown", "silence"} <= vl
    assert not {samples[i].person for i in train} & {samples[i].person for i in val}


def test_the_shared_training_clips_split_by_their_list(shared_data):
    root = shared_data / "speech_commands_train"
    if not root.is_dir():
        pytest.skip(f"{root} missing")
    cfg = MicroSpeechConfig(unknown_ratio=0.2, silence_ratio=0.1, generated_unknown_ratio=0.01)
    samples = TASK.load([root, shared_data / "speech_commands" / "_background_noise_"], cfg)
    train, val = TASK.split(samples, cfg)
    generated = {i for i, s in enumerate(samples) if s.source.startswith(GENERATED_SOURCE)}
    assert len(generated) == 9 and generated <= set(train)
    listed = {line.strip() for line in (root / "validation_list.txt").read_text().splitlines() if line.strip()}
    for i in val:
        path = Path(samples[i].source)
        if samples[i].label in ("yes", "no"):
            assert f"{path.parent.name}/{path.name}" in listed
    assert sum(samples[i].label == "yes" for i in train) > 700


def test_generated_unknown_words_join_real_clips_and_always_train(tmp_path):
    _dataset(tmp_path / "d", {"yes": 8, "no": 8, "go": 8}, speakers=8)
    cfg = MicroSpeechConfig(generated_unknown_ratio=1.5, synthetic_flite_share=0.0)
    samples = TASK.load(tmp_path / "d", cfg)
    generated = [i for i, s in enumerate(samples) if s.source.startswith(GENERATED_SOURCE)]
    assert len(generated) == 12 and {samples[i].label for i in generated} == {"unknown"}
    words = {samples[i].source.rsplit(":", 1)[1] for i in generated}
    assert not words & {"yes", "no"} and len(words) > 3
    train, val = TASK.split(samples, cfg)
    assert set(generated) <= set(train) and len(val) > 0
    assert [s.source for s in TASK.load(tmp_path / "d", cfg)] == [s.source for s in samples]  # seeded
    assert not any(s.source.startswith(GENERATED_SOURCE) for s in TASK.load_for_scoring([tmp_path / "d"], cfg))
    off = TASK.load(tmp_path / "d", config.replace(cfg, generated_unknown_ratio=0))
    assert len(off) == len(samples) - 12
    with pytest.raises(TinyMLError, match="generated_unknown_ratio"):
        TASK.check_config(config.replace(cfg, generated_unknown_ratio=-1))


def test_without_the_speech_extra_real_clips_train_alone_and_it_is_said(tmp_path, monkeypatch, capsys):
    from tinyml.tasks.micro_speech import synthetic

    def missing(*_a, **_k):  # what synthetic_speech raises when eSpeak NG is not installed
        raise TinyMLError("synthetic speech needs eSpeak NG (GPL-3.0), an optional extra: pip install "
                          "'tinyml[speech-synth]', or train micro_speech with --data")

    monkeypatch.setattr(synthetic, "synthetic_speech", missing)
    _dataset(tmp_path / "d", {"yes": 4, "no": 4, "go": 4})
    samples = TASK.load(tmp_path / "d", MicroSpeechConfig())
    assert not any(s.source.startswith(GENERATED_SOURCE) for s in samples)
    err = capsys.readouterr().err
    assert "no generated unknown words" in err and "generated_unknown_ratio=0" in err


def test_spec_mask_sets_bands_to_the_floor():
    from tinyml.tasks.micro_speech.task import spec_mask

    q = np.full((49, 40), 50, np.int8)
    out = spec_mask(q, np.random.default_rng(0), 2, 2, 6)
    assert (q == 50).all()  # the input is not modified
    masked = out == -128
    assert masked.any() and masked.mean() < 0.6
    assert np.array_equal(spec_mask(q, np.random.default_rng(0), 0, 0, 6), q)


def test_teacher_targets_blend_and_refuse_other_classes(reference_models):
    from dataclasses import replace

    cfg = replace(MicroSpeechConfig(), teacher=str(reference_models / "micro_speech_quantized.tflite"),
                  teacher_weight=0.5)
    x = np.full((3, 49, 40), -100, np.int8)
    y = np.array([0, 2, 3])
    t = TASK.targets(cfg, x, y)
    assert t.shape == (3, 4) and np.allclose(t.sum(1), 1.0, atol=1e-3)
    assert np.all(t[np.arange(3), y] >= 0.5 - 1e-6)  # half the target is the label
    with pytest.raises(TinyMLError, match="has 4 outputs"):
        TASK.targets(replace(cfg, words=("yes",)), x, np.array([0, 1, 2]))


def test_listed_clips_hold_no_audio_and_cached_ones_are_never_decoded(tmp_path, monkeypatch):
    """A dataset is listed from file headers; features come from the on-disk cache by file identity
    on the second pass, without reading a single clip, and stream from a memory map when large."""
    import tinyml.fit as fitmod
    from tinyml.tasks.micro_speech import data

    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    _dataset(tmp_path / "d", {"yes": 4, "no": 4, "go": 4})
    cfg = MicroSpeechConfig(generated_unknown_ratio=0)  # generated words are made in memory; this is about files
    clips = [c for c in TASK.load(tmp_path / "d", cfg) if c.label in ("yes", "no", "unknown")]
    assert clips and all(c.data is None for c in clips)
    assert all(len(c.audio) == 16000 for c in clips)
    first, labels = TASK.examples(clips, cfg, 0, 0)

    def no_reads(*_a, **_k):
        raise AssertionError("a cached clip was decoded")

    monkeypatch.setattr(data, "read_wav", no_reads)
    monkeypatch.setattr(fitmod, "IN_MEMORY_LIMIT_BYTES", 0)
    again, labels2 = TASK.examples(clips, cfg, 0, 0)
    assert isinstance(again, np.memmap)
    assert np.array_equal(np.asarray(again), first) and np.array_equal(labels, labels2)
    # a re-recorded file (new size or time) is not served from the old entry
    monkeypatch.undo()
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    target = Path(clips[0].source)
    soundfile.write(str(target), np.zeros(16000, np.float32), 16000)
    import os
    os.utime(target, ns=(1, 1))
    assert not np.array_equal(TASK.examples(clips[:1], cfg, 0, 0)[0][0], first[0])


def test_features_in_worker_processes_are_the_same_bytes(tmp_path, monkeypatch):
    """A large set is featurised in one process per core, in chunks; each clip's augmentation has
    its own random stream, so the bytes do not depend on how the work was split."""
    from tinyml.tasks.micro_speech import task as task_module

    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    _dataset(tmp_path / "d", {"yes": 5, "no": 5, "go": 5})
    cfg = MicroSpeechConfig()
    samples = TASK.load(tmp_path / "d", cfg)
    assert any(c.data is not None and not isinstance(c.data, np.ndarray) for c in samples)  # generated silence
    monkeypatch.setattr(task_module, "_workers", lambda: 1)
    one, y1 = TASK.examples(samples, cfg, 2, 3)
    monkeypatch.setattr(task_module, "_workers", lambda: 2)
    monkeypatch.setattr(task_module, "FEATURE_CHUNK", 4)
    monkeypatch.setattr(task_module, "PARALLEL_MIN_EXAMPLES", 0)
    many, y2 = TASK.examples(samples, cfg, 2, 3)
    assert np.array_equal(one, many) and np.array_equal(y1, y2)
    clips = [c for c in samples if c.label != NOISE_LABEL]
    assert len(one) == 3 * len(clips) and list(y1[:3]) == [y1[0]] * 3
    assert not np.array_equal(one[0], one[1])  # an augmented copy differs from its clip
    from dataclasses import replace

    sped, _ = TASK.examples(samples, replace(cfg, speed=0.1), 2, 3)  # speed reaches the copies, not the clips
    assert np.array_equal(sped[::3], one[::3]) and not np.array_equal(sped[1::3], one[1::3])


def test_a_test_set_is_scored_whole(tmp_path):
    """Training samples unknown words by its share; evaluation takes every clip in the folder."""
    _dataset(tmp_path / "d", {"yes": 4, "no": 4, "go": 15})
    (tmp_path / "d" / "_silence_").mkdir()
    for i in range(9):
        soundfile.write(str(tmp_path / "d" / "_silence_" / f"s{i}.wav"), np.zeros(16000, np.float32), 16000)
    cfg = MicroSpeechConfig()
    trained = [c.label for c in TASK.load(tmp_path / "d", cfg) if not c.source.startswith(GENERATED_SOURCE)]
    scored = [c.label for c in TASK.load_for_scoring([tmp_path / "d"], cfg)]
    # the training shares: unknown_ratio and silence_ratio times a word's count (4), plus generated words
    assert trained.count("unknown") == int(4 * cfg.unknown_ratio) < 15
    assert trained.count("silence") == int(4 * cfg.silence_ratio) < 9
    assert scored.count("unknown") == 15 and scored.count("silence") == 9


def test_frequency_warp_moves_energy_along_the_channels():
    from tinyml.tasks.micro_speech.task import warp_channels

    q = np.full((49, 40), -128, np.int8)
    q[:, 20] = 100  # one formant-like band
    rng = np.random.default_rng(0)
    assert warp_channels(q, rng, 0.0) is q
    peaks = set()
    for _ in range(20):
        w = warp_channels(q, rng, 0.15)
        assert w.shape == q.shape and w.dtype == np.int8 and (w[0] == w[-1]).all()
        peaks.add(int(np.argmax(w[0])))
    assert len(peaks) > 2 and min(peaks) >= 17 and max(peaks) <= 24  # within 1 ± 0.15 of channel 20
    with pytest.raises(TinyMLError, match="freq_warp"):
        TASK.check_config(MicroSpeechConfig(freq_warp=1.5))


def test_speed_change_moves_pitch_and_keeps_the_clip_length():
    from tinyml.tasks.micro_speech.data import change_speed

    def pitch(audio):
        return int(np.argmax(np.abs(np.fft.rfft(audio.astype(np.float64)))))  # Hz: one second at 16 kHz

    assert np.array_equal(change_speed(TONE, 1.0), TONE)
    for factor in (0.9, 1.1):
        faster = change_speed(TONE, factor)
        assert faster.dtype == np.int16 and len(faster) == len(TONE)
        assert pitch(faster) == round(440 * factor)
    fast = change_speed(TONE, 1.1)  # shorter: centred, silence either side
    assert fast[0] == fast[-1] == 0 and np.count_nonzero(fast) > 14000
    with pytest.raises(TinyMLError, match="speed"):
        TASK.check_config(MicroSpeechConfig(speed=0.6))


def test_mixup_is_range_checked_and_reaches_training_as_scores_per_class():
    with pytest.raises(TinyMLError, match="mixup"):
        TASK.check_config(MicroSpeechConfig(mixup=-0.5))
    # off for real clips (chosen on validation), on for the generated voices of training without --data
    assert TASK.mixup(MicroSpeechConfig()) == 0.0
    assert TASK.mixup(TASK.synthetic_config()) == 0.5
    assert TASK.mixup(MicroSpeechConfig(mixup=0.3)) == 0.3


def test_a_long_clip_keeps_its_word_not_its_first_second(tmp_path, capsys):
    """`tinyml capture` records 2 s; the word may come late in it."""
    for word in ("yes", "no"):
        (tmp_path / word).mkdir()
    quiet = np.zeros(32000, dtype=np.int16)
    quiet[13000:29000] = TONE  # the word from 0.81 s to 1.81 s
    soundfile.write(str(tmp_path / "yes" / "ann_nohash_0.wav"), quiet, 16000, subtype="PCM_16")
    soundfile.write(str(tmp_path / "no" / "bob_nohash_0.wav"), TONE, 16000, subtype="PCM_16")
    clips = load_speech_dir(tmp_path, ("yes", "no"), silence_ratio=0)
    yes = next(c for c in clips if c.label == "yes")
    assert len(yes.audio) == 16000 and np.array_equal(yes.audio, TONE)
    assert "1 clips are longer than 1 s: each keeps its loudest 1 s" in capsys.readouterr().err


def test_mac_metadata_and_readmes_are_left_out_and_named(tmp_path, capsys):
    for word in ("yes", "no"):
        (tmp_path / word).mkdir()
        soundfile.write(str(tmp_path / word / f"{word}_nohash_0.wav"), TONE, 16000, subtype="PCM_16")
        (tmp_path / word / f"._{word}_nohash_0.wav").write_bytes(b"\x00\x05\x16\x07Mac OS X        ")
    (tmp_path / "README.txt").write_text("my words")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    clips = load_speech_dir(tmp_path, ("yes", "no"), silence_ratio=0)
    assert sorted(c.label for c in clips) == ["no", "yes"]
    err = capsys.readouterr().err
    assert err.count("left out 4 entries") == 1 and "._yes_nohash_0.wav" in err and "README.txt" in err
