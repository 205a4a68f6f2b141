"""Train any registered task: split → examples → fit → quantize → evaluate, returning values.

Writes nothing; `tinyml.run` puts the result on disk.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from tinyml.errors import TinyMLError

from tinyml.fit import evaluate_float, evaluate_int8, fit, progress_callback, score_predictions
from tinyml.guards import score_warnings, split_warnings
from tinyml.run import Run
from tinyml.splits import kfold_indices


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


def fit_and_quantize(task, cfg, train_s, val_s, callbacks=()):
    """(Keras model, history, int8 .tflite, train examples) for training recordings (generated ones
    included by the caller), validated on val_s (kept-best epoch) when there are any, else trained
    for all cfg.epochs."""
    from tinyml.quantize import quantize

    tx, ty = task.examples(train_s, cfg, cfg.augment_copies, cfg.seed)
    vx, vy = task.examples(val_s, cfg, 0, cfg.seed) if val_s else (None, None)
    targets = task.targets(cfg, tx, ty)
    mixup = task.mixup(cfg)
    one_hot = np.eye(len(cfg.labels), dtype=np.float32)
    if mixup and np.ndim(targets) == 1:  # blending needs a score per class
        targets = one_hot[targets]
    # soft training targets (distillation, mixup): validate against the labels, one-hot, without a second teacher pass
    val_targets = (one_hot[vy] if np.ndim(targets) == 2 else vy) if vy is not None else None
    model, history = fit(task, cfg, tx, targets, vx, val_targets, callbacks=callbacks, mixup=mixup)
    rep = task.model_inputs(tx[np.random.default_rng(cfg.seed).permutation(len(tx))[:300]])
    return model, history, quantize(model, task.representative(rep), strip_names=task.strip_tensor_names), tx


def _cross_validate(task, cfg, samples, folds: int, progress):
    """Each recording scored by a model trained without it (k folds stratified by class), plus the
    task's generated validation examples dealt over the folds: (float accuracy, int8 result, the
    generated examples)."""
    single = sorted(label for label, n in Counter(s.label for s in samples).items() if n == 1)
    if single:
        print(f"tinyml: note: {', '.join(single)} {'has' if len(single) == 1 else 'have'} one recording each: "
              "cross-validation scores it with a model that never saw that class from you, so its recall says "
              "little; record 3 or more of each", file=sys.stderr)
    generated = task.generated_validation(cfg)
    extra = task.extra_training(cfg)
    ys, float_preds, scores = [], [], []
    for k, (train_idx, val_idx) in enumerate(kfold_indices(samples, folds, cfg.seed, by_person=False)):
        held = [samples[i] for i in val_idx] + generated[k::folds]
        progress(f"cross-validation fold {k + 1}/{folds}: train {len(train_idx)}, score {len(held)}")
        model, _, tflite, _ = fit_and_quantize(task, cfg, [samples[i] for i in train_idx] + extra, [])
        vx, vy = task.examples(held, cfg, 0, cfg.seed)
        ys.append(vy)
        scores.append(evaluate_int8(task, tflite, vx, vy, cfg.labels)["scores"])
        # a direct call, not model.predict: a new model per fold would retrace predict's tf.function
        float_preds.append(np.asarray(model(task.model_inputs(vx), training=False)).argmax(1))
    y = np.concatenate(ys)
    float_acc = float(np.mean(np.concatenate(float_preds) == y))
    return float_acc, score_predictions(y, np.concatenate(scores).argmax(1), cfg.labels), generated


def train_task(task, cfg, samples, progress=print, show_epochs: bool = False) -> TrainResult:
    """Split → examples → fit → quantize → evaluate (float and int8). Returns values; writes nothing.

    With few recordings (the task's `cross_validation_folds`), validation is k-fold cross-validation
    over all of them instead of one small held-out part, and the model is then trained on them all."""
    from tinyml import tflm

    task.check_config(cfg)
    start = time.time()
    folds = task.cross_validation_folds(samples, cfg)
    if folds:
        float_acc, int8, generated_val = _cross_validate(task, cfg, samples, folds, progress)
        train_s, val_s = list(samples), list(samples) + generated_val
    else:
        train_idx, val_idx = task.split(samples, cfg)
        train_s = [samples[i] for i in train_idx]
        val_s = [samples[i] for i in val_idx]
        generated_val = []
    if not train_s or not val_s:
        raise TinyMLError(f"only {len(samples)} recordings: too few to train on some and validate on others; "
                          f"record more (at least a few per class for {', '.join(task.labels(cfg))})")
    extra = task.extra_training(cfg)
    train_s += extra
    if folds:
        progress(f"train {len(train_s)} ({len(extra)} generated), validated by {folds}-fold cross-validation over "
                 f"{len(samples)} recordings and {len(generated_val)} generated ones")
    else:
        progress(f"train {len(train_s)} ({len(extra)} generated), hold out {len(val_s)}")
    callbacks = [progress_callback(f"[{task.name}]")] if show_epochs else []
    model, history, tflite, tx = fit_and_quantize(task, cfg, train_s, [] if folds else val_s, callbacks)
    fit_seconds = time.time() - start
    if folds:
        calibration = {}  # post-processing tuned on held-out data needs a held-out part: such tasks never cross-validate
    else:
        vx, vy = task.examples(val_s, cfg, 0, cfg.seed)
        int8 = evaluate_int8(task, tflite, vx, vy, cfg.labels)
        float_acc = evaluate_float(model, task.model_inputs(vx), vy)
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
        "validation": (f"{folds}-fold cross-validation over all {len(samples)} recordings (each scored by a model "
                       f"trained without it) and {len(generated_val)} generated ones" if folds
                       else "held-out part"),
        "val_persons": sorted({s.person for s in val_s}),
        "float_accuracy": float_acc,
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
