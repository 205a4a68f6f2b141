"""Measured figures for person_detection.

1. Training throughput (images per second) of the default ≤250 KB MobileNet on the synthetic
   default data, and the export time of the run (arena measurement + verification + render).
2. A model shrunk from the published person_detect.tflite (300,568 B): the default widths
   (the two 256-channel layers cut to their 128 strongest channels), distilled toward the
   published model's scores. Its agreement with the published int8 model (both run in TFLM)
   is measured on real photographs it never trained on: whole held-out photos from the
   sample images that ship inside scikit-image (many crops of each), and TFLM's own
   person.bmp / no_person.bmp.

3. Real photos: the shipped base (benchmarks/build_person_base.py), the published model, the
   default recipe trained on the `train` part of every source, and the model `tinyml demo` exports,
   on the held-out `test` part of person_photos (settings were chosen on its `val` part).

Usage: python benchmarks/bench_person_detection.py [--epochs 8] [--crops 120] [--quick] [--skip-shrink]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))

# Photographs in scikit-image's package data (no download). Two people, the rest scenes and objects.
PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "hubble_deep_field", "moon",
          "retina", "brick", "grass", "gravel", "clock", "page", "immunohistochemistry", "cell")
# held out for agreement (never distilled on): one person photo and a mix of scenes
HELD_OUT = ("camera", "coffee", "rocket", "moon", "gravel", "clock")


def gray_photo(name: str) -> np.ndarray:
    from skimage import data
    from skimage.color import rgb2gray

    img = getattr(data, name)()
    if img.ndim == 3:
        img = (rgb2gray(img[..., :3]) * 255).round().astype(np.uint8)
    return img.astype(np.uint8)


def crops(photo: np.ndarray, n: int, rng: np.random.Generator, size: int = 96) -> list[np.ndarray]:
    """The whole photo plus n random square crops (15–100 % of the short side), each at model size."""
    from tinyml.tasks.person_detection.features import crop_scale

    out = [crop_scale(photo, size, size)]
    h, w = photo.shape
    for _ in range(n):
        side = int(min(h, w) * rng.uniform(0.15, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        view = photo[y:y + side, x:x + side]
        out.append(crop_scale(view[:, ::-1] if rng.random() < 0.5 else view, size, size))
    return out


def predictions(task, model: bytes, images: np.ndarray) -> np.ndarray:
    """Argmax class of an int8 model in TFLM for each image."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    return tflm.predict_int8(model, task.int8_inputs(images, read_model(model))).reshape(len(images), -1).argmax(1)


def throughput(task, quick: bool) -> None:
    from tinyml.boards import get_board
    from tinyml.export.pipeline import build_export, load_source
    from tinyml.run import write_run
    from tinyml.train import train_task

    cfg = dataclasses.replace(task.default_config(), epochs=2 if quick else 4)
    samples = task.synthetic(cfg, 100 if quick else 400, cfg.seed)
    n_train = int(len(samples) * (1 - cfg.val_fraction)) * (1 + cfg.augment_copies)
    start = time.time()
    result = train_task(task, cfg, samples, progress=lambda *_: None)
    fit_s = result.report["fit_seconds"]
    print(f"training: {n_train} images x {cfg.epochs} epochs in {fit_s:.0f} s "
          f"(~{n_train * cfg.epochs / fit_s:.0f} images/s incl. augmentation, 2 cores); "
          f"whole run {time.time() - start:.0f} s; {result.report['flash_bytes']:,} B, "
          f"arena {result.report['arena_bytes']:,} B")
    with tempfile.TemporaryDirectory() as tmp:
        write_run(Path(tmp) / "run", result.run, result.model)
        times = []
        for _ in range(3):
            t = time.time()
            build_export(load_source(Path(tmp) / "run"), get_board("nano33ble_sense"), "person", None)
            times.append(time.time() - t)
    print(f"export (arena + verify 20 inputs + render): {np.median(times):.2f} s median of 3")


