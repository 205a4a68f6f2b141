"""Train any registered task: split → examples → fit → quantize → evaluate, returning values.

Writes nothing; `tinyml.run` puts the result on disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tinyml.errors import TinyMLError

from tinyml.fit import evaluate_float, evaluate_int8, fit, progress_callback
from tinyml.guards import score_warnings, split_warnings
from tinyml.run import Run


@dataclass(frozen=True)
class TrainResult:
    """A finished run, as values."""

    task: str
    """Registry name."""
    cfg: object
    """The task config used."""
    model: object
    """Trained Keras model."""
    tflite: bytes
    """Full-int8 model."""
    history: dict
    """Keras training history."""
    report: dict
    """Accuracy, confusion, sizes, timings."""

    @property
    def run(self) -> Run:
        """The part that is saved and exported."""
        return Run(task=self.task, config=self.cfg, model=self.tflite, report=self.report, history=self.history)


def train_task(task, cfg, samples, progress=print, show_epochs: bool = False) -> TrainResult:
    """Split → examples → fit → quantize → evaluate (float and int8). Returns values; writes nothing."""
    from tinyml import tflm
    from tinyml.quantize import quantize

    task.check_config(cfg)
    start = time.time()
    train_idx, val_idx = task.split(samples, cfg)
    train_s = [samples[i] for i in train_idx]
    val_s = [samples[i] for i in val_idx]
    if not train_s or not val_s:
        raise TinyMLError(f"only {len(samples)} recordings: too few to train on some and validate on others; "
                          f"record more (at least a few per class for {', '.join(task.labels(cfg))})")
    extra = task.extra_training(cfg)
    train_s += extra
    tx, ty = task.examples(train_s, cfg, cfg.augment_copies, cfg.seed)
    vx, vy = task.examples(val_s, cfg, 0, cfg.seed)
    progress(f"train {len(train_s)} ({len(extra)} generated, {len(tx)} augmented), hold out {len(val_s)}")
    callbacks = [progress_callback(f"[{task.name}]")] if show_epochs else []
    targets = task.targets(cfg, tx, ty)
    mixup = task.mixup(cfg)
    one_hot = np.eye(len(cfg.labels), dtype=np.float32)
    if mixup and np.ndim(targets) == 1:  # blending needs a score per class
        targets = one_hot[targets]
    # soft training targets (distillation, mixup): validate against the labels, one-hot, without a second teacher pass
    val_targets = one_hot[vy] if np.ndim(targets) == 2 else vy
    model, history = fit(task, cfg, tx, targets, vx, val_targets, callbacks=callbacks, mixup=mixup)
    fit_seconds = time.time() - start
    rep = task.model_inputs(tx[np.random.default_rng(cfg.seed).permutation(len(tx))[:300]])
    tflite = quantize(model, task.representative(rep))
    int8 = evaluate_int8(task, tflite, vx, vy, cfg.labels)
    cfg, calibration = task.calibrate(cfg, tflite, val_s, train_s)  # post-processing, scored on validation
    labels = task.labels(cfg)
    warnings = split_warnings(labels, [s.label for s in train_s], [s.label for s in val_s])
    warnings += score_warnings(labels, int8["confusion"], int8["accuracy"])
    report = {
        "task": task.name,
        "labels": list(cfg.labels),
        "train_recordings": len(train_s),
        "generated_train_recordings": len(extra),
        "val_recordings": len(val_s),
        "val_persons": sorted({s.person for s in val_s}),
        "float_accuracy": evaluate_float(model, task.model_inputs(vx), vy),
        "int8_accuracy": int8["accuracy"],
        "confusion": int8["confusion"],
        "per_class_recall": int8["per_class_recall"],
        "flash_bytes": len(tflite),
        "arena_bytes": tflm.measure_arena(tflite),
        "kept_epoch": history.pop("kept_epoch"),
        "training_devices": history.pop("devices"),
        "epochs": cfg.epochs,
        "warnings": warnings,
        "calibration": calibration,
        "fit_seconds": round(fit_seconds, 1),
        "total_seconds": round(time.time() - start, 1),
    }
    return TrainResult(task.name, cfg, model, tflite, history, report)
