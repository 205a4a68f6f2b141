"""Robustness figures, three sections:

- models: mutated models through `tinyml inspect` and `tinyml export`: every one must end in a
  correct result or a one-line error, never a native crash or a Python traceback;
- cli: generated bad inputs across every command (tests/badinputs.py): no traceback, crash or
  hang, one-line errors, nothing written outside --out, no partial output after a failure;
- capture: randomized capture sessions against a simulated board with faults, two writers at once
  (tests/capture_faults.py): no finished sample lost or corrupt, no hang.

Each case runs in a forked child or its own process, so a crash is counted instead of ending the
benchmark.

    python benchmarks/bench_robustness.py [--count 1000] [--cli 300] [--capture 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """Bit flips, byte overwrites, or a cut: the damage files get in transfers and by hostile hands."""
    buf = bytearray(data)
    kind = rng.integers(3)
    if kind == 0:
        for _ in range(int(rng.integers(1, 5))):
            i = int(rng.integers(len(buf)))
            buf[i] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        for _ in range(int(rng.integers(1, 4))):
            buf[int(rng.integers(len(buf)))] = int(rng.integers(256))
    else:
        buf = buf[: int(rng.integers(8, len(buf)))]
    return bytes(buf)


def run_one(path: Path, out: Path, log: Path) -> int:
    """Child: inspect then export; exit 0 (worked), 10 + tinyml's exit code, 99 on a traceback."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from tinyml.cli import main

    try:
        rc = main(["inspect", str(path)])
        if rc == 0:
            rc = main(["export", str(path), "--board", "nano33ble_sense", "--out", str(out), "--verify-count", "3"])
    except BaseException:
        import traceback

        traceback.print_exc()
        return 99
    return 0 if rc == 0 else 10 + rc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000, help="mutated models (0 skips the section)")
    ap.add_argument("--cli", type=int, default=300, help="bad-input cases across the CLI (0 skips)")
    ap.add_argument("--capture", type=int, default=500, help="capture fault sessions (0 skips)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ok = True
    if args.cli:
        ok &= cli_section(args.cli, args.seed)
    if args.capture:
        ok &= capture_section(args.capture, args.seed)
    if args.count:
        ok &= models_section(args.count, args.seed)
    return 0 if ok else 1


def cli_section(count: int, seed: int) -> bool:
    """In its own process: the forks there need TensorFlow imported but not yet running."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, str(REPO / "tests" / "badinputs.py"), str(count), str(seed)],
                          capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        return False
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    report = json.loads(lines[-1])
    print(f"{count} generated bad inputs across the CLI "
          f"({', '.join(f'{k} {v}' for k, v in sorted(report['commands'].items()))}):")
    for kind, n in report["tally"].items():
        example = report["examples"].get(kind, "")
        print(f"  {kind:<21} {n}" + (f"   e.g. {example}" if n and example else ""))
    bad = {k: v for k, v in report["tally"].items() if k not in ("ok", "one-line error", "weak model refused")}
    return not any(bad.values())


def capture_section(count: int, seed: int) -> bool:
    from capture_faults import run_sessions

    report = run_sessions(count, seed)
    print(report["text"])
    return report["ok"]


def models_section(count: int, seed: int) -> bool:
    from fixtures import tiny_model

    sources = {"tiny fixture": tiny_model()}
    for name in ("micro_speech_quantized.tflite", "person_detect.tflite"):
        p = SHARED / "tflm_reference" / "models" / name
        if p.is_file():
            sources[name] = p.read_bytes()
    import tinyml.tflm  # noqa: F401  (import the runtimes before forking)
    from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    from ai_edge_litert.interpreter import Interpreter  # noqa: F401

    rng = np.random.default_rng(seed)
    tally = {"worked": 0, "one-line error": 0, "multi-line error": 0, "traceback": 0, "native crash": 0}
    examples = {}
    names = list(sources)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(count):
            name = names[i % len(names)]
            model = tmp / f"m{i}.tflite"
            model.write_bytes(mutate(sources[name], rng))
            log = tmp / "log.txt"
            pid = os.fork()
            if pid == 0:
                os._exit(run_one(model, tmp / f"out{i}", log))
            _, status = os.waitpid(pid, 0)
            text = log.read_text(errors="replace") if log.exists() else ""
            errors = [ln for ln in text.splitlines() if ln.startswith("tinyml: error:")]
            if os.WIFSIGNALED(status):
                kind = "native crash"
            else:
                code = os.WEXITSTATUS(status)
                if code == 0:
                    kind = "worked"
                elif code == 99 or "Traceback" in text:
                    kind = "traceback"
                else:
                    kind = "one-line error" if len(errors) == 1 else "multi-line error"
            tally[kind] += 1
            examples.setdefault(kind, f"{name}: {(errors or text.strip().splitlines() or [''])[-1][:150]}")
            model.unlink()
    print(f"{count} mutated models ({', '.join(names)}) through inspect + export:")
    for kind, n in tally.items():
        print(f"  {kind:<17} {n}" + (f"   e.g. {examples[kind]}" if n and kind in examples else ""))
    return tally["native crash"] == tally["traceback"] == tally["multi-line error"] == 0


if __name__ == "__main__":
    sys.exit(main())
