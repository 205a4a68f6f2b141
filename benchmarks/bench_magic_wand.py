"""Measured figures for magic_wand on real recordings we did not make.

Prints: k-fold int8 accuracy and model bytes on ../shared/data/magic_wand (one recorder,
declared 100 Hz, milli-g); leave-one-person-out accuracy on the Arduino IMU-capture
punch/flex recordings (three people, 6 axes) and, beside it, the same recordings with
people mixed across folds; the synthetic-only model scored on the real
wand recordings; false positives on the original TF negative recordings; and training time
on the default (synthetic) dataset.

Usage: python benchmarks/bench_magic_wand.py [--folds 5] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))


def cv(task, cfg, samples, folds, by_person):
    from tinyml.fit import evaluate_int8, fit
    from tinyml.splits import kfold_indices
    from tinyml.quantize import quantize

    accs, sizes, per_fold = [], [], []
    for k, (tr, va) in enumerate(kfold_indices(samples, folds, cfg.seed, by_person)):
        tx, ty = task.examples([samples[i] for i in tr] + task.extra_training(cfg), cfg, cfg.augment_copies, cfg.seed + k)
        vx, vy = task.examples([samples[i] for i in va], cfg, 0, cfg.seed)
        model, _ = fit(task, cfg, task.model_inputs(tx), ty)
        tflite = quantize(model, task.model_inputs(tx[:300]))
        r = evaluate_int8(task, tflite, vx, vy, cfg.labels)
        accs.append(r["accuracy"])
        sizes.append(len(tflite))
        name = samples[va[0]].person if by_person else f"fold {k}"
        per_fold.append(f"{name}: {r['accuracy']:.3f} ({len(vy)})")
    return float(np.mean(accs)), max(sizes), per_fold


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    args = ap.parse_args()
    from tinyml import config as C
    from tinyml import tflm
    from tinyml.tasks.magic_wand.data import MotionFormat, load_motion_dir
    from tinyml.tasks.magic_wand.detect import run_detector
    from tinyml.tasks.magic_wand import features as mf
    from tinyml.modelinfo import read_model
    from tinyml.tasks import get_task
    from tinyml.fit import evaluate_int8, fit
    from tinyml.train import train_task
    from tinyml.quantize import quantize

    task = get_task("magic_wand")
    base = task.default_config()
    if args.quick:
        base = C.replace(base, epochs=5, augment_copies=1)

    t0 = time.time()
    synth = task.synthetic(base, 100, 0)
    gen_s = time.time() - t0
    result = train_task(task, base, synth, progress=lambda *_: None)
    print(f"default dataset: {len(synth)} synthetic recordings generated in {gen_s:.1f} s; "
          f"train+convert+evaluate {result.report['total_seconds']} s (fit {result.report['fit_seconds']} s); "
          f"val int8 acc {result.report['int8_accuracy']:.3f}; {result.report['flash_bytes']} B; "
          f"arena {result.report['arena_bytes']} B")

    wand_dir = DATA / "magic_wand"
    if not wand_dir.is_dir():
        print(f"real data not found at {DATA}; stopping")
        sys.exit(0)
    wand_cfg = C.replace(base, data_format={**C.to_dict(base.data_format), "units": "mg", "rate_hz": 100.0})
    wand = task.load(wand_dir, wand_cfg)
    acc, size, folds = cv(task, wand_cfg, wand, args.folds, by_person=False)
    print(f"real wand ({len(wand)} gestures, one recorder): {args.folds}-fold int8 accuracy {acc:.3f}, "
          f"model {size} B  [{'; '.join(folds)}]")

    sx, sy = task.examples(wand, wand_cfg, 0, 0)
    synth_on_real = evaluate_int8(task, result.tflite, sx, sy, base.labels)
    print(f"synthetic-only model on the real wand recordings: int8 accuracy {synth_on_real['accuracy']:.3f} "
          f"(recall {synth_on_real['per_class_recall']})")

    # a model on all real wand data, then false positives on the original TF negative recordings
    tx, ty = task.examples(wand + task.extra_training(wand_cfg), wand_cfg, wand_cfg.augment_copies, 0)
    model, _ = fit(task, wand_cfg, task.model_inputs(tx), ty)
    tflite = quantize(model, task.model_inputs(tx[:300]))
    neg_fmt = MotionFormat(units="mg", rate_hz=25.0)
    negs = load_motion_dir(DATA / "magic_wand_tf_negative", neg_fmt)
    negs = [dataclasses.replace(s, label="negative") for s in negs]
    nx, ny = task.examples(negs, wand_cfg, 0, 0)
    r = evaluate_int8(task, tflite, nx, ny, base.labels)
    print(f"TF negative recordings ({len(negs)} windows of 120 rows at 25 Hz): "
          f"window false-positive rate {1 - r['accuracy']:.3f}")
    info = read_model(tflite)
    mult, zp = mf.input_multiplier(info.inputs[0].scale), info.inputs[0].zero_point
    minutes, hits = 0.0, 0
    for path in sorted((DATA / "magic_wand_tf_negative").glob("*.txt")):
        from tinyml.tasks.magic_wand.data import parse_tf_wand

        blocks = parse_tf_wand(path.read_text(errors="replace"), str(path), "negative",
                               dataclasses.replace(neg_fmt, window_rows=10**9))
        data = np.concatenate([b.data for b in blocks])
        t_us = mf.timestamps_us(len(data), 25.0)
        wins = mf.stream_windows(data, t_us, wand_cfg.features, mult, zp)
        scores = tflm.predict_int8(tflite, np.stack([w for _, w in wins]).reshape(len(wins), *info.inputs[0].shape[1:]))
        det = task.detector(wand_cfg, info)
        hits += len(run_detector(det, scores.reshape(len(wins), -1), t_us[[i for i, _ in wins]] // 1000))
        minutes += len(data) / 25.0 / 60
    print(f"streaming on the TF negative recordings: {hits} false detections in {minutes:.1f} min "
          f"({hits / minutes:.2f} per minute)")

    imu_dir = DATA / "imu_capture_csv"
    imu_cfg = C.replace(base, labels=("punch", "flex"), negative_label="",
                        features={**C.to_dict(base.features), "axes": 6},
                        data_format={**C.to_dict(base.data_format), "units": "g", "axes": 6})
    imu = task.load(imu_dir, imu_cfg)
    acc, size, folds = cv(task, imu_cfg, imu, 0, by_person=True)
    print(f"IMU-capture punch/flex ({len(imu)} gestures, 3 people, 6 axes): leave-one-person-out int8 accuracy "
          f"{acc:.3f}, model {size} B  [{'; '.join(folds)}]")
    # The same model and recordings with people mixed across folds: if this is near 1.0 while
    # leave-one-person-out is near chance, the people perform the gestures differently (the
    # recordings, not the model, limit transfer to a new person).
    acc, _, folds = cv(task, imu_cfg, imu, args.folds, by_person=False)
    print(f"IMU-capture punch/flex, people mixed across {args.folds} folds: int8 accuracy {acc:.3f}  "
          f"[{'; '.join(folds)}]")


if __name__ == "__main__":
    main()
