"""magic_wand across people and boards (issue 12's test bed), with today's recipe:

- leave-one-person-out over the 8 people of the original TF magic_wand data (SparkFun Edge);
  the TF negative recordings have no person and train in every fold;
- trained on all TF data, scored on the Nuvoton recordings (another person, another board),
  with no axis map declared; and the reverse;
- units and rate as the loaders infer them (nothing declared except the Nuvoton rate, which its
  files do not store: 100 Hz).

    python benchmarks/bench_wand_people.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))


def train_and_score(task, cfg, train, test, seed):
    from tinyml.fit import evaluate_int8, fit
    from tinyml.quantize import quantize

    tx, ty = task.examples(train + task.extra_training(cfg), cfg, cfg.augment_copies, seed)
    vx, vy = task.examples(test, cfg, 0, seed)
    model, _ = fit(task, cfg, task.model_inputs(tx), ty)
    tflite = quantize(model, task.model_inputs(tx[:300]))
    return evaluate_int8(task, tflite, vx, vy, cfg.labels), len(tflite)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    from tinyml.tasks import get_task

    task = get_task("magic_wand")
    cfg = task.default_config()
    if args.quick:
        cfg = dataclasses.replace(cfg, epochs=5, augment_copies=1)
    t0 = time.time()
    tf_samples = task.load(DATA / "magic_wand_tf", cfg)
    people = sorted({s.person for s in tf_samples if s.label != "negative"})
    negatives = [s for s in tf_samples if s.label == "negative"]
    print(f"magic_wand_tf: {len(tf_samples)} samples, people {', '.join(people)}; {len(negatives)} negative windows")
    accs = []
    for k, person in enumerate(people):
        train = [s for s in tf_samples if s.person != person or s.label == "negative"]
        test = [s for s in tf_samples if s.person == person and s.label != "negative"]
        r, size = train_and_score(task, cfg, train, test, cfg.seed + k)
        accs.append(r["accuracy"])
        recall = ", ".join(f"{c} {v:.2f}" for c, v in r["per_class_recall"].items() if v is not None)
        print(f"  held out {person}: {r['accuracy']:.3f} on {r['samples']} gestures ({recall}); {size:,} B")
    print(f"leave-one-person-out (gestures of the held-out person): mean {np.mean(accs):.3f}, worst {min(accs):.3f}")

    nuvoton_cfg = dataclasses.replace(cfg, data_format=dataclasses.replace(cfg.data_format, rate_hz=100.0))
    nuvoton = task.load(DATA / "magic_wand", nuvoton_cfg)
    r, _ = train_and_score(task, cfg, tf_samples, nuvoton, cfg.seed)
    print(f"trained on magic_wand_tf, scored on the Nuvoton recordings (no axis map): {r['accuracy']:.3f} "
          f"({', '.join(f'{c} {v:.2f}' for c, v in r['per_class_recall'].items() if v is not None)})")
    r, _ = train_and_score(task, cfg, nuvoton, [s for s in tf_samples if s.label != "negative"], cfg.seed)
    print(f"trained on the Nuvoton recordings, scored on magic_wand_tf gestures: {r['accuracy']:.3f} "
          f"({', '.join(f'{c} {v:.2f}' for c, v in r['per_class_recall'].items() if v is not None)})")
    print(f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