def shrink(task, args) -> None:
    from tinyml import tflm
    from tinyml.tasks.person_detection.data import ImageSample, read_gray
    from tinyml.quantize import quantize
    from tinyml.train import train_task

    published = DATA / "tflm_reference" / "models" / "person_detect.tflite"
    ref_dir = DATA / "tflm_reference" / "person_detection"
    if not published.is_file():
        print(f"skipping the shrink benchmark: {published} not found")
        return
    pub = published.read_bytes()
    rng = np.random.default_rng(0)
    photos = {name: gray_photo(name) for name in PHOTOS}
    n = 20 if args.quick else args.crops
    views = {name: crops(photo, n, rng) for name, photo in photos.items()}
    # person.bmp stores int8 input bytes, not pixels (see tests/test_person_detection.py)
    tflm_refs = np.stack([read_gray(ref_dir / "no_person.bmp"), read_gray(ref_dir / "person.bmp") ^ 0x80])

    labels = ("non_person", "person")
    samples = []
    for name in PHOTOS:
        imgs = np.stack(views[name])
        teacher = predictions(task, pub, imgs)
        samples += [ImageSample(img, labels[t], name, f"skimage:{name}:{i}") for i, (img, t) in
                    enumerate(zip(imgs, teacher))]
    synth = task.synthetic(task.default_config(), 30 if args.quick else 300, 1)
    s_imgs = np.stack([s.data for s in synth])
    teacher = predictions(task, pub, s_imgs)
    samples += [dataclasses.replace(s, label=labels[t], person="synthetic") for s, t in zip(synth, teacher)]
    train = [s for s in samples if s.person not in HELD_OUT]
    held = np.stack([s.data for s in samples if s.person in HELD_OUT])
    held_pub = np.array([labels.index(s.label) for s in samples if s.person in HELD_OUT])  # published model's calls
    print(f"shrink: distilling on {len(train)} images ({len(PHOTOS) - len(HELD_OUT)} photos' crops + "
          f"{len(synth)} synthetic), agreement on {len(held)} crops of {len(HELD_OUT)} held-out photos "
          f"({', '.join(HELD_OUT)}) + TFLM person.bmp/no_person.bmp")

    cfg = dataclasses.replace(task.default_config(), init_from=str(published), distill=True,
                              epochs=2 if args.quick else args.epochs, learning_rate=0.0005,
                              augment_copies=1, val_fraction=0.15, frozen_layers=0)

    # before any training: the pruned graph alone
    import keras

    keras.backend.clear_session()
    pruned = quantize(task.build_model(cfg), task.model_inputs(np.stack([s.data for s in train[:300]])))
    from tinyml.tasks.person_detection.task import PersonDetectionTask

    class Split(PersonDetectionTask):
        """Validation is a random 10 % of the distillation images; the held-out photos stay out of training."""

        def split(self, s, c):
            idx = np.arange(len(s))
            val = np.sort(np.random.default_rng(0).choice(idx, max(1, len(s) // 10), replace=False))
            return np.setdiff1d(idx, val), val

    start = time.time()
    result = train_task(Split(), cfg, train, show_epochs=True)
    small = result.tflite
    print(f"published: {len(pub):,} B; pruned+distilled: {len(small):,} B, arena {tflm.measure_arena(small):,} B; "
          f"distillation {time.time() - start:.0f} s")
    for name, model in (("pruned only", pruned), ("pruned + distilled", small)):
        refs = predictions(task, model, tflm_refs)
        print(f"  {name:<20} agreement on held-out photo crops {np.mean(predictions(task, model, held) == held_pub):.3f}; "
              f"TFLM images: no_person.bmp → {labels[refs[0]]}, person.bmp → {labels[refs[1]]}")
    pub_refs = predictions(task, pub, tflm_refs)
    print(f"  published            TFLM images: no_person.bmp → {labels[pub_refs[0]]}, "
          f"person.bmp → {labels[pub_refs[1]]}")
    print(f"  (the published model calls {np.mean(held_pub == 1):.0%} of the held-out crops 'person')")


def real_photos(task, args) -> None:
    """The shipped base, the published model and the model `tinyml demo` exports, on the `test` part
    of person_photos (benchmarks/person_photos.py: whole original photos the base never trained on,
    and on which no setting was chosen), per source; agreement with the published model where it is
    confident; TFLM's person.bmp / no_person.bmp."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from person_photos import kinds, part, source
    from tinyml import tflm
    from tinyml.modelinfo import read_model
    from tinyml.tasks.person_detection.data import load_image_dir, read_gray
    from tinyml.tasks.person_detection.task import BASE, init_model_bytes
    from tinyml.train import train_task

    root = DATA / "person_photos"
    published = DATA / "tflm_reference" / "models" / "person_detect.tflite"
    if not root.is_dir() or not published.is_file():
        print(f"skipping the real-photo benchmark: {root} or {published} not found")
        return
    cfg = task.default_config()
    start = time.time()
    samples = load_image_dir(root, cfg.labels, (cfg.image_size, cfg.image_size))
    kind = kinds(root)
    test = [s for s in samples if part(s) == "test"]
    x = np.stack([s.data for s in test])
    y = np.array([cfg.labels.index(s.label) for s in test])
    print(f"real photos: {len(samples)} loaded in {time.time() - start:.0f} s; test part {len(test)} photos "
          f"({np.sum(y == 1)} person), whole original photos the base never trained on")
    models = {"published person_detect.tflite": published.read_bytes(), "shipped base": init_model_bytes(BASE)}
    if not args.skip_recipe:
        # what `tinyml train person_detection --data DIR` does with the train part of every source as DIR
        # (Intel's photos too: a user's own model need not be shareable, unlike the base)
        train = [s for s in samples if part(s) == "train"]
        start = time.time()
        recipe = train_task(task, cfg, train, progress=lambda *_: None)
        models["tinyml recipe (default config from the base; train part, all sources)"] = recipe.tflite
        print(f"  (the recipe trained on {len(train)} photos in {time.time() - start:.0f} s, "
              f"{len(train) * (1 + cfg.augment_copies) * cfg.epochs / (time.time() - start):.0f} images/s with "
              "loading and conversion)")
    if not args.skip_demo:
        demo_cfg = task.synthetic_config()
        start = time.time()
        demo = train_task(task, demo_cfg, task.synthetic(demo_cfg, task.demo_examples_per_class(False), demo_cfg.seed),
                          progress=lambda *_: None)
        models["`tinyml demo`'s model"] = demo.tflite
        print(f"  (the demo's person model trained as `tinyml demo` does, {time.time() - start:.0f} s)")
    ref_dir = DATA / "tflm_reference" / "person_detection"
    # person.bmp stores int8 input bytes, not pixels (docs/person_detection.md)
    refs = np.stack([read_gray(ref_dir / "no_person.bmp"), read_gray(ref_dir / "person.bmp") ^ 0x80])
    pos = cfg.labels.index(cfg.positive_label)

    def scores(model):
        q = tflm.predict_int8(model, task.int8_inputs(x, read_model(model))).reshape(len(x), -1)
        out = read_model(model).outputs[0]
        return (q.astype(np.float32) - out.zero_point) * out.scale

    pub_scores = scores(models["published person_detect.tflite"])[:, pos]
    confident = (pub_scores < 0.2) | (pub_scores > 0.8)
    for name, model in models.items():
        sc = scores(model)
        pred = sc.argmax(1)
        recall = {label: float(np.mean(pred[y == i] == i)) for i, label in enumerate(cfg.labels)}
        by_source = {}
        for s, p, t in zip(test, pred, y):
            by_source.setdefault(f"{source(kind[s.source])} {s.label}", []).append(p == t)
        agree = float(np.mean((sc[confident, pos] > 0.5) == (pub_scores[confident] > 0.5)))
        ref_calls = tflm.predict_int8(model, task.int8_inputs(refs, read_model(model))).reshape(2, -1).argmax(1)
        print(f"  {name}: {len(model):,} B; accuracy {np.mean(pred == y):.3f}; recall "
              + ", ".join(f"{k} {v:.3f}" for k, v in recall.items())
              + f"; agreement with the published model on the {int(confident.sum())} photos it calls with "
                f"score < 0.2 or > 0.8: {agree:.3f}; no_person.bmp → {cfg.labels[ref_calls[0]]}, "
                f"person.bmp → {cfg.labels[ref_calls[1]]}")
        print("    per source: " + ", ".join(f"{k} {np.mean(v):.3f} ({len(v)})" for k, v in sorted(by_source.items())))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8, help="distillation epochs")
    p.add_argument("--crops", type=int, default=120, help="random crops per photo")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-shrink", action="store_true", help="leave out the scikit-image distillation benchmark")
    p.add_argument("--skip-demo", action="store_true", help="do not train the demo's model for the real-photo test")
    p.add_argument("--skip-recipe", action="store_true",
                   help="do not train the default recipe on the train part for the real-photo test")
    args = p.parse_args()
    from tinyml.tasks import get_task

    task = get_task("person_detection")
    if not args.skip_throughput:
        throughput(task, args.quick)
    real_photos(task, args)
    if not args.skip_shrink:
        shrink(task, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
