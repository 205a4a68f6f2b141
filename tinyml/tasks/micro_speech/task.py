"""micro_speech: a ~20 KB keyword spotter on TFLM micro front-end features."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tinyml.tasks.micro_speech.data import SILENCE, UNKNOWN, SpeechClip, augment_clip, change_speed, load_speech_dir
from tinyml.config import LrSchedule
from tinyml.errors import TinyMLError
from tinyml.files import cache_root
from tinyml.tasks.micro_speech import features as fa
from tinyml.names import safe_label
from tinyml.tasks.base import FeatureConstant, Firmware, Task
from tinyml.tasks.micro_speech.recognizer import RECOGNIZER_MAX_RESULTS

NOISE_LABEL = ""  # clips with this label are background-noise sources, not examples
GENERATED_SOURCE = "added:"  # generated clips added to real ones start their source with this: they always train
FIRST_WORD = 2  # class 0 is silence, 1 unknown: the recognizer reports classes from here on


@dataclass(frozen=True, kw_only=True)
class RecognizerRule:
    """The reference command recognizer: average scores over a window, then threshold."""

    average_window_ms: int = 1000
    """Scores from inferences within this window are averaged."""
    detection_threshold: int = 200
    """Average score (0..255, i.e. int8 score + 128) a command needs."""
    suppression_ms: int = 1500
    """After a detection, the same command is not reported again for this long."""
    minimum_count: int = 3
    """Inferences needed in the window before anything is reported."""
    calibrate: bool = True
    """After training, pick detection_threshold and average_window_ms on a stream built from the
    validation clips (most hits minus five times the false accepts); false keeps the values above."""


@dataclass(frozen=True, kw_only=True)
class MicroSpeechConfig:
    """Everything that defines a micro_speech run; saved as RUN/config.json."""

    words: tuple[str, ...] = ("yes", "no")
    """Wanted words; 'silence' and 'unknown' classes are added in front."""
    frontend: fa.FrontendSettings = field(default_factory=fa.FrontendSettings)
    """Micro front-end settings (the board uses the same)."""
    recognizer: RecognizerRule = field(default_factory=RecognizerRule)
    """Streaming post-processing."""
    init_from: str = "base"
    """Weights training starts from: 'base' (the keyword spotter shipped with tinyml, trained on the
    Speech Commands clips of 1,500+ speakers; benchmarks/build_speech_base.py rebuilds it), a .tflite
    this task trained (its run's config.json beside it), or '' (random weights). It needs the same
    architecture and front end. Your words win: a class the start knows keeps its output weights,
    a new word gets a fresh output on the start's learned features."""
    model: str = "ds_cnn"
    """'ds_cnn' (depthwise-separable convolutions, then the largest value of each channel; 16.0 KB
    and about 68 ms per inference on a 64 MHz Cortex-M4 as configured) or 'tiny_conv' (the
    reference architecture: one convolution and a dense layer, 14 KB, about 43 ms)."""
    unknown_ratio: float = 2.0
    """Unknown-word clips per wanted-word clip count."""
    silence_ratio: float = 1.0
    """Silence clips per wanted-word clip count."""
    generated_unknown_ratio: float = 1.7
    """Training with --data: generated clips of other words (eSpeak NG's and Flite's voices saying 42
    words, near misses of yes/no such as "nope" and "yet" among them) added to the unknown class, per
    wanted-word clip count; they always train, never validate. 0 = off. Needs the speech-synth extra
    (else a one-line note, and your clips only). Trained without three of Speech Commands' six unknown
    words and scored on other speakers saying them, 1,500 generated clips took unseen words from 0.226
    to 0.352 right (docs/micro_speech.md)."""
    synthetic_flite_share: float = 0.5
    """Training without --data: share of the generated words spoken by Flite's voices, which are built
    from recordings of people, instead of eSpeak NG's formant voices; used when the `flite` program is
    installed (apt-get install flite), else eSpeak NG speaks them all (said in one line). 0 = off."""
    epochs: int = 80
    """Training epochs (the best validation epoch is kept)."""
    batch_size: int = 64
    """Mini-batch size."""
    learning_rate: float = 0.001
    """Adam learning rate."""
    lr_schedule: LrSchedule = "constant"
    """'constant' (learning_rate throughout) or 'cosine' (from learning_rate down to zero along a half
    cosine over all of training)."""
    augment_copies: int = 2
    """Augmented copies per clip (time shift, volume, background noise)."""
    time_masks: int = 2
    """SpecAugment: bands of feature slices masked (set to the quietest value) in each augmented copy."""
    freq_masks: int = 2
    """SpecAugment: bands of filterbank channels masked in each augmented copy."""
    mask_width: int = 6
    """SpecAugment: the widest masked band, in slices or channels."""
    freq_warp: float = 0.1
    """Vocal-tract-length augmentation: each augmented copy's filterbank channels are stretched or
    squeezed by a random factor within 1 ± freq_warp, as a longer or shorter vocal tract moves the
    formants (0 = off). From the shipped base on speech_commands_train, three seeds on its validation
    split: 0 gave 0.941 / 0.913 / 0.939, 0.1 gave 0.947 / 0.928 / 0.944 (docs/micro_speech.md)."""
    speed: float = 0.0
    """Speed augmentation: each augmented copy is played faster or slower by a random factor within
    1 ± speed, tempo and pitch together, as people speak at other rates and pitches (0 = off; 0.1
    measured no better on the validation split, docs/micro_speech.md)."""
    mixup: float = 0.0
    """Mixup: each training example is blended with another of its batch, features and targets by
    the same share from Beta(mixup, mixup), its own part kept the larger; 0 = off. Off for real
    clips: from the shipped base on speech_commands_train, seeds 0 / 1 scored 0.947 / 0.957 on all
    857 validation clips without it and 0.945 / 0.943 with 0.5 (session 21; 0.5 had been chosen on
    the test clips). Training without --data keeps 0.5 (synthetic_config), chosen on real clips."""
    filters: int = 8
    """tiny_conv: filters of its one convolution (8 is the reference's; 10 still fits 18,800 B)."""
    ds_width: int = 20
    """ds_cnn: channels of the first convolution and the full-resolution blocks. Trained from random
    weights on speech_commands_train and scored on all 857 clips of its validation split, with 3 such
    blocks and no coarse ones: 16 gave 0.910, 20 gave 0.932 / 0.938 / 0.936 (docs/micro_speech.md).
    24 takes the first convolution's output over the 16 KB arena budget."""
    ds_blocks: int = 1
    """ds_cnn: depthwise-separable blocks of ds_width channels after the first convolution, at its
    resolution."""
    ds_coarse_blocks: int = 3
    """ds_cnn: then blocks of ds_coarse_width channels on a map halved in time and frequency (the first
    one's depthwise layer strides by 2); 0 = none. More channels where the map is small cost less time
    on the board than at full resolution. From random weights on speech_commands_train, scored on all
    857 clips of its validation split (seeds 0 / 1): 3 blocks of 32 gave 0.944 / 0.947 at about 68 ms,
    against 0.932 / 0.938 at 83 ms for 3 full-resolution blocks of 20 (docs/micro_speech.md)."""
    ds_coarse_width: int = 32
    """ds_cnn: channels of the coarse blocks."""
    ds_stride: tuple[int, int] = (2, 4)
    """ds_cnn: stride (slices, channels) of the first convolution; every later layer's work shrinks
    with it, which is what decides the board's time per inference."""
    teacher: str = ""
    """Distillation: an int8 .tflite with the same classes and features (e.g. the published
    micro_speech_quantized.tflite); training targets blend its scores with the labels. '' = off."""
    teacher_weight: float = 0.5
    """Share of the teacher's scores in each training target (the rest is the one-hot label)."""
    val_fraction: float = 0.2
    """Held-out fraction, whole speakers: the official split's validation + testing shares (10 % + 10 %)."""
    inference_every_ms: int = 100
    """On the device, run the model every this many milliseconds of audio."""
    seed: int = 0
    """Seed for data, augmentation and weights."""

    @property
    def labels(self) -> tuple[str, ...]:
        return (SILENCE, UNKNOWN, *self.words)


BASE_FILE = "base/speech_base.tflite"
BASE_SETTINGS_FILE = "base/speech_base.json"
"""The shipped base's words, front end and architecture, written beside it by its build script."""
REBUILD = "python benchmarks/build_speech_base.py"
ARCHITECTURE = ("model", "filters", "ds_width", "ds_blocks", "ds_stride", "ds_coarse_blocks", "ds_coarse_width")
"""The config fields that decide the model's layers, which a start model must share."""


def seed_weights(cfg: MicroSpeechConfig, keras_weights: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """The new model's [kernel, bias] per weighted layer, from cfg.init_from: every layer as it is there,
    the output matched by label (a word the start knows keeps its row, a new word starts fresh)."""
    from tinyml import config as C
    from tinyml.modelimport import import_layers, init_model_bytes, output_by_label, start_settings

    model = init_model_bytes(cfg.init_from, "tinyml.tasks.micro_speech", BASE_FILE, REBUILD)
    settings = start_settings(cfg.init_from, "tinyml.tasks.micro_speech", BASE_SETTINGS_FILE, "micro_speech")
    ours = {k: v for k, v in C.to_dict(cfg).items() if k in ("frontend", *ARCHITECTURE)}
    theirs = {k: settings.get(k) for k in ours}
    _, layers = import_layers(model, cfg.init_from)
    shapes_ok = len(layers) == len(keras_weights) and all(
        layer.kernel.shape == np.shape(w[0]) for layer, w in zip(layers[:-1], keras_weights[:-1]))
    if theirs != ours or not shapes_ok:
        differ = ", ".join(f"{k}={theirs[k]}" for k in ARCHITECTURE if theirs[k] != ours[k])
        raise TinyMLError(f"--set init_from={cfg.init_from}: that model has other layers or features "
                          f"({differ or 'another front end'}) than this config; keep them, or train from random "
                          "weights with --set init_from=")
    start_labels = (SILENCE, UNKNOWN, *settings.get("words", ()))
    return [[layer.kernel, layer.bias] for layer in layers[:-1]] + [
        output_by_label(*keras_weights[-1], layers[-1], cfg.labels, start_labels)]


def _cache_dir() -> Path:
    return cache_root() / "speech_features"


def clip_features(clip: SpeechClip, s: fa.FrontendSettings, audio: np.ndarray | None = None) -> np.ndarray:
    """Front-end features of a clip's un-augmented audio, cached on disk: a clip listed from a file by
    the file's identity (so a cached clip is never decoded), a clip in memory by its content.
    `audio`, when the caller has already read the clip, saves a second read on a cache miss."""
    key_text = clip.file_key
    if key_text is None:
        audio = clip.audio if audio is None else audio
    key = hashlib.sha256((key_text.encode() if key_text is not None else audio.tobytes())
                         + repr(s).encode()).hexdigest()
    path = _cache_dir() / key[:2] / f"{key}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    feats = fa.features_int8(clip.audio if audio is None else audio, s)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")  # worker processes may race on one key
        np.save(tmp, feats)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed
    return feats


FEATURE_CHUNK = 256  # clips per unit of work: bounds the audio in memory at once
PARALLEL_MIN_EXAMPLES = 3000  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class FeatureJob:
    """How to turn clips into examples: the front end, and each clip's augmented copies drawn from
    its own random stream (seed, clip number), so chunks can be computed anywhere in any order."""

    frontend: fa.FrontendSettings
    """Front-end settings."""
    noise: list
    """Background recordings mixed into augmented copies."""
    augment_copies: int
    """Augmented copies per clip."""
    seed: int
    """With the clip number, the seed of each clip's augmentation."""
    time_masks: int
    """SpecAugment bands of slices per copy."""
    freq_masks: int
    """SpecAugment bands of channels per copy."""
    mask_width: int
    """Widest SpecAugment band."""
    freq_warp: float
    """Largest relative stretch of the channel axis per copy."""
    speed: float
    """Largest relative change of playback speed per copy (0 = off)."""

    def run(self, start: int, chunk: list) -> np.ndarray:
        """Examples of clips start, start+1, ...: each clip's features, then its augmented copies."""
        s = self.frontend
        out = np.empty((len(chunk) * (1 + self.augment_copies), s.slices, s.channels), np.int8)
        k = 0
        for i, clip in enumerate(chunk):
            audio = clip.audio if self.augment_copies else None  # one read per clip
            out[k] = clip_features(clip, s, audio)
            k += 1
            if not self.augment_copies:
                continue
            rng = np.random.default_rng([self.seed, start + i])
            for _ in range(self.augment_copies):
                # drawn only when on, so the copies of a config without it stay the same bytes
                said = change_speed(audio, rng.uniform(1 - self.speed, 1 + self.speed)) if self.speed else audio
                q = fa.features_int8(augment_clip(said, self.noise, rng, sample_rate=s.sample_rate), s)
                q = warp_channels(q, rng, self.freq_warp)
                out[k] = spec_mask(q, rng, self.time_masks, self.freq_masks, self.mask_width)
                k += 1
        return out


_JOB: FeatureJob | None = None


def _set_feature_job(job: FeatureJob) -> None:
    """Worker-process initializer: the job (noise included) is sent once, not with every chunk."""
    global _JOB
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _JOB = job


def _chunk_features(item: tuple[int, list]) -> tuple[int, np.ndarray]:
    start, chunk = item
    return start, _JOB.run(start, chunk)


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cached_features(audio: np.ndarray, s: fa.FrontendSettings) -> np.ndarray:
    """Front-end features of audio in memory, cached on disk by content and settings."""
    return clip_features(SpeechClip(np.asarray(audio, dtype=np.int16), "", "", ""), s)


class MicroSpeechTask(Task):
    name = "micro_speech"
    description = "keyword spotting (yes/no by default) on TFLM micro front-end features"
    config_class = MicroSpeechConfig
    capture_kind = "audio"
    demo_order = 1
    accepts_init_from = True
    # the keyword spotter's budget is the published model's 18,800 B: its names alone would take 4.5 KB
    strip_tensor_names = True

    def quick_config(self) -> MicroSpeechConfig:
        # the smoke-test size starts from the base too, on fewer generated clips (demo_examples_per_class)
        return self.synthetic_config()

    def synthetic_config(self) -> MicroSpeechConfig:
        # Training without --data starts from the base, trained on real speakers, and only nudges it with
        # the generated voices: 5 epochs at 0.0001. Chosen on the real validation split of
        # speech_commands_train (607 clips, three seeds): base 0.932; 5 epochs at 0.0001 0.929; 3 at 0.0003
        # 0.917; 10 at 0.0003 0.913 (docs/micro_speech.md). Generated voices are narrower than real
        # speakers, hence twice the augmented copies, a ±15 % filterbank stretch, 3+3 SpecAugment masks
        # and mixup (0.739 against 0.711 on real training-split clips, six seeds; docs/micro_speech.md).
        return replace(MicroSpeechConfig(), augment_copies=4, freq_warp=0.15, time_masks=3, freq_masks=3,
                       mixup=0.5, epochs=5, learning_rate=0.0001)

    def demo_examples_per_class(self, quick: bool) -> int:
        return 40 if quick else 160

    def check_config(self, cfg: MicroSpeechConfig) -> None:
        for word in cfg.words:
            safe_label(word, "word")
        if len(set(cfg.labels)) != len(cfg.labels):
            raise TinyMLError(f"words {list(cfg.words)} repeat each other or 'silence'/'unknown'")
        if cfg.model not in ("tiny_conv", "ds_cnn"):
            raise TinyMLError(f"model '{cfg.model}' is not one of tiny_conv, ds_cnn")
        if min(cfg.ds_width, cfg.ds_coarse_width, cfg.filters) < 1 or min(cfg.ds_blocks, cfg.ds_coarse_blocks) < 0 \
                or len(cfg.ds_stride) != 2 or min(cfg.ds_stride) < 1:
            raise TinyMLError(f"filters {cfg.filters}, ds_width {cfg.ds_width}, ds_blocks {cfg.ds_blocks}, "
                              f"ds_coarse_width {cfg.ds_coarse_width}, ds_coarse_blocks {cfg.ds_coarse_blocks}, "
                              f"ds_stride {list(cfg.ds_stride)}: need at least 1 filter or channel, 0 or more "
                              "blocks and two strides of at least 1")
        if not 0 <= cfg.speed < 0.5:
            raise TinyMLError(f"speed {cfg.speed}: need a share from 0 (off) to below 0.5, e.g. 0.1")
        if not 0 <= cfg.freq_warp < 1:
            raise TinyMLError(f"freq_warp {cfg.freq_warp}: need a share from 0 (off) to below 1, e.g. 0.15")
        if not 0 <= cfg.synthetic_flite_share <= 1:
            raise TinyMLError(f"synthetic_flite_share {cfg.synthetic_flite_share}: need a share from 0 (off) to 1")
        if not 0 <= cfg.mixup <= 100:
            raise TinyMLError(f"mixup {cfg.mixup}: need a Beta parameter from 0 (off) to 100, e.g. 0.5")
        if min(cfg.unknown_ratio, cfg.silence_ratio, cfg.generated_unknown_ratio) < 0:
            raise TinyMLError(f"unknown_ratio {cfg.unknown_ratio}, silence_ratio {cfg.silence_ratio}, "
                              f"generated_unknown_ratio {cfg.generated_unknown_ratio}: clips per wanted-word clip "
                              "cannot be negative")

    def mixup(self, cfg: MicroSpeechConfig) -> float:
        return cfg.mixup

    def load(self, data_dir, cfg: MicroSpeechConfig, every_clip: bool = False) -> list[SpeechClip]:
        """One Speech Commands folder, or a list read as one dataset (e.g. training clips + a noise folder);
        `every_clip` takes all unknown-word and _silence_ clips instead of the config's shares."""
        from tinyml.tasks.micro_speech.data import load_noise

        s = cfg.frontend
        roots = list(data_dir) if isinstance(data_dir, (list, tuple)) else [data_dir]
        clips = load_speech_dir(roots, cfg.words, s.sample_rate, s.samples, cfg.unknown_ratio,
                                cfg.silence_ratio, cfg.seed, every_clip=every_clip)
        noise = [n for r in roots for n in load_noise(Path(r), s.sample_rate)]
        extra = [] if every_clip else self.generated_unknown(cfg, clips)
        return clips + extra + [SpeechClip(n, NOISE_LABEL, "noise", "background") for n in noise]

    def generated_unknown(self, cfg: MicroSpeechConfig, clips: list[SpeechClip]) -> list[SpeechClip]:
        """cfg.generated_unknown_ratio × the wanted words' typical clip count of generated other words,
        marked to always train (their voices are not the user's speakers, so they say nothing on
        validation)."""
        import sys

        from tinyml.tasks.micro_speech.synthetic import synthetic_speech

        typical = np.mean([sum(c.label == w for c in clips) for w in cfg.words])
        count = int(round(typical * cfg.generated_unknown_ratio))
        if count < 1:
            return []
        try:
            made = synthetic_speech(cfg.words, 1, cfg.seed, cfg.frontend.sample_rate, cfg.frontend.samples,
                                    unknown_ratio=count, silence_ratio=0,
                                    flite_share=cfg.synthetic_flite_share)
        except TinyMLError as exc:
            print(f"tinyml: note: no generated unknown words ({exc}); training on your clips only "
                  "(--set generated_unknown_ratio=0 says you meant that)", file=sys.stderr)
            return []
        return [replace(c, source=GENERATED_SOURCE + c.source) for c in made if c.label == UNKNOWN]

    def load_many(self, roots, cfg: MicroSpeechConfig) -> list[SpeechClip]:
        return self.load(list(roots), cfg)

    def load_for_scoring(self, roots, cfg: MicroSpeechConfig) -> list[SpeechClip]:
        """Every clip there: a test set is scored whole, not sampled by the training shares."""
        return self.load(list(roots), cfg, every_clip=True)

    def synthetic(self, cfg: MicroSpeechConfig, n_per_class: int, seed: int) -> list[SpeechClip]:
        from tinyml.tasks.micro_speech.synthetic import synthetic_speech

        return synthetic_speech(cfg.words, n_per_class, seed, cfg.frontend.sample_rate, cfg.frontend.samples,
                                unknown_ratio=cfg.unknown_ratio, silence_ratio=cfg.silence_ratio,
                                flite_share=cfg.synthetic_flite_share)

    def split(self, samples: list[SpeechClip], cfg: MicroSpeechConfig):
        """The official Speech Commands split: validation_list.txt/testing_list.txt when the dataset has
        them, else the hash of the speaker id. If that leaves a class without training or validation
        clips (e.g. a folder of test-split clips only), a speaker-disjoint stratified split instead,
        said in one line. Noise sources always train."""
        import sys

        from tinyml.splits import speaker_stratified_split
        from tinyml.tasks.micro_speech.data import list_split, which_set

        lists: dict[Path, dict[str, str]] = {}
        share = 100 * cfg.val_fraction / 2
        clips = [i for i, c in enumerate(samples)
                 if c.label != NOISE_LABEL and not c.source.startswith(GENERATED_SOURCE)]
        held = []
        for i in clips:
            path = Path(samples[i].source)
            root = path.parent.parent
            if root not in lists:
                lists[root] = list_split(root) if path.is_file() else {}
            if lists[root]:
                held_out = f"{path.parent.name}/{path.name}" in lists[root]
            else:
                held_out = which_set(f"{samples[i].person}_nohash_0", share, share) != "training"
            if held_out:
                held.append(i)
        val = np.array(held, dtype=int)
        train = np.setdiff1d(np.arange(len(samples)), val)
        labels = {samples[i].label for i in clips}
        if {samples[i].label for i in train} >= labels and {samples[i].label for i in val} >= labels:
            return train, val
        sub_train, sub_val = speaker_stratified_split([samples[i] for i in clips], cfg.val_fraction, cfg.seed)
        val = np.array([clips[j] for j in sub_val], dtype=int)
        print(f"tinyml: note: the official lists and speaker hash left a class without training or validation "
              f"clips; holding out whole speakers per class instead ({len(val)} clips)", file=sys.stderr)
        return np.setdiff1d(np.arange(len(samples)), val), val

    def examples(self, samples: list[SpeechClip], cfg: MicroSpeechConfig, augment_copies: int = 0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(N, slices, channels) int8 features (what the board computes) and int labels, each clip
        followed by its augmented copies. Each clip's augmentation has its own random stream (seed,
        clip number), so a large set is computed in one process per core with the same bytes."""
        from tinyml.fit import example_buffer
        from tinyml.progress import progress
        from tinyml.tasks.micro_speech.synthetic import generated_noise

        s = cfg.frontend
        noise = [c.audio for c in samples if c.label == NOISE_LABEL] + generated_noise(s.sample_rate, seed)
        index = {label: i for i, label in enumerate(cfg.labels)}
        clips = [c for c in samples if c.label != NOISE_LABEL]
        if not clips:
            raise TinyMLError("no speech clips to train or evaluate on")
        copies = 1 + augment_copies
        # a large dataset's features go to a file on disk that training streams from
        xs = example_buffer((len(clips) * copies, s.slices, s.channels), np.int8)
        ys = np.repeat(np.array([index[c.label] for c in clips], dtype=np.int64), copies)
        job = FeatureJob(s, noise, augment_copies, seed, cfg.time_masks, cfg.freq_masks, cfg.mask_width,
                         cfg.freq_warp, cfg.speed)
        chunks = [(start, clips[start:start + FEATURE_CHUNK]) for start in range(0, len(clips), FEATURE_CHUNK)]
        workers = _workers()
        if workers > 1 and len(clips) * copies >= PARALLEL_MIN_EXAMPLES:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: TensorFlow's threads do not survive a fork; generated clips go as samples
            chunks = [(start, [c if c.data is None or isinstance(c.data, np.ndarray) else
                               replace(c, data=c.audio) for c in chunk]) for start, chunk in chunks]
            with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_set_feature_job, initargs=(job,)) as pool:
                results = pool.map(_chunk_features, chunks)
                for start, feats in progress(results, "audio features", total=len(chunks)):
                    xs[start * copies:start * copies + len(feats)] = feats
        else:
            for start, chunk in progress(chunks, "audio features"):
                feats = job.run(start, chunk)
                xs[start * copies:start * copies + len(feats)] = feats
        return xs, ys

    def targets(self, cfg: MicroSpeechConfig, x: np.ndarray, y: np.ndarray):
        """Labels, or with a teacher: teacher_weight × its int8 scores (in TFLM) + the rest one-hot."""
        if not cfg.teacher:
            return y
        from tinyml.modelinfo import load_model_bytes, read_model
        from tinyml.quantize import dequantize_array
        from tinyml.tflm import predict_int8

        model = load_model_bytes(cfg.teacher)
        info = read_model(model, cfg.teacher)
        if info.outputs[0].elements != len(cfg.labels):
            raise TinyMLError(f"teacher {cfg.teacher} has {info.outputs[0].elements} outputs; the config has "
                              f"{len(cfg.labels)} classes ({', '.join(cfg.labels)})")
        out = info.outputs[0]
        scores = dequantize_array(predict_int8(model, self.int8_inputs(x, info)), out.scale, out.zero_point)
        scores = np.clip(scores.reshape(len(x), -1), 0, None)
        scores /= np.maximum(scores.sum(1, keepdims=True), 1e-6)
        onehot = np.eye(len(cfg.labels), dtype=np.float32)[y]
        return (cfg.teacher_weight * scores + (1 - cfg.teacher_weight) * onehot).astype(np.float32)

    def model_inputs(self, features: np.ndarray) -> np.ndarray:
        return fa.dequantize(features)[..., None]

    def representative(self, x: np.ndarray) -> np.ndarray:
        """Calibration data plus one full-range example, so the converter picks the device's input scale."""
        full = np.zeros_like(x[:1])
        full.reshape(-1)[::2] = 255 * fa.INPUT_SCALE
        return np.concatenate([full, x])

    def int8_inputs(self, features: np.ndarray, info) -> np.ndarray:
        tin = info.inputs[0]
        if abs(tin.scale - fa.INPUT_SCALE) > 1e-6 * fa.INPUT_SCALE or tin.zero_point != fa.INPUT_ZERO_POINT:
            raise TinyMLError(
                f"the model's input quantization (scale {tin.scale:.8g}, zero point {tin.zero_point}) is not the "
                f"front end's ({fa.INPUT_SCALE:.8g}, {fa.INPUT_ZERO_POINT}); retrain with `tinyml train micro_speech`")
        return np.asarray(features, dtype=np.int8).reshape((len(features), *tin.shape[1:]))

    def build_model(self, cfg: MicroSpeechConfig):
        import keras

        keras.utils.set_random_seed(cfg.seed)
        s = cfg.frontend
        n = len(cfg.labels)
        x = inp = keras.Input((s.slices, s.channels, 1), name="features")
        if cfg.model == "tiny_conv":
            # valid padding: 20x17x8 features into the classifier keeps the model under the reference 18,800 B
            x = keras.layers.Conv2D(cfg.filters, (10, 8), strides=(2, 2), padding="valid", activation="relu")(x)
            x = keras.layers.Dropout(0.25, seed=cfg.seed)(x)
            x = keras.layers.Flatten()(x)
        else:  # ds_cnn: depthwise-separable stack, pooled over time and frequency
            x = keras.layers.Conv2D(cfg.ds_width, (10, 4), strides=tuple(cfg.ds_stride), padding="same",
                                    activation="relu")(x)
            blocks = [(cfg.ds_width, 1)] * cfg.ds_blocks + [(cfg.ds_coarse_width, 1)] * cfg.ds_coarse_blocks
            if cfg.ds_coarse_blocks:
                blocks[cfg.ds_blocks] = (cfg.ds_coarse_width, 2)
            for width, stride in blocks:
                x = keras.layers.DepthwiseConv2D((3, 3), strides=stride, padding="same", activation="relu")(x)
                x = keras.layers.Conv2D(width, (1, 1), activation="relu")(x)
            # max pooling over the whole map: it has no arithmetic to round, so the board, TFLM and
            # TFLite agree. Averaging did not: MEAN differed on the board (22 of 51 emulated
            # inferences), AVERAGE_POOL_2D between TFLM and TFLite (by up to 9 int8 steps)
            x = keras.layers.MaxPooling2D(pool_size=tuple(x.shape[1:3]))(x)
            x = keras.layers.Flatten()(x)
        out = keras.layers.Dense(n, activation="softmax")(x)
        model = keras.Model(inp, out, name="micro_speech")
        if cfg.init_from:
            weighted = [layer for layer in model.layers if layer.weights]
            for layer, weights in zip(weighted, seed_weights(cfg, [layer.get_weights() for layer in weighted])):
                layer.set_weights(weights)
        return model

    def firmware(self, config: MicroSpeechConfig | None, info) -> Firmware:
        # a bare .tflite (e.g. the published model) gets the default front end and recognizer,
        # which are the reference's; int8_inputs refuses a model whose input does not match them
        cfg = config if config is not None else MicroSpeechConfig()
        self.int8_inputs(np.zeros((1, info.inputs[0].elements), np.int8), info)  # refuses a mismatched input
        s, r = cfg.frontend, cfg.recognizer
        constants = (
            FeatureConstant("kAudioSampleRate", "int", s.sample_rate),
            FeatureConstant("kFeatureSliceCount", "int", s.slices),
            FeatureConstant("kFeatureSize", "int", s.channels),
            FeatureConstant("kFeatureSliceStrideMs", "int", s.stride_ms),
            FeatureConstant("kFeatureSliceDurationMs", "int", s.window_ms),
            FeatureConstant("kInferenceEveryMs", "int", cfg.inference_every_ms),
        )
        return Firmware(
            sketch_template="micro_speech/sketch.ino.j2",
            extra_templates=(
                ("command_recognizer.h", "micro_speech/command_recognizer.h.j2"),
                ("command_recognizer.c", "micro_speech/command_recognizer.c.j2"),
            ),
            sensor_roles=("mic",),
            constants=constants,
            context={"frontend": s, "inference_every_ms": cfg.inference_every_ms,
                     "feature_int8": {"multiplier": fa.INT8_MULTIPLIER, "round": fa.INT8_ROUND,
                                      "divisor": fa.INT8_DIVISOR, "zero_point": fa.INPUT_ZERO_POINT},
                     "recognizer": {"max_results": RECOGNIZER_MAX_RESULTS,
                "classes": len(cfg.labels), "first_word": FIRST_WORD, "average_window_ms": r.average_window_ms,
                "detection_threshold": r.detection_threshold, "suppression_ms": r.suppression_ms,
                "minimum_count": r.minimum_count}},
            inference_every_ms=cfg.inference_every_ms,
        )

    def calibrate(self, cfg: MicroSpeechConfig, tflite: bytes, val_samples: list,
                  train_samples: list) -> tuple[MicroSpeechConfig, dict]:
        """The recognizer's threshold for this model: a model trained with masks and noise is less
        sure of itself than the reference one, and a fixed 200 can miss most words on a stream."""
        if not cfg.recognizer.calibrate:
            return cfg, {}
        noise = [c.audio for c in train_samples + val_samples if c.label == NOISE_LABEL]
        return calibrate_threshold(tflite, val_samples, cfg, noise)

    def evaluate_stream(self, model: bytes, cfg: MicroSpeechConfig, recording: Path, truth: Path | None) -> dict:
        """A long WAV and its 'word,start_ms' ground truth (default: the .csv beside it) scored as the sketch runs."""
        import csv

        from tinyml.tasks.micro_speech.data import read_wav

        from tinyml.files import MB, read_input_text

        truth_file = Path(truth) if truth else Path(recording).with_suffix(".csv")
        text = read_input_text(truth_file, "'word,start_ms' ground truth", 64 * MB)
        try:
            words = [(row[0], int(row[1])) for row in csv.reader(text.splitlines())
                     if row and not row[0].startswith("#")]
        except (OSError, ValueError, IndexError) as exc:
            raise TinyMLError(f"{truth_file}: need 'word,start_ms' lines as ground truth ({exc})") from None
        return evaluate_stream(model, read_wav(Path(recording), cfg.frontend.sample_rate), words, cfg)

    def commands(self):
        import functools

        from tinyml.tasks.base import TaskCommand
        from tinyml.tasks.micro_speech.commands import add_make_stream_arguments, make_stream

        return (TaskCommand("make-stream", "build a long test recording with known words from speech clips",
                            add_make_stream_arguments, functools.partial(make_stream, self)),)

    def device_case(self, config: MicroSpeechConfig | None, model: bytes, recording: str | None, seed: int = 0):
        """Audio (a WAV, else synthetic clips one after another) played into the PDM stand-in; Python
        predicts every "Heard ..." line with the same streaming front end and recognizer."""
        from tinyml.tasks.micro_speech.data import read_wav
        from tinyml.tasks.micro_speech.recognizer import CommandRecognizer
        from tinyml.device.emulate import DeviceCase, Inputs

        cfg = config if config is not None else MicroSpeechConfig()
        rate = cfg.frontend.sample_rate
        if recording is None:
            clips = self.synthetic(cfg, 1, seed)
            gap = np.zeros(rate // 2, dtype=np.int16)
            audio = np.concatenate([part for c in clips for part in (c.audio, gap)])
            what = f"{len(clips)} synthetic clips"
        else:
            audio = read_wav(Path(recording), rate)
            what = str(recording)
        times, scores = stream_scores(model, audio, cfg)
        r = cfg.recognizer
        rec = CommandRecognizer(len(cfg.labels), r.average_window_ms, r.detection_threshold, r.suppression_ms,
                                r.minimum_count)
        lines = []
        for t, sc in zip(times, scores):
            hit = rec.update(sc, int(t))
            if hit >= FIRST_WORD:
                lines.append(f"Heard {cfg.labels[hit]} ({int(sc[hit]) + 128}) @{int(t)}ms")
        return DeviceCase(Inputs(mic=audio.astype("<i2").tobytes()), lines,
                          f"{what}: {len(audio) / rate:.1f} s of audio, {len(times)} inferences")


TASK = MicroSpeechTask()


def warp_channels(q: np.ndarray, rng: np.random.Generator, warp: float) -> np.ndarray:
    """Int8 features (slices, channels) with the channel axis stretched by a random factor in
    1 ± warp (linear interpolation, edges held); warp 0 returns q and draws nothing."""
    if warp <= 0:
        return q
    alpha = rng.uniform(1 - warp, 1 + warp)
    n = q.shape[1]
    src = np.clip(np.arange(n) / alpha, 0, n - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = src - lo
    out = q[:, lo].astype(np.float32) * (1 - frac) + q[:, hi].astype(np.float32) * frac
    return np.clip(np.round(out), -128, 127).astype(np.int8)


def spec_mask(q: np.ndarray, rng: np.random.Generator, time_masks: int, freq_masks: int, width: int) -> np.ndarray:
    """SpecAugment on int8 features (slices, channels): random bands set to -128, the front end's floor."""
    if not time_masks and not freq_masks:
        return q
    q = q.copy()
    for axis, count in ((0, time_masks), (1, freq_masks)):
        for _ in range(count):
            w = int(rng.integers(0, width + 1))
            start = int(rng.integers(0, max(1, q.shape[axis] - w)))
            if axis == 0:
                q[start:start + w, :] = -128
            else:
                q[:, start:start + w] = -128
    return q


def stream_scores(tflite: bytes, audio: np.ndarray, cfg: MicroSpeechConfig) -> tuple[np.ndarray, np.ndarray]:
    """Run the model over a long recording as the sketch does: one continuous front end,
    a window of `slices` slices, an inference every `inference_every_ms`. Returns (times_ms, int8 scores)."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    s = cfg.frontend
    q = fa.to_int8(fa.frontend_uint16(audio, s))
    step = max(1, cfg.inference_every_ms // s.stride_ms)
    ends = np.arange(s.slices, len(q) + 1, step)
    if len(ends) == 0:
        raise TinyMLError(f"the recording is shorter than one {s.clip_ms} ms window")
    info = read_model(tflite)
    windows = np.stack([q[e - s.slices:e] for e in ends])
    scores = tflm.predict_int8(tflite, TASK.int8_inputs(windows, info)).reshape(len(ends), -1)
    times = (ends - 1) * s.stride_ms + s.window_ms
    return times, scores


def stream_report(detections: list[tuple[int, str]], truth: list[tuple[str, int]], seconds: float,
                  tolerance_ms: int = 2000) -> dict:
    """Match detections to ground-truth words: a hit is the right word within tolerance after its start.

    The recognizer fires 1.0–1.8 s after a word starts (a 1 s feature window, then 1 s of averaging),
    so the default tolerance is 2 s.
    """
    used = [False] * len(truth)
    hits, false_accepts = 0, 0
    for t, word in detections:
        match = next((i for i, (w, start) in enumerate(truth)
                      if not used[i] and w == word and start <= t <= start + tolerance_ms), None)
        if match is None:
            false_accepts += 1
        else:
            used[match] = True
            hits += 1
    hours = seconds / 3600
    return {"words": len(truth), "detections": len(detections), "hits": hits, "misses": len(truth) - hits,
            "false_accepts": false_accepts, "false_accepts_per_hour": false_accepts / hours if hours else 0.0,
            "hit_rate": hits / len(truth) if truth else 0.0, "seconds": seconds}


def evaluate_stream(tflite: bytes, audio: np.ndarray, truth: list[tuple[str, int]], cfg: MicroSpeechConfig) -> dict:
    from tinyml.tasks.micro_speech.recognizer import CommandRecognizer

    times, scores = stream_scores(tflite, audio, cfg)
    r = cfg.recognizer
    rec = CommandRecognizer(len(cfg.labels), r.average_window_ms, r.detection_threshold, r.suppression_ms,
                            r.minimum_count)
    labels = cfg.labels
    detections = []
    for t, sc in zip(times, scores):
        hit = rec.update(sc, int(t))
        if hit >= FIRST_WORD:
            detections.append((int(t), labels[hit]))
    report = stream_report(detections, truth, len(audio) / cfg.frontend.sample_rate)
    report["detection_list"] = detections
    return report


CALIBRATION_THRESHOLDS = tuple(range(100, 256, 5))
CALIBRATION_WINDOWS = (300, 500, 700, 1000)
"""Averaging windows (ms) calibration tries. A short window follows a word's few confident
inferences; a long one smooths out single wrong ones. Which is better depends on the model: on a
30-min stream of the validation speakers, 300 ms found 3-6 % more words than 1000 ms at the same
false accepts for both the 16- and 20-channel ds_cnn (docs/micro_speech.md)."""
CALIBRATED_FIELDS = ("detection_threshold", "average_window_ms")  # what calibration writes into cfg.recognizer
CALIBRATION_SECONDS = 1800  # the longest calibration stream: false accepts are rare, so they need time to show
FALSE_ACCEPT_COST = 5  # a false accept is as bad as missing five words: a device that fires at random is unusable


def calibrate_threshold(tflite: bytes, clips: list, cfg: MicroSpeechConfig,
                        noise: list | None = None) -> tuple[MicroSpeechConfig, dict]:
    """Score one stream built from `clips` (validation) over background `noise` (the recordings
    training mixed in; generated noise without them) once, replay the recognizer at every candidate
    averaging window and threshold, keep the pair with the most hits minus FALSE_ACCEPT_COST x the
    false accepts (on a tie the higher threshold, then the longer window)."""
    from dataclasses import replace

    from tinyml.tasks.micro_speech.data import UNKNOWN, build_stream
    from tinyml.tasks.micro_speech.recognizer import CommandRecognizer

    speech = [c for c in clips if c.label in cfg.words or c.label == UNKNOWN]
    if sum(c.label in cfg.words for c in speech) < 5:
        return cfg, {"skipped": "fewer than 5 validation clips of the words"}
    if not noise:
        from tinyml.tasks.micro_speech.synthetic import generated_noise

        noise = generated_noise(cfg.frontend.sample_rate, cfg.seed)
    seconds = float(min(CALIBRATION_SECONDS, max(60, 3 * len(speech))))
    audio, truth = build_stream(speech, noise, seconds, cfg.words, cfg.seed, cfg.frontend.sample_rate)
    times, scores = stream_scores(tflite, audio, cfg)
    r = cfg.recognizer
    results = {}
    for window in sorted({*CALIBRATION_WINDOWS, r.average_window_ms}):
        # the averages don't depend on the threshold: computed once per window, decided per threshold
        averager = CommandRecognizer(len(cfg.labels), window, 0, r.suppression_ms, r.minimum_count)
        steps = [(int(t), avg) for t, sc in zip(times, scores) if (avg := averager.average(sc, int(t))) is not None]
        for threshold in sorted({*CALIBRATION_THRESHOLDS, r.detection_threshold}):
            rec = CommandRecognizer(len(cfg.labels), window, threshold, r.suppression_ms, r.minimum_count)
            detections = [(t, cfg.labels[hit]) for t, avg in steps if (hit := rec.decide(avg, t)) >= FIRST_WORD]
            rep = stream_report(detections, truth, seconds)
            results[window, threshold] = (rep["hits"], rep["false_accepts"])
    candidates = [(w, t) for w in CALIBRATION_WINDOWS for t in CALIBRATION_THRESHOLDS]
    window, best = max(candidates, key=lambda wt: (results[wt][0] - FALSE_ACCEPT_COST * results[wt][1], wt[1], wt[0]))
    tuned = replace(cfg, recognizer=replace(r, detection_threshold=best, average_window_ms=window))
    before = results[r.average_window_ms, r.detection_threshold]
    info = {"stream_seconds": seconds, "words": len(truth), "threshold": best, "average_window_ms": window,
            "hits": results[window, best][0], "false_accepts": results[window, best][1],
            "configured_threshold": r.detection_threshold, "configured_average_window_ms": r.average_window_ms,
            "configured_hits": before[0], "configured_false_accepts": before[1]}
    return tuned, info
