"""`tinyml demo`: the main job. For every task with a trainer and embedded default data:
generate the data, train, quantize to full int8, verify in TFLM, export the Arduino sketch
for the Nano 33 BLE Sense into build/arduino/<task>/, and write a summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

DEMO_BOARD = "nano33ble_sense"


def run_demo(out: Path, quick: bool = False, board_key: str = DEMO_BOARD) -> list[dict]:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tinyml.boards import get_board
    from tinyml.files import output_lock
    from tinyml.tasks import demo_tasks

    board = get_board(board_key)
    tasks = demo_tasks()
    with output_lock(out):
        _check_outputs(out, tasks, board_key)
        rows = _demo_tasks(out, tasks, quick, board, board_key)
    return rows


def _check_outputs(out: Path, tasks, board_key: str) -> None:
    """Before any training: every folder the demo replaces is its own, and no sketch was edited by hand."""
    from tinyml.export.pipeline import check_sketch_target
    from tinyml.files import check_output_folder

    for task in tasks:
        check_output_folder(out / "runs" / task.name, "run.json")
        check_sketch_target(out / "arduino" / task.name, {"kind": "run", "name": task.name}, board_key)


def _demo_tasks(out: Path, tasks, quick: bool, board, board_key: str) -> list[dict]:
    from tinyml.boards import BOARDS
    from tinyml.export.pipeline import ExportSource, build_export
    from tinyml.files import write_files, write_folder
    from tinyml.run import write_run
    from tinyml.train import train_task

    rows = []
    for task in tasks:
        name = task.name
        start = time.time()
        cfg = task.quick_config() if quick else task.synthetic_config()
        samples = task.synthetic(cfg, task.demo_examples_per_class(quick), cfg.seed)
        print(f"[{name}] generated {len(samples)} synthetic examples; training…", flush=True)
        result = train_task(task, cfg, samples, progress=lambda msg: print(f"[{name}] {msg}", flush=True),
                            show_epochs=True)
        write_run(out / "runs" / name, result.run, result.model)
        export = build_export(ExportSource.from_run(result.run, name), board, name, None)
        write_folder(out / "arduino" / name, export.files)
        fits = [key for key, ok in export.fits.items() if ok]
        r = result.report
        rows.append({
            "task": name, "float_accuracy": r["float_accuracy"], "int8_accuracy": r["int8_accuracy"],
            "flash_bytes": r["flash_bytes"], "arena_bytes": export.arena_measured,
            "verified_inputs": export.verified["compared"], "verify_note": export.verified.get("note"), "fits": fits, "seconds": round(time.time() - start, 1),
            "rebuild": rebuild_commands(name, cfg, task.synthetic_config(), task.demo_examples_per_class(quick),
                                        board_key),
            "examples": len(samples), "val_recordings": r["val_recordings"], "labels": list(cfg.labels),
            "per_class_recall": r["per_class_recall"], "warnings": r["warnings"], "kept_epoch": r["kept_epoch"],
            "epochs": r["epochs"],
        })
        print(f"[{name}] sketch exported, {rows[-1]['seconds']} s in all", flush=True)
    _board_figures(out, rows, board)
    write_files(out, {"summary.json": json.dumps(rows, indent=2, sort_keys=True) + "\n",
                      "REPORT.md": report_markdown(rows, board.title)})
    print()
    print(f"{'task':<17}{'float acc':>10}{'int8 acc':>9}{'flash B':>10}{'arena B':>9}{'time s':>8}  boards")
    for row in rows:
        print(f"{row['task']:<17}{row['float_accuracy']:>10.3f}{row['int8_accuracy']:>9.3f}{row['flash_bytes']:>10,}"
              f"{row['arena_bytes']:>9,}{row['seconds']:>8}  {len(row['fits'])}/{len(BOARDS)} fit")
    print(f"sketches for the {board.title}:")
    print(f"  {out / 'arduino'}/")
    print(f"model cards: {out / 'REPORT.md'}")
    return rows


def _board_figures(out: Path, rows: list[dict], board) -> None:
    """Instructions and latency per inference from the emulated board, when this machine has the
    cross toolchain and the board's TFLM library (else REPORT.md says how to measure them)."""
    import shutil
    import tempfile

    from tinyml.errors import TinyMLError

    if shutil.which("arm-none-eabi-g++") is None or shutil.which("qemu-system-arm") is None:
        return
    try:
        from tinyml.on_board import board_library, emulate_sketch

        lib = board_library(None)
    except TinyMLError:
        return
    for row in rows:
        with tempfile.TemporaryDirectory(prefix="tinyml-demo-emulate-") as work:
            try:
                report = emulate_sketch(out / "arduino" / row["task"], lib, Path(work))
            except TinyMLError as exc:
                print(f"[{row['task']}] emulated board: {exc}", flush=True)
                continue
        row["board"] = report.as_dict(board.clock_hz)
        print(f"[{row['task']}] emulated board: {report.comparison.identical}/{report.comparison.compared} "
              f"identical, {row['board']['latency_ms_estimate']:.1f} ms per inference + "
              f"{row['board']['between_ms_estimate']:.1f} ms of the sketch's own work between two", flush=True)


