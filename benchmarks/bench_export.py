"""Print wall times of `tinyml --help` and of export + verify of the published person detector.

Usage: python benchmarks/bench_export.py [path/to/person_detect.tflite]
Runs each command as a user would (a fresh process), several times, and prints min/median.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO.parent / "shared" / "data" / "tflm_reference" / "models" / "person_detect.tflite"


def timed(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<48} min {min(times):6.3f} s   median {statistics.median(times):6.3f} s   ({len(times)} runs)")


def main() -> None:
    tinyml = [sys.executable, "-m", "tinyml"]
    report("tinyml --help", timed(tinyml + ["--help"], 10))
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL
    if not model.is_file():
        print(f"skipping export benchmark: {model} not found")
        return
    with tempfile.TemporaryDirectory() as out:
        cmd = tinyml + ["export", str(model), "--board", "nano33ble_sense", "--out", out,
                        "--labels", "no_person,person"]
        report(f"export + verify (20 inputs) {model.name}", timed(cmd, 5))
        report(f"inspect {model.name}", timed(tinyml + ["inspect", str(model)], 5))
        report(f"verify (50 inputs) {model.name}", timed(tinyml + ["verify", str(model)], 3))


if __name__ == "__main__":
    main()
