"""Keras training and int8 scoring as value-returning steps.

`fit` trains a task's model on arrays through tf.data; `evaluate_int8` scores the int8 model
in the TFLM interpreter on exactly the bytes the firmware computes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinyml.files import cache_root


# Example sets larger than this live in a file on disk (a memory map) rather than in memory.
IN_MEMORY_LIMIT_BYTES = 512 * 1024 * 1024


def example_buffer(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array for a task's examples: in memory when small, else a memory-mapped
    scratch file in the tinyml cache (unlinked at once on POSIX, so it vanishes with the process),
    which the OS pages in and out as training streams through it."""
    import tempfile

    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if size <= IN_MEMORY_LIMIT_BYTES:
        return np.empty(shape, dtype)
    folder = cache_root() / "examples"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".npy", dir=folder)
    os.close(fd)
    out = np.lib.format.open_memmap(name, mode="w+", dtype=dtype, shape=shape)
    try:
        os.unlink(name)
    except OSError:  # Windows keeps a mapped file: remove it at exit instead
        import atexit

        atexit.register(lambda: Path(name).unlink(missing_ok=True))
    return out


def to_tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, shuffle: bool, transform=None,
                  mixup: float = 0.0):
    """Examples → tf.data: indices shuffled with a seed and batched, each batch gathered from `x`
    (in memory or a memory map on disk) and turned into float model inputs by `transform` only
    when it is needed, so the float inputs of a large dataset never exist all at once.
    `mixup` > 0 blends each batch with a shuffled copy of itself (`mix_batch`); it needs (N, classes)
    targets."""
    import tensorflow as tf

    if mixup and y.ndim != 2:
        raise ValueError("mixup blends targets: pass (N, classes) targets")
    y = y.astype(np.float32) if y.ndim == 2 else y.astype(np.int64)  # soft targets stay float
    transform = transform or (lambda v: v)
    shape = np.asarray(transform(x[:1])).shape[1:]

    def gather(idx):
        bx, by = np.asarray(transform(x[idx]), dtype=np.float32), y[idx]
        return mix_batch(bx, by, mixup, np.random.default_rng([seed, *idx])) if mixup else (bx, by)

    def load(idx):
        bx, by = tf.numpy_function(gather, [idx], (tf.float32, tf.as_dtype(y.dtype)), stateful=False)
        return tf.ensure_shape(bx, (None, *shape)), tf.ensure_shape(by, (None, *y.shape[1:]))

    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(load).prefetch(tf.data.AUTOTUNE)