def rebuild_commands(name: str, cfg, start, per_class: int, board_key: str) -> list[str]:
    """Commands that rebuild the run: `tinyml train` without --data starts from `start` (the task's
    synthetic config), so only the fields that differ from it are --set."""
    from tinyml import config

    fields, base = config.to_dict(cfg), config.to_dict(start)
    sets = "".join(f" --set {k}={json.dumps(v)}" for k, v in sorted(fields.items()) if base[k] != v)
    return [
        f"tinyml train {name} --synthetic {per_class} --out build/runs/{name}{sets}",
        f"tinyml export build/runs/{name} --board {board_key} --out build/arduino",
    ]


def report_markdown(rows: list[dict], board_title: str) -> str:
    """Model cards: what was trained on what, how well, how big, and how to rebuild it."""
    lines = ["# tinyml demo report", "",
             f"Models trained on the embedded synthetic data and exported for the {board_title}. Accuracy is on "
             "held-out synthetic examples; the int8 figure is measured in the TFLM interpreter on the exact bytes "
             "the firmware computes. For accuracy on real recordings see the README's measured figures.", ""]
    lines += ["| task | float acc | int8 acc | flash B | arena B | fits | time s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['float_accuracy']:.3f} | {r['int8_accuracy']:.3f} | {r['flash_bytes']:,} | "
                     f"{r['arena_bytes']:,} | {', '.join(r['fits'])} | {r['seconds']} |")
    for r in rows:
        recall = ", ".join(f"{k} {v:.2f}" for k, v in r["per_class_recall"].items() if v is not None)
        lines += ["", f"## {r['task']}", "",
                  f"- classes: {', '.join(r['labels'])}",
                  f"- data: {r['examples']} synthetic examples; {r['val_recordings']} held out for validation",
                  f"- int8 recall per class: {recall}",
                  f"- kept epoch {r['kept_epoch']} of {r['epochs']} (best validation accuracy)",
                  *[f"- **warning:** {w}" for w in r["warnings"]],
                  f"- model: {r['flash_bytes']:,} B flash, {r['arena_bytes']:,} B tensor arena (measured in TFLM); "
                  + (r.get("verify_note") or f"TFLM and TFLite agree on {r['verified_inputs']} random inputs"),
                  f"- sketch: `arduino/{r['task']}/{r['task']}.ino`",
                  *([f"- on the board (emulated Cortex-M4, {r['board']['library']}): "
                     f"{r['board']['invokes']['median_instructions']:,} instructions per inference ≈ "
                     f"{r['board']['latency_ms_estimate']:.1f} ms ({r['board']['latency_assumption']}), and "
                     f"{r['board']['invokes']['median_instructions_between']:,} instructions ≈ "
                     f"{r['board']['between_ms_estimate']:.1f} ms of the sketch's own work (sensor reads, features, "
                     f"printing) between two inferences; outputs identical to the host on {r['board']['invokes']['identical']}/"
                     f"{r['board']['invokes']['compared']} inputs; image text {r['board']['image']['text']:,} B, "
                     f"bss {r['board']['image']['bss']:,} B"] if "board" in r else
                    [f"- on the board: `tinyml emulate arduino/{r['task']}` measures instructions and latency "
                     "(needs the ARM toolchain, QEMU and the Chirale_TensorFlowLite library; see the README)"]),
                  "", f"![training curves](runs/{r['task']}/curves.png)",
                  f"![confusion matrix](runs/{r['task']}/confusion.png)", "",
                  "Rebuild:", "", "```bash", *r["rebuild"], "```"]
    return "\n".join(lines) + "\n"
