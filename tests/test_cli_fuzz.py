"""Bad inputs across every command (the seeded CI slice of benchmarks/bench_robustness.py --cli):
no traceback, native crash or hang; errors are one line; nothing written outside --out; a failed
command leaves no partial output."""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
def test_bad_inputs_across_the_cli():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "badinputs.py"), "96", "2024"], capture_output=True,
                          text=True, timeout=1200, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    tally = report["tally"]
    failures = {k: v for k, v in tally.items() if k not in ("ok", "one-line error", "weak model refused") and v}
    assert not failures, (failures, proc.stdout[-4000:])
    assert sum(tally.values()) == 96
    # the corpus reaches every command, and most cases are refusals (it is a corpus of bad input)
    assert {"inspect", "verify", "export", "train", "evaluate", "quantize", "make-stream", "make-vww", "emulate",
            "capture"} <= set(report["commands"])
    assert tally["one-line error"] >= 60
