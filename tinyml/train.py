"""Training, conversion and reporting for any registered task, as separate value-returning steps.

`fit` trains, `quantize` (tinyml.quantize) converts, `evaluate_int8` scores the int8 model in
the TFLM interpreter on exactly the bytes the firmware computes, and `write_run` is the thin
wrapper that puts a run on disk. The CLI strings them together.
"""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml import config as config_mod


def split_indices(samples, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out whole recorders when there are 3 or more, else a stratified random sample."""
    rng = np.random.default_rng(seed)
    persons = sorted({s.person for s in samples})
    idx = np.arange(len(samples))
    if len(persons) >= 3:
        order = rng.permutation(persons)
        held, count = [], 0
        for p in order:
            if count >= val_fraction * len(samples) and held:
                break
            held.append(p)
            count += sum(1 for s in samples if s.person == p)
        val = np.array([i for i in idx if samples[i].person in held])
    else:
        val = []
        for label in sorted({s.label for s in samples}):
            members = rng.permutation([i for i in idx if samples[i].label == label])
            val += list(members[: max(1, int(round(val_fraction * len(members))))])
        val = np.array(sorted(val))
    train = np.setdiff1d(idx, val)
    return train, val


def kfold_indices(samples, k: int, seed: int, by_person: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds stratified by label; with by_person, speakers are dealt into k folds (k = 0: one fold per person)."""
    idx = np.arange(len(samples))
    if by_person and k > 0:
        rng = np.random.default_rng(seed)
        people = list(rng.permutation(sorted({s.person for s in samples})))
        fold_of_person = {p: i % k for i, p in enumerate(people)}
        fold_of = np.array([fold_of_person[s.person] for s in samples])
        return [(idx[fold_of != f], idx[fold_of == f]) for f in range(k)]
    if by_person:
        return [(idx[[s.person != p for s in samples]], idx[[s.person == p for s in samples]])
                for p in sorted({s.person for s in samples})]
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(samples), dtype=int)
    for label in sorted({s.label for s in samples}):
        members = rng.permutation([i for i in idx if samples[i].label == label])
        fold_of[members] = np.arange(len(members)) % k
    return [(idx[fold_of != f], idx[fold_of == f]) for f in range(k)]


def to_tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, shuffle: bool):
    """Arrays → tf.data pipeline (shuffle with a seed, batch, prefetch)."""
    import tensorflow as tf

    y = y.astype(np.float32) if y.ndim == 2 else y.astype(np.int64)  # soft targets stay float
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def progress_callback(label: str):
    """A one-line epoch progress bar (rewritten in place on a terminal, every 5 epochs otherwise)."""
    import sys

    import keras

    class Bar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            total = self.params.get("epochs") or 1
            done = epoch + 1
            logs = logs or {}
            bar = "#" * int(24 * done / total)
            text = (f"{label} [{bar:<24}] epoch {done}/{total} loss {logs.get('loss', 0):.3f} "
                    f"acc {logs.get('accuracy', 0):.3f}" + (f" val {logs['val_accuracy']:.3f}" if "val_accuracy" in logs else ""))
            if sys.stdout.isatty():
                print("\r" + text, end="\n" if done == total else "", flush=True)
            elif done % 5 == 0 or done == total:
                print(text, flush=True)

    return Bar()


def fit(task, cfg, train_x, train_y, val_x=None, val_y=None, verbose: int = 0, callbacks=()):
    """Build the task's model and train it; returns (model, history dict)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.backend.clear_session()  # fresh layer-name counters: names end up in the .tflite bytes
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    model = task.build_model(cfg)
    loss = "categorical_crossentropy" if np.ndim(train_y) == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss,
                  metrics=["accuracy"])
    train_ds = to_tf_dataset(train_x, train_y, cfg.batch_size, cfg.seed, shuffle=True)
    val_ds = to_tf_dataset(val_x, val_y, 256, cfg.seed, shuffle=False) if val_x is not None and len(val_x) else None
    history = model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, verbose=verbose, shuffle=False,
                        callbacks=list(callbacks))
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def evaluate_int8(task, tflite: bytes, features: np.ndarray, y: np.ndarray, labels) -> dict:
    """Accuracy and confusion of the int8 model in TFLM on the device's own int8 inputs."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    info = read_model(tflite)
    q = task.int8_inputs(features, info)
    scores = tflm.predict_int8(tflite, q).reshape(len(q), -1)
    pred = scores.argmax(1)
    cm = confusion(y, pred, len(labels))
    return {
        "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
        "samples": int(len(y)),
        "confusion": cm.tolist(),
        "per_class_recall": {label: float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None
                             for i, label in enumerate(labels)},
        "scores": scores,
    }


