"""Capture under faults, and audio throughput, against the simulated board on a pty.

Prints: randomized fault-injection runs (bit flips, garbage, resets, pulled cables with and
without replug, endless lines) with completed samples kept, samples lost and corrupt files on
disk; and sustained 16 kHz audio over the pty with dropped frames and host CPU time.

Usage: python benchmarks/bench_capture.py [--runs 200]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from capture_faults import check_folder  # noqa: E402
from simboard import SimBoard  # noqa: E402
from tinyml.capture.port import open_port  # noqa: E402
from tinyml.capture.session import CaptureOptions, run_capture  # noqa: E402
from tinyml.errors import TinyMLError  # noqa: E402


def corrupt_files(folder: Path) -> int:
    """Files that do not parse, run backwards in time, disagree with the manifest, or temp files left."""
    return check_folder(folder)[0]


def fault_runs(runs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    kept = lost = corrupt = errors = 0
    start = time.time()
    for i in range(runs):
        faults = dict(bitflip=float(rng.choice([0, 0.005, 0.02])), garbage=float(rng.choice([0, 0.01])),
                      reset_after_rows=int(rng.integers(20, 400)) if rng.random() < 0.3 else None,
                      unplug_after_rows=int(rng.integers(20, 400)) if rng.random() < 0.3 else None,
                      endless_line_after_rows=int(rng.integers(20, 400)) if rng.random() < 0.2 else None)
        replug = faults["unplug_after_rows"] is not None and rng.random() < 0.6
        board = SimBoard(rate_hz=100, speed=10, seed=int(rng.integers(1 << 30)), **faults)
        if replug:
            threading.Timer(0.5, board.replug).start()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            wanted = int(rng.integers(2, 5))
            opts = CaptureOptions(task="magic_wand", label="wing", out_dir=out, count=wanted, seconds=0.8,
                                  handshake_timeout=2.0, data_timeout=1.0, reconnect_timeout=1.2)
            reported = None
            try:
                summary = run_capture(opts, lambda: open_port(board.path, 115200), progress=lambda *_: None)
                reported = summary["kept"]
            except TinyMLError as exc:
                errors += 1
                text = str(exc)
                reported = int(text.split(" samples kept")[0].split()[-1]) if "samples kept" in text else None
            finally:
                board.close()
            on_disk = len(list(out.rglob("*.csv")))
            kept += on_disk
            corrupt += corrupt_files(out)
            if reported is not None and reported != on_disk:
                lost += abs(reported - on_disk)
    print(f"fault injection: {runs} runs in {time.time() - start:.0f} s; {kept} completed samples kept; "
          f"{lost} completed samples lost; {corrupt} corrupt files on disk; {errors} runs ended with a clear "
          "error (board gone for good)")


def throughput(seconds: float) -> None:
    board = SimBoard(kind="audio", rate_hz=16000, frame=256, speed=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        opts = CaptureOptions(task="micro_speech", label="noise", out_dir=Path(tmp), count=1, seconds=seconds,
                              data_timeout=3.0)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.time()
        summary = run_capture(opts, lambda: open_port(board.path, 115200), progress=lambda *_: None)
        wall = time.time() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        board.close()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"audio over pty: {seconds:.0f} s of 16 kHz audio in {wall:.1f} s wall, {summary['kept']} sample kept, "
          f"{summary['discarded']} discarded, gaps {summary.get('reasons', [])}; process CPU {cpu:.1f} s "
          f"({100 * cpu / wall:.0f} % of one core, simulated board thread included)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    throughput(args.seconds)
    fault_runs(args.runs, 0)