def mix_batch(x: np.ndarray, y: np.ndarray, alpha: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mixup: every example blended with another of its batch, inputs and targets by the same share
    drawn from Beta(alpha, alpha); the example's own part is the larger (at least half), so each
    blend still leans to its own class. `rng` comes from the batch's indices, so the blends are the
    same whichever order tf.data gathers batches in."""
    share = rng.beta(alpha, alpha, len(x)).astype(np.float32)
    share = np.maximum(share, 1 - share)
    other = rng.permutation(len(x))
    sx = share.reshape(-1, *[1] * (x.ndim - 1))
    return sx * x + (1 - sx) * x[other], share[:, None] * y + (1 - share[:, None]) * y[other]


def training_strategy(gpus: list | None = None):
    """MirroredStrategy over every GPU when there are several, else the default (one GPU, or the CPU)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU") if gpus is None else gpus
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([g if isinstance(g, str) else g.name for g in gpus])
    return tf.distribute.get_strategy()


def progress_callback(label: str):
    """A one-line epoch progress bar, as wide as the terminal allows (rewritten in place on a terminal,
    every 5 epochs otherwise); epochs count from 1."""
    import shutil
    import sys

    import keras

    class Bar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            total = self.params.get("epochs") or 1
            done = epoch + 1
            logs = logs or {}
            tail = (f"{done}/{total} loss {logs.get('loss', 0):.3f} acc {logs.get('accuracy', 0):.3f}"
                    + (f" val {logs['val_accuracy']:.3f}" if "val_accuracy" in logs else ""))
            cols = shutil.get_terminal_size((80, 24)).columns
            width = max(4, min(24, cols - 1 - len(label) - len(tail) - 4))
            bar = "#" * int(width * done / total)
            text = f"{label} [{bar:<{width}}] {tail}"[: max(20, cols - 1)]
            if sys.stdout.isatty():
                print("\r" + text, end="\n" if done == total else "", flush=True)
            elif done % 5 == 0 or done == total:
                print(text, flush=True)

    return Bar()


def fit(task, cfg, train_x, train_y, val_x=None, val_y=None, verbose: int = 0, callbacks=(), strategy=None,
        mixup: float = 0.0):
    """Build the task's model and train it on its examples (turned into model inputs batch by
    batch with `task.model_inputs`, blended by `mixup` when > 0), under `strategy` (default:
    `training_strategy()`); returns (model, history dict)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.backend.clear_session()  # fresh layer-name counters: names end up in the .tflite bytes
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    strategy = strategy or training_strategy()
    with strategy.scope():
        model = task.build_model(cfg)
        loss = "categorical_crossentropy" if np.ndim(train_y) == 2 else "sparse_categorical_crossentropy"
        model.compile(optimizer=keras.optimizers.Adam(learning_rate(cfg, len(train_x))), loss=loss,
                      metrics=["accuracy"])
    train_ds = to_tf_dataset(train_x, train_y, cfg.batch_size, cfg.seed, True, task.model_inputs, mixup)
    val_ds = (to_tf_dataset(val_x, val_y, 256, cfg.seed, False, task.model_inputs)
              if val_x is not None and len(val_x) else None)
    best = _keep_best_callback() if val_ds is not None else None
    history = model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, verbose=verbose, shuffle=False,
                        callbacks=list(callbacks) + ([best] if best else []))
    out = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out["kept_epoch"] = best.restore() if best else len(out.get("loss", []))
    out["devices"] = int(strategy.num_replicas_in_sync)
    return model, out


def learning_rate(cfg, examples: int):
    """Adam's learning rate for a config: cfg.learning_rate throughout, or with `lr_schedule='cosine'`
    (a field of the tasks that offer it) falling from it to zero along a half cosine over all of
    training's steps, so the last epochs settle with small steps."""
    import math

    import keras

    schedule = getattr(cfg, "lr_schedule", "constant")
    if schedule == "constant":
        return cfg.learning_rate
    if schedule != "cosine":
        raise ValueError(f"lr_schedule {schedule!r}: not a schedule")
    steps = max(1, cfg.epochs * math.ceil(examples / cfg.batch_size))
    return keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps)


def _keep_best_callback():
    """A fresh callback instance (the class is defined here because keras is imported lazily)."""
    import keras

    class KeepBestCallback(keras.callbacks.Callback):
        """Remembers the weights of the epoch with the best validation accuracy (the first on ties,
        lower validation loss breaking them) and puts them back after training."""

        def __init__(self):
            super().__init__()
            self.best = None
            self.epoch = 0
            self.weights = None

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            key = (logs.get("val_accuracy", 0.0), -logs.get("val_loss", 0.0))
            if self.best is None or key > self.best:
                self.best, self.epoch, self.weights = key, epoch + 1, self.model.get_weights()

        def restore(self) -> int:
            """Set the kept weights; returns the kept epoch, counted from 1."""
            if self.weights is not None:
                self.model.set_weights(self.weights)
            return self.epoch

    return KeepBestCallback()


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
    return {**score_predictions(y, scores.argmax(1), labels), "scores": scores}


def score_predictions(y: np.ndarray, pred: np.ndarray, labels) -> dict:
    """Accuracy, sample count, confusion and per-class recall (None for a class with no examples)."""
    cm = confusion(y, pred, len(labels))
    return {
        "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
        "samples": int(len(y)),
        "confusion": cm.tolist(),
        "per_class_recall": {label: float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None
                             for i, label in enumerate(labels)},
    }


def evaluate_float(model, x: np.ndarray, y: np.ndarray) -> float:
    pred = np.asarray(model.predict(x, verbose=0, batch_size=256)).argmax(1)
    return float(np.mean(pred == y)) if len(y) else 0.0
