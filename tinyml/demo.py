"""`tinyml demo`: the main job. For every task with a trainer and embedded default data:
generate the data, train, quantize to full int8, verify in TFLM, export the Arduino sketch
for the Nano 33 BLE Sense into build/arduino/<task>/, and write a summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

DEMO_TASKS = ("micro_speech", "magic_wand")
DEMO_BOARD = "nano33ble_sense"


def run_demo(out: Path, quick: bool = False, board_key: str = DEMO_BOARD) -> list[dict]:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tinyml.boards import get_board
    from tinyml.export.pipeline import build_export, load_source
    from tinyml.export.writer import write_files
    from tinyml.tasks import get_task
    from tinyml.train import train_task, write_run

    board = get_board(board_key)
    rows = []
    for name in DEMO_TASKS:
        start = time.time()
        task = get_task(name)
        cfg = task.quick_config() if quick else task.default_config()
        samples = task.synthetic(cfg, task.demo_examples_per_class(quick), cfg.seed)
        print(f"[{name}] generated {len(samples)} synthetic examples; training…", flush=True)
        result = train_task(task, cfg, samples, progress=lambda msg: print(f"[{name}] {msg}", flush=True))
        run_dir = out / "runs" / name
        write_run(run_dir, result)
        export = build_export(load_source(run_dir), board, name, None)
        write_files(out / "arduino" / name, export.files)
        fits = [key for key, ok in export.fits.items() if ok]
        r = result.report
        rows.append({
            "task": name, "float_accuracy": r["float_accuracy"], "int8_accuracy": r["int8_accuracy"],
            "flash_bytes": r["flash_bytes"], "arena_bytes": export.arena_measured,
            "verified_inputs": export.verified["compared"], "fits": fits, "seconds": round(time.time() - start, 1),
        })
        print(f"[{name}] exported {out / 'arduino' / name}/ in {rows[-1]['seconds']} s", flush=True)
    write_files(out, {"summary.json": json.dumps(rows, indent=2, sort_keys=True) + "\n"})
    print()
    print(f"{'task':<14}{'float acc':>10}{'int8 acc':>10}{'flash B':>10}{'arena B':>10}{'time s':>8}  fits")
    for row in rows:
        print(f"{row['task']:<14}{row['float_accuracy']:>10.3f}{row['int8_accuracy']:>10.3f}{row['flash_bytes']:>10,}"
              f"{row['arena_bytes']:>10,}{row['seconds']:>8}  {', '.join(row['fits'])}")
    return rows