def evaluate_float(model, x: np.ndarray, y: np.ndarray) -> float:
    pred = np.asarray(model.predict(x, verbose=0, batch_size=256)).argmax(1)
    return float(np.mean(pred == y)) if len(y) else 0.0


def confusion_png(cm, labels, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(labels), 1.0 + 0.9 * len(labels)), dpi=100)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def curves_png(history: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=100)
    for key, ax in (("loss", axes[0]), ("accuracy", axes[1])):
        for prefix in ("", "val_"):
            if prefix + key in history:
                ax.plot(history[prefix + key], label=prefix + key)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


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


def train_task(task, cfg, samples, progress=print, show_epochs: bool = False) -> TrainResult:
    """Split → examples → fit → quantize → evaluate (float and int8). Returns values; writes nothing."""
    from tinyml import tflm
    from tinyml.quantize import quantize

    task.check_config(cfg)
    start = time.time()
    train_idx, val_idx = task.split(samples, cfg)
    train_s = [samples[i] for i in train_idx]
    val_s = [samples[i] for i in val_idx]
    extra = task.extra_training(cfg)
    train_s += extra
    tx, ty = task.examples(train_s, cfg, cfg.augment_copies, cfg.seed)
    vx, vy = task.examples(val_s, cfg, 0, cfg.seed)
    progress(f"training on {len(train_s)} recordings ({len(extra)} generated, {len(tx)} with augmentation), "
             f"validating on {len(val_s)}")
    callbacks = [progress_callback(f"[{task.name}]")] if show_epochs else []
    targets = task.targets(cfg, tx, ty)
    # soft training targets (distillation): validate against the labels, one-hot, without a second teacher pass
    val_targets = np.eye(len(cfg.labels), dtype=np.float32)[vy] if np.ndim(targets) == 2 else vy
    model, history = fit(task, cfg, task.model_inputs(tx), targets, task.model_inputs(vx), val_targets,
                         callbacks=callbacks)
    fit_seconds = time.time() - start
    rep = task.model_inputs(tx[np.random.default_rng(cfg.seed).permutation(len(tx))[:300]])
    tflite = quantize(model, task.representative(rep))
    int8 = evaluate_int8(task, tflite, vx, vy, cfg.labels)
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
        "fit_seconds": round(fit_seconds, 1),
        "total_seconds": round(time.time() - start, 1),
    }
    return TrainResult(task.name, cfg, model, tflite, history, report)


def write_run(run_dir: Path, result: TrainResult) -> None:
    """RUN/: model.tflite, model.keras, config.json, run.json, report.json, confusion.png, curves.png."""
    from tinyml.export.writer import write_bytes_atomic, write_files

    run_dir = Path(run_dir)
    cfg_dict = config_mod.to_dict(result.cfg)
    write_files(run_dir, {
        "config.json": json.dumps(cfg_dict, indent=2, sort_keys=True) + "\n",
        "run.json": json.dumps({"task": result.task, "labels": list(result.cfg.labels), "config": cfg_dict},
                               indent=2, sort_keys=True) + "\n",
        "report.json": json.dumps(result.report, indent=2, sort_keys=True) + "\n",
        "history.json": json.dumps(result.history, indent=2, sort_keys=True) + "\n",
    })
    write_bytes_atomic(run_dir / "model.tflite", result.tflite)
    write_bytes_atomic(run_dir / "confusion.png", confusion_png(result.report["confusion"], result.cfg.labels,
                                                               f"{result.task} int8 (validation)"))
    write_bytes_atomic(run_dir / "curves.png", curves_png(result.history))
    result.model.save(run_dir / "model.keras")


def load_run(run_dir: Path):
    """(task, cfg, tflite bytes) of a run folder."""
    from tinyml.errors import TinyMLError
    from tinyml.tasks import get_task

    run_dir = Path(run_dir)
    try:
        run = json.loads((run_dir / "run.json").read_text())
        tflite = (run_dir / "model.tflite").read_bytes()
    except (OSError, ValueError) as exc:
        raise TinyMLError(f"{run_dir} is not a training run folder (needs run.json and model.tflite): {exc}") from None
    task = get_task(run["task"])
    cfg = config_mod.from_dict(task.config_class, run["config"])
    return task, cfg, tflite
