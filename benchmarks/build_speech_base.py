"""Rebuild the keyword spotter shipped with tinyml (tinyml/tasks/micro_speech/base/speech_base.tflite).

    python benchmarks/build_speech_base.py [--data ../shared/data]

Trains the micro_speech recipe (ds_cnn, yes/no, noise mixing, SpecAugment, frequency warp,
mixup) from random weights on the Speech Commands training clips in
DATA/speech_commands_train (CC BY 4.0, about 1,500 speakers) with the background noise of
DATA/speech_commands/_background_noise_, keeping the epoch that scores best on the official
validation split (speakers that never train). Writes the int8 model and, beside it, speech_base.json
with its words, front end and architecture, which `tinyml train micro_speech` checks before starting
from it. Same data, same bytes: training is seeded.
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
TRAINED_ON = ("Speech Commands v0.02 (Warden 2018, CC BY 4.0): the training split of speech_commands_train, "
              "its validation split choosing the epoch, with the dataset's background noise")


def base_config():
    from tinyml.tasks.micro_speech.task import MicroSpeechConfig

    # the base was chosen and built before generated unknown words joined the recipe (session 18) and
    # with mixup (off for --data training since session 21); training from it adds the words
    return MicroSpeechConfig(init_from="", generated_unknown_ratio=0, mixup=0.5)


def roots(data: Path) -> list[Path]:
    return [data / "speech_commands_train", data / "speech_commands" / "_background_noise_"]


def settings(cfg, report: dict) -> str:
    from tinyml import config as C

    return json.dumps({**C.to_dict(cfg), "trained_on": TRAINED_ON,
                       "validation_accuracy": round(report["int8_accuracy"], 4)}, indent=2, sort_keys=True) + "\n"


def main() -> int:
    from tinyml import tflm
    from tinyml.tasks import get_task
    from tinyml.tasks.micro_speech.task import BASE_FILE, BASE_SETTINGS_FILE
    from tinyml.train import train_task

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA), help="the shared data folder (default ../shared/data)")
    ap.add_argument("--out", default=str(REPO / "tinyml" / "tasks" / "micro_speech" / BASE_FILE))
    args = ap.parse_args()
    for p in roots(Path(args.data)):
        if not p.is_dir():
            raise SystemExit(f"{p} not found; the base trains on the shared Speech Commands clips")
    cfg = base_config()
    task = get_task("micro_speech")
    start = time.time()
    samples = task.load(roots(Path(args.data)), cfg)
    print(f"{sum(1 for s in samples if s.label)} clips, {sum(1 for s in samples if not s.label)} noise recordings",
          flush=True)
    result = train_task(task, cfg, samples, progress=lambda *_: None)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.tflite)
    out.with_name(Path(BASE_SETTINGS_FILE).name).write_text(settings(result.cfg, result.report))
    print(f"wrote {out}: {len(result.tflite):,} B flash, arena {tflm.measure_arena(result.tflite):,} B, validation "
          f"{result.report['int8_accuracy']:.3f} (epoch {result.report['kept_epoch']}), {time.time() - start:.0f} s",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
