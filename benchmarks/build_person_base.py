"""Rebuild the person model shipped with tinyml (tinyml/tasks/person_detection/base/person_base.tflite).

    python benchmarks/build_person_base.py [--data ../shared/data/person_photos] [--teacher person_detect.tflite]

Starts from the published TFLM person_detect.tflite (Apache-2.0), its two 256-channel layers cut to
their 128 strongest channels so the int8 model fits 250 KB, and fine-tunes it on the `train` part of
person_photos (benchmarks/person_photos.py), using only the photos whose licence allows sharing
derived weights (human-dataset and Caltech-101, CC BY 4.0; not Intel Image Classification). Each
target is half the folder label, half the published model's own score (distillation), so the
model keeps what the published one learned from COCO's everyday scenes. Same data, same result:
training is seeded. Prints the figures on the `val` part; benchmarks/bench_person_detection.py
scores `test`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))

# The recipe, chosen on the `val` part (docs/person_detection.md)
RECIPE = {"distill": True, "distill_share": 0.5, "epochs": 3, "learning_rate": 0.0003, "augment_copies": 1,
          "frozen_layers": 0}


def base_config(teacher: str):
    from tinyml.tasks.person_detection.task import PersonDetectionConfig

    return PersonDetectionConfig(init_from=str(teacher), **RECIPE)


def main() -> int:
    import numpy as np

    from person_photos import kinds, part, shareable
    from tinyml.fit import evaluate_int8
    from tinyml.tasks.person_detection.data import load_image_dir
    from tinyml.tasks.person_detection.task import BASE_FILE, TASK
    from tinyml.train import train_task

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA / "person_photos"))
    ap.add_argument("--teacher", default=str(DATA / "tflm_reference" / "models" / "person_detect.tflite"))
    ap.add_argument("--out", default=str(REPO / "tinyml" / "tasks" / "person_detection" / BASE_FILE))
    args = ap.parse_args()
    cfg = base_config(args.teacher)
    start = time.time()
    samples = load_image_dir(args.data, cfg.labels, (cfg.image_size, cfg.image_size))
    kind = kinds(Path(args.data))
    train = [s for s in samples if part(s) == "train" and shareable(kind[s.source])]
    val = [s for s in samples if part(s) == "val"]
    print(f"{len(samples)} photos; training on {len(train)} (train part, shareable sources), "
          f"scoring {len(val)} (val part)", flush=True)
    result = train_task(TASK, cfg, train, progress=lambda m: print(m, flush=True), show_epochs=True)
    x, y = TASK.examples(val, cfg)
    r = evaluate_int8(TASK, result.tflite, x, y, cfg.labels)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.tflite)
    seconds = time.time() - start
    recall = ", ".join(f"{k} {v:.3f}" for k, v in r["per_class_recall"].items())
    print(f"wrote {out}: {len(result.tflite):,} B; val part int8 accuracy {r['accuracy']:.3f} ({recall}); "
          f"{seconds / 60:.1f} min")
    return 0 if np.isfinite(r["accuracy"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
