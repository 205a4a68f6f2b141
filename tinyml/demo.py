"""`tinyml demo`: the main job. Until the task trainers land it runs the whole spine on a
bundled example: a waveform classifier (sine / square / sawtooth) trained on data
generated in code, quantized to full int8, verified in TFLM and exported as a sketch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

WAVE_LABELS = ("sine", "square", "sawtooth")
WAVE_LENGTH = 64


def waveform_dataset(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy waveforms with random frequency, phase, amplitude and offset; x is (N, 64, 1, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(WAVE_LENGTH, dtype=np.float64)
    xs, ys = [], []
    for label in range(len(WAVE_LABELS)):
        for _ in range(n_per_class):
            cycles = rng.uniform(1.5, 6.0)
            phase = rng.uniform(0, 2 * np.pi)
            arg = 2 * np.pi * cycles * t / WAVE_LENGTH + phase
            if label == 0:
                wave = np.sin(arg)
            elif label == 1:
                wave = np.sign(np.sin(arg))
            else:
                wave = 2 * ((arg / (2 * np.pi)) % 1.0) - 1
            wave = rng.uniform(0.5, 1.5) * wave + rng.uniform(-0.3, 0.3) + rng.normal(0, 0.1, WAVE_LENGTH)
            xs.append(wave)
            ys.append(label)
    x = np.asarray(xs, dtype=np.float32)[:, :, None, None]
    y = np.asarray(ys, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def waveform_model(seed: int = 0):
    """A ~2 KB CNN; Conv2D with (k, 1) kernels keeps the int8 graph to CONV_2D/MAX_POOL/FC ops."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((WAVE_LENGTH, 1, 1)),
        keras.layers.Conv2D(8, (5, 1), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 1)),
        keras.layers.Conv2D(8, (3, 1), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(len(WAVE_LABELS), activation="softmax"),
    ])


def train_waveform(x, y, epochs: int, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    model = waveform_model(seed)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, shuffle=True)
    return model


def run_demo(out: Path, quick: bool = False, board_key: str = "nano33ble_sense") -> dict:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tinyml.boards import get_board
    from tinyml.export.pipeline import ExportSource, build_export
    from tinyml.export.writer import write_bytes_atomic, write_files
    from tinyml.quantize import accuracy_report, quantize

    start = time.time()
    n = 100 if quick else 400
    x_train, y_train = waveform_dataset(n, seed=0)
    x_test, y_test = waveform_dataset(n // 4, seed=1)
    print(f"[1/4] generated {len(y_train)} training and {len(y_test)} test waveforms", flush=True)
    model = train_waveform(x_train, y_train, epochs=8 if quick else 20)
    print("[2/4] trained", flush=True)
    tflite = quantize(model, x_train[:200])
    report = accuracy_report(model, tflite, x_test, y_test)
    print(f"[3/4] quantized: {len(tflite)} B, float acc {report['float_accuracy']:.3f}, "
          f"int8 acc (TFLM) {report['int8_accuracy']:.3f}", flush=True)
    board = get_board(board_key)
    source = ExportSource(model=tflite, task="generic", labels=WAVE_LABELS, config=None, stem="waveform")
    result = build_export(source, board, "waveform", list(WAVE_LABELS))
    sketch_dir = out / "arduino" / "waveform"
    write_files(sketch_dir, result.files)
    write_bytes_atomic(out / "models" / "waveform.tflite", tflite)
    summary = {
        "task": "waveform (bundled example)",
        "board": board.key,
        "float_accuracy": report["float_accuracy"],
        "int8_accuracy": report["int8_accuracy"],
        "flash_bytes": len(tflite),
        "arena_bytes": result.arena_measured,
        "verified_inputs": result.verified["compared"],
        "seconds": round(time.time() - start, 1),
    }
    write_files(out, {"demo_summary.json": json.dumps(summary, indent=2, sort_keys=True) + "\n"})
    print(f"[4/4] exported {sketch_dir}/ (arena {result.arena_measured} B, TFLM == TFLite on "
          f"{result.verified['compared']} inputs) in {summary['seconds']} s", flush=True)
    return summary
