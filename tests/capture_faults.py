"""Randomized capture sessions against the simulated board, judged for lost, corrupt and hung.

A session draws its faults: transport damage (bit flips, garbage, a reset, a pulled cable with or
without replug, an endless line), odd but CRC-valid boards (rate announced wrong, more values than
axes, timestamps running backwards, a HELLO rate of 0 / -5 / 1e30 / nan, empty or torn audio
frames, noise on every line), or two boards captured at once into one folder. Each capture runs in
a forked child with a time bound; afterwards the folder is checked:

- lost: samples a capture reported as kept that are not on disk and in the manifest;
- corrupt: a file that does not parse, runs backwards in time, is missing from the manifest or
  differs from its recorded hash, or a temp file left behind;
- hang: a session that outlived its bound.

Used by tests/test_capture.py (a seeded slice) and benchmarks/bench_robustness.py (≥ 500).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

BOUND_S = 40.0  # no session may take longer (the slowest honest one: handshake + reconnect + watchdog)


def draw_session(rng: np.random.Generator) -> dict:
    """One session's board(s) and options."""
    family = str(rng.choice(["transport", "odd", "concurrent"], p=[0.45, 0.35, 0.2]))
    kind = "audio" if rng.random() < 0.2 else "motion"
    board = {"kind": kind, "rate_hz": 16000.0 if kind == "audio" else 100.0, "speed": 10.0,
             "seed": int(rng.integers(1 << 30))}
    replug = False
    if family == "transport":
        board.update(bitflip=float(rng.choice([0, 0.005, 0.02])), garbage=float(rng.choice([0, 0.01])),
                     reset_after_rows=int(rng.integers(20, 300)) if rng.random() < 0.3 else None,
                     unplug_after_rows=int(rng.integers(20, 300)) if rng.random() < 0.3 else None,
                     endless_line_after_rows=int(rng.integers(20, 300)) if rng.random() < 0.2 else None)
        replug = board["unplug_after_rows"] is not None and rng.random() < 0.6
    elif family == "odd":
        odd = str(rng.choice(["rate", "axes", "backwards", "hello", "frames", "noise"]))
        if (odd, kind) in (("axes", "audio"), ("frames", "motion")):
            odd = "noise"
        if odd == "rate":
            board["announce_rate"] = board["rate_hz"] * float(rng.choice([0.6, 1.7]))
        elif odd == "axes":
            board["extra_values"] = int(rng.integers(1, 4))
        elif odd == "backwards":
            board["backwards"] = True
        elif odd == "hello":
            board["announce_rate"] = float(rng.choice([0.0, -5.0, 1e30, math.nan]))
        elif odd == "frames":
            board["odd_frames"] = float(rng.choice([0.05, 0.5, 1.0]))
        else:
            board["garbage"] = 1.0  # noise in front of every line after the handshake
        family = f"odd:{odd}"
    count = int(rng.integers(2, 5))
    seconds = 0.5 if kind == "audio" else 0.6
    return {"family": family, "board": board, "replug": replug, "count": count, "seconds": seconds,
            "writers": 2 if family == "concurrent" else 1}


def _child(spec: dict, out_dir: Path, result_file: Path, writer: int) -> None:
    """Runs in the forked child: one board, one capture, the outcome as JSON."""
    from simboard import SimBoard
    from tinyml.capture.port import open_port
    from tinyml.capture.session import CaptureOptions, run_capture
    from tinyml.errors import TinyMLError

    board_kw = dict(spec["board"], seed=spec["board"]["seed"] + writer)
    board = SimBoard(**board_kw)
    if spec["replug"]:
        threading.Timer(0.6, board.replug).start()
    opts = CaptureOptions(task="micro_speech" if board_kw["kind"] == "audio" else "magic_wand",
                          label="yes" if board_kw["kind"] == "audio" else "wing", out_dir=out_dir,
                          count=spec["count"], seconds=spec["seconds"], person="ann", handshake_timeout=2.0,
                          data_timeout=1.0, reconnect_timeout=1.5, sample_timeout=4.0)
    outcome = {"kept": 0, "error": None}
    try:
        summary = run_capture(opts, lambda: open_port(board.path, 115200), progress=lambda *_: None)
        outcome["kept"] = summary["kept"]
        outcome["files"] = summary["files"]
        outcome["discarded"] = summary.get("discarded", 0)
    except TinyMLError as exc:
        text = str(exc)
        outcome["error"] = text
        outcome["kept"] = int(text.split(" samples kept")[0].split()[-1]) if " samples kept" in text else 0
        outcome["one_line"] = "\n" not in text
    except BaseException as exc:  # noqa: BLE001  (a traceback is what we are looking for)
        import traceback

        outcome["error"] = f"TRACEBACK {type(exc).__name__}: {exc}"
        outcome["traceback"] = traceback.format_exc()
    finally:
        board.close()
    result_file.write_text(json.dumps(outcome))


