"""Rebuild the wand model shipped with tinyml (tinyml/tasks/magic_wand/base/wand_base.tflite).

    python benchmarks/build_wand_base.py [--data ../shared/data/magic_wand_tf]

Trains the default magic_wand model from random weights on the original TensorFlow magic_wand
recordings of 8 people (Apache-2.0) plus the task's generated negatives, for a fixed number of
epochs on all of them (the recipe's figures come from leave-one-person-out in
benchmarks/bench_magic_wand.py). Writes the int8 model and, beside it, wand_base.json with its
labels and feature settings, which `tinyml train magic_wand` checks before starting from it.
Same data, same bytes: training is seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))

RECIPE: dict = {"augment_copies": 8, "epochs": 40, "learning_rate": 0.003, "augment_yaw": 3.1416,
                "min_examples_per_class": 0}
"""Settings that differ from MagicWandConfig's defaults, chosen by leave-one-person-out (docs/magic_wand.md)."""


def base_config():
    from tinyml.tasks.magic_wand.task import MagicWandConfig

    return MagicWandConfig(init_from="", **RECIPE)


def train_base(samples, cfg) -> bytes:
    """The base's int8 bytes: trained on all the recordings and the generated negatives."""
    from tinyml.tasks import get_task
    from tinyml.train import fit_and_quantize

    task = get_task("magic_wand")
    return fit_and_quantize(task, cfg, list(samples) + task.extra_training(cfg), [])[2]


def settings(cfg) -> str:
    from tinyml import config as C

    return json.dumps({"labels": list(cfg.labels), "features": C.to_dict(cfg.features),
                       "trained_on": "magic_wand_tf (8 people, Apache-2.0) + generated negatives",
                       "recipe": RECIPE}, indent=2, sort_keys=True) + "\n"


def main() -> int:
    from tinyml import tflm
    from tinyml.tasks import get_task
    from tinyml.tasks.magic_wand.task import BASE_FILE, BASE_SETTINGS_FILE

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA / "magic_wand_tf"))
    ap.add_argument("--out", default=str(REPO / "tinyml" / "tasks" / "magic_wand" / BASE_FILE))
    args = ap.parse_args()
    cfg = base_config()
    start = time.time()
    samples = get_task("magic_wand").load(args.data, cfg)
    people = sorted({s.person for s in samples if s.label != cfg.negative_label})
    print(f"{len(samples)} recordings of {len(people)} people ({', '.join(people)})", flush=True)
    model = train_base(samples, cfg)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(model)
    out.with_name(Path(BASE_SETTINGS_FILE).name).write_text(settings(cfg))
    print(f"wrote {out}: {len(model):,} B flash, arena {tflm.measure_arena(model):,} B, "
          f"{time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