def check_folder(folder: Path) -> tuple[int, set[str]]:
    """(corrupt files, files recorded in the manifest)."""
    from tinyml.errors import TinyMLError
    from tinyml.tasks.magic_wand.data import MotionFormat, parse_capture_csv
    from tinyml.tasks.micro_speech.data import read_wav

    manifest: dict[str, str] = {}
    corrupt = 0
    if (folder / "manifest.jsonl").is_file():
        for line in (folder / "manifest.jsonl").read_text().splitlines():
            try:
                m = json.loads(line)
                if m["file"] in manifest:
                    corrupt += 1  # one file claimed twice
                manifest[m["file"]] = m["sha256"]
            except (ValueError, KeyError):
                corrupt += 1
    for f in list(folder.rglob("*.csv")) + list(folder.rglob("*.wav")):
        rel = str(f.relative_to(folder))
        try:
            if f.suffix == ".csv":
                parse_capture_csv(f.read_text(), rel, MotionFormat())
                t = np.array([float(r.split(",")[0]) for r in f.read_text().splitlines()[2:]])
                ok = bool(np.all(np.diff(t) > 0))
            else:
                ok = len(read_wav(f, 16000)) > 0
            ok = ok and manifest.get(rel) == hashlib.sha256(f.read_bytes()).hexdigest()
        except (TinyMLError, ValueError, OSError):
            ok = False
        corrupt += not ok
    corrupt += sum(1 for p in folder.rglob(".*") if p.name != ".lock")
    corrupt += sum(1 for rel in manifest if not (folder / rel).is_file())
    return corrupt, set(manifest)


def run_session(spec: dict, work: Path) -> dict:
    """Fork the writer(s), wait within BOUND_S, judge the folder."""
    out = work / "data"
    pids = {}
    for w in range(spec["writers"]):
        result = work / f"result{w}.json"
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child(spec, out, result, w)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        pids[pid] = result
    deadline = time.monotonic() + BOUND_S
    hung = False
    for pid in pids:
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                hung = True
                break
            time.sleep(0.05)
    outcomes = [json.loads(r.read_text()) if r.is_file() else {"kept": 0, "error": "no result"}
                for r in pids.values()]
    corrupt, recorded = check_folder(out) if out.exists() else (0, set())
    reported = sum(o["kept"] for o in outcomes)
    return {"family": spec["family"], "hung": hung, "reported": reported, "on_disk": len(recorded),
            "lost": max(0, reported - len(recorded)), "corrupt": corrupt,
            "tracebacks": sum(1 for o in outcomes if str(o.get("error", "")).startswith("TRACEBACK")),
            "multi_line": sum(1 for o in outcomes if o.get("one_line") is False),
            "errors": [o["error"] for o in outcomes if o.get("error")],
            "clean_discards": sum(o.get("discarded", 0) for o in outcomes) if _fault_free(spec) else 0}


TRANSPORT_FAULTS = ("bitflip", "garbage", "reset_after_rows", "unplug_after_rows", "endless_line_after_rows")


def _fault_free(spec: dict) -> bool:
    """A transport session that drew no fault at all: it must discard nothing."""
    return spec["family"] == "transport" and not any(spec["board"].get(k) for k in TRANSPORT_FAULTS)


def run_sessions(count: int, seed: int, show=print) -> dict:
    """`count` sessions; a report with the totals and whether every figure holds."""
    rng = np.random.default_rng(seed)
    totals = {"sessions": 0, "reported kept": 0, "on disk": 0, "lost": 0, "corrupt": 0, "hangs": 0,
              "tracebacks": 0, "multi-line errors": 0, "ended with an error": 0, "discards on clean sessions": 0}
    families: dict[str, int] = {}
    reasons: dict[str, int] = {}
    slowest = 0.0
    start = time.time()
    for i in range(count):
        spec = draw_session(rng)
        with tempfile.TemporaryDirectory(prefix="capfault") as tmp:
            t0 = time.monotonic()
            r = run_session(spec, Path(tmp))
            slowest = max(slowest, time.monotonic() - t0)
        families[r["family"]] = families.get(r["family"], 0) + 1
        totals["sessions"] += 1
        totals["reported kept"] += r["reported"]
        totals["on disk"] += r["on_disk"]
        totals["lost"] += r["lost"]
        totals["corrupt"] += r["corrupt"]
        totals["hangs"] += r["hung"]
        totals["tracebacks"] += r["tracebacks"]
        totals["multi-line errors"] += r["multi_line"]
        totals["ended with an error"] += bool(r["errors"])
        totals["discards on clean sessions"] += r["clean_discards"]
        for e in r["errors"]:
            key = e.split(";")[0].split(":")[0][:60]
            reasons[key] = reasons.get(key, 0) + 1
        if r["lost"] or r["corrupt"] or r["hung"] or r["tracebacks"] or r["multi_line"]:
            show(f"  session {i} {spec}: {r}")
    ok = all(totals[k] == 0 for k in ("lost", "corrupt", "hangs", "tracebacks", "multi-line errors"))
    lines = [f"{count} randomized capture sessions ({', '.join(f'{k} {v}' for k, v in sorted(families.items()))}), "
             f"{time.time() - start:.0f} s, slowest {slowest:.1f} s (bound {BOUND_S:.0f} s):"]
    lines += [f"  {k:<27} {v}" for k, v in totals.items()]
    lines.append("  errors the sessions ended with: " +
                 "; ".join(f"{n}x {k}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]))
    return {"ok": ok, "totals": totals, "text": "\n".join(lines)}
