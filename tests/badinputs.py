"""A corpus of bad inputs for every command, built in code, and a runner that judges each one.

Each case is an argv plus the files it reads, written into a fresh sandbox. The runner runs
`tinyml` in a forked child (TensorFlow imported once, before forking) with a time limit, then
checks: no traceback, no native crash, no hang, an error is one line, nothing was written outside
--out, and a failed command left no partial output.

Used by tests/test_cli_fuzz.py (a small seeded set) and benchmarks/bench_robustness.py (≥ 300).
"""

from __future__ import annotations

import io
import json
import os
import signal
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CAPTURE_MAGIC = "# tinyml-capture"
BAD_NUMBERS = ["0", "-1", "nan", "inf", "-inf", "1e30", "1e309", "abc", "", "0x10", "2.5", "99999999999999999999"]
BAD_LABELS = ["", "a/b", "..", "../up", "con", "NUL", "x" * 100, "a,a", "é", "a b", "-x", "\x1b[2J", "a\nb"]
BAD_SETS = ["epochs=0", "epochs=-3", "epochs=nan", "learning_rate=nan", "learning_rate=-1", "batch_size=0",
            "seed=-1", "labels=a,a", "labels=a/b,c", "nosuch=1", "=3", "epochs", "epochs=1e9", "labels=",
            "rule.suppression_ms=1000\n#include </etc/passwd>", "data_format.units=parsecs",
            "data_format.rate_hz=0", "data_format.rate_hz=inf", "words=yes,../no", "threshold=2"]


# ---- valid seeds the mutations start from ----------------------------------------------------

def wav_bytes(seconds: float = 1.0, rate: int = 16000, seed: int = 0) -> bytes:
    audio = (np.random.default_rng(seed).normal(0, 2000, int(seconds * rate))).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.tobytes())
    return buf.getvalue()


def tf_wand_text(rng: np.random.Generator, n: int = 60) -> str:
    rows = [f"{x:.1f},{y:.1f},{z:.1f}" for x, y, z in rng.normal(0, 300, (n, 3)) + [0, 0, 1000]]
    return "-,-,-\n" + "\n".join(rows) + "\n"


def capture_csv(rng: np.random.Generator, n: int = 60, meta: dict | None = None) -> str:
    meta = meta if meta is not None else {"units": "g", "rate_hz": 100.0, "label": "wing", "axes": ["ax", "ay", "az"]}
    lines = [f"{CAPTURE_MAGIC} {json.dumps(meta)}", "t_us,seq,ax,ay,az"]
    for i, (x, y, z) in enumerate(rng.normal(0, 0.3, (n, 3)) + [0, 0, 1]):
        lines.append(f"{i * 10000},{i},{x:.4f},{y:.4f},{z:.4f}")
    return "\n".join(lines) + "\n"


def png_bytes(rng: np.random.Generator, size: int = 32) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def coco_json(names: list[str]) -> dict:
    return {"images": [{"id": i, "file_name": n, "width": 32, "height": 32} for i, n in enumerate(names)],
            "annotations": [{"id": 1, "image_id": 0, "category_id": 1, "bbox": [0, 0, 20, 20], "area": 400,
                             "iscrowd": 0}],
            "categories": [{"id": 1, "name": "person"}]}


# ---- mutations -------------------------------------------------------------------------------

def mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    """Bit flips, overwritten bytes, a cut, junk appended, or nothing at all."""
    buf = bytearray(data)
    kind = int(rng.integers(6))
    if kind == 0 and buf:
        for _ in range(int(rng.integers(1, 6))):
            buf[int(rng.integers(len(buf)))] ^= 1 << int(rng.integers(8))
    elif kind == 1 and buf:
        for _ in range(int(rng.integers(1, 6))):
            buf[int(rng.integers(len(buf)))] = int(rng.integers(256))
    elif kind == 2 and len(buf) > 1:
        buf = buf[: int(rng.integers(1, len(buf)))]
    elif kind == 3:
        buf += bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8))
    elif kind == 4:
        buf = bytearray()
    else:
        buf = bytearray(b"\xff\xfe not what you think \x00\x01" * int(rng.integers(1, 4)))
    return bytes(buf)


def bad_wav(rng: np.random.Generator) -> bytes:
    data = bytearray(wav_bytes(0.5, seed=int(rng.integers(100))))
    pick = int(rng.integers(7))
    if pick == 0:
        return bytes(data[: 44 + 2 * int(rng.integers(1, 100)) + 1])  # cut mid-sample
    if pick == 1:
        data[24:28] = (0).to_bytes(4, "little")  # rate 0
    elif pick == 2:
        data[22:24] = (0).to_bytes(2, "little")  # no channels
    elif pick == 3:
        data[34:36] = (7).to_bytes(2, "little")  # 7-bit samples
    elif pick == 4:
        data[40:44] = (0xFFFFFFF0).to_bytes(4, "little")  # data chunk claims 4 GB
    else:
        return mutate_bytes(bytes(data), rng)
    return bytes(data)


def bad_motion_text(rng: np.random.Generator) -> str:
    base = tf_wand_text(rng) if rng.integers(2) else capture_csv(rng)
    lines = base.splitlines()
    pick = int(rng.integers(10))
    i = int(rng.integers(2, len(lines)))
    if pick == 0:
        lines[i] = _pick(rng, ["nan,1,2", "inf,0,0", "1e400,0,0", "0,0,-inf"])
    elif pick == 1:
        lines[i] = "1,2"
    elif pick == 2:
        lines[i] = "a,b,c"
    elif pick == 3:
        lines = lines[:1]
    elif pick == 4:
        lines[0] = f"{CAPTURE_MAGIC} " + _pick(rng, ['[1,2]', '{"rate_hz": 0}', '{"rate_hz": -5, "units": "g"}',
                                                     '{"rate_hz": 1e30}', '{"units": 7}', '{', '"x"', 'null'])
    elif pick == 5:
        lines[1] = _pick(rng, ["t_us,seq", "t_us,seq,ax", "", "ax,ay,az,gx,gy,gz,extra,more"])
    elif pick == 6:
        return "\r\n".join(lines) + "\x1b[0m\x00junk"
    elif pick == 7:
        lines.insert(i, "1" * 5000)
    elif pick == 8:
        lines = [str(float(v) * 1e12) for v in range(len(lines))]
    else:
        return mutate_bytes("\n".join(lines).encode(), rng).decode("latin-1")
    return "\n".join(lines) + "\n"


def bad_json(rng: np.random.Generator, good: dict) -> bytes:
    pick = int(rng.integers(8))
    doc = json.loads(json.dumps(good))
    if pick == 0:
        doc = list(doc)
    elif pick == 1 and doc:
        doc.pop(sorted(doc)[int(rng.integers(len(doc)))])
    elif pick == 2:
        key = sorted(doc)[int(rng.integers(len(doc)))] if doc else "x"
        doc[key] = _pick(rng, [None, "text", -1, 1e308, [], {"a": 1}])
    elif pick == 3:
        return b"{ not json"
    elif pick == 4:
        return b"\xff\xfe\x00"
    elif pick == 5:
        return json.dumps(doc).encode()[: int(rng.integers(1, 20))]
    elif pick == 6:
        doc = "just a string"
    else:
        return mutate_bytes(json.dumps(doc).encode(), rng)
    return json.dumps(doc).encode()


# ---- cases -----------------------------------------------------------------------------------

@dataclass
class Case:
    """One command with its input files (relative to the sandbox)."""

    name: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    fifos: tuple[str, ...] = ()


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def make_cases(count: int, seed: int, fixtures: dict[str, Path]) -> list[Case]:
    """`count` cases spread over every command. `fixtures` holds valid inputs made once: 'model'
    (int8 .tflite), 'run' (a magic_wand run folder), 'keras' (a .keras file), 'sketch' (an export)."""
    rng = np.random.default_rng(seed)
    model = fixtures["model"].read_bytes()
    run_files = {p.name: p.read_bytes() for p in fixtures["run"].iterdir() if p.is_file()}
    sketch_files = {p.name: p.read_bytes() for p in fixtures["sketch"].iterdir() if p.is_file()}
    keras = fixtures["keras"].read_bytes()

    def model_case():
        data = mutate_bytes(model, rng)
        cmd = _pick(rng, ["inspect", "verify", "export"])
        argv = [cmd, "in/m.tflite"]
        if cmd == "export":
            argv += ["--board", _pick(rng, ["nano33ble_sense", "nano33ble_sense", "bogus", ""]), "--out", "out"]
            if rng.integers(2):
                argv += ["--labels", ",".join(_pick(rng, BAD_LABELS) for _ in range(3))]
            if rng.integers(3) == 0:
                argv += ["--name", _pick(rng, BAD_LABELS)]
            if rng.integers(3) == 0:
                argv += ["--verify-count", _pick(rng, BAD_NUMBERS)]
        elif cmd == "verify" and rng.integers(2):
            argv += ["--count", _pick(rng, BAD_NUMBERS)]
        return Case(f"{cmd} mutated model", argv, {"in/m.tflite": data})

    def run_case():
        files = {f"in/run/{k}": v for k, v in run_files.items()}
        target = _pick(rng, ["run.json", "config.json", "model.tflite", "report.json"])
        if target == "model.tflite":
            files[f"in/run/{target}"] = mutate_bytes(run_files[target], rng)
        else:
            files[f"in/run/{target}"] = bad_json(rng, json.loads(run_files[target]))
        cmd = _pick(rng, ["export", "verify", "inspect", "evaluate"])
        argv = [cmd, "in/run"]
        if cmd == "export":
            argv += ["--board", "nano33ble_sense", "--out", "out"] + (["--allow-weak"] if rng.integers(2) else [])
        if cmd == "evaluate":
            argv += ["--data", "in/none"]
        return Case(f"{cmd} damaged run ({target})", argv, files)

    def motion_data_case():
        files = {}
        for label in ("wing", "ring", "slope", "negative"):
            for k in range(int(rng.integers(1, 3))):
                text = bad_motion_text(rng) if rng.integers(3) else tf_wand_text(rng)
                files[f"in/data/{label}/output_{label}_p{k}.txt"] = text.encode("utf-8", "surrogateescape")
        if rng.integers(2):
            argv = ["train", "magic_wand", "--data", "in/data", "--out", "out/run", "--set", "epochs=1"]
            if rng.integers(2):
                argv += ["--set", _pick(rng, BAD_SETS)]
        else:
            argv = ["evaluate", "in/run", "--data", "in/data"]
            files.update({f"in/run/{k}": v for k, v in run_files.items()})
        return Case(f"{argv[0]} bad motion files", argv, files)

    def speech_case():
        files = {}
        for word in ("yes", "no", "_background_noise_"):
            for k in range(int(rng.integers(1, 3))):
                files[f"in/speech/{word}/p{k}_nohash_0.wav"] = bad_wav(rng) if rng.integers(3) else wav_bytes(0.5)
        pick = int(rng.integers(3))
        if pick == 0:
            argv = ["train", "micro_speech", "--data", "in/speech", "--out", "out/run", "--set", "epochs=1"]
        elif pick == 1:
            argv = ["make-stream", "--data", "in/speech", "--out", "out/s.wav", "--seconds",
                    _pick(rng, BAD_NUMBERS + ["3"])]
        else:
            argv = ["evaluate", "in/model.tflite", "--task", "micro_speech", "--stream", "in/speech/yes/p0_nohash_0.wav",
                    "--truth", "in/truth.csv"]
            files["in/model.tflite"] = model
            files["in/truth.csv"] = mutate_bytes(b"yes,100\nno,900\n", rng)
        return Case(f"{argv[0]} bad audio", argv, files)

    def image_case():
        files = {}
        for cls in ("person", "non_person"):
            for k in range(int(rng.integers(1, 3))):
                png = png_bytes(rng)
                files[f"in/img/{cls}/{k}.png"] = mutate_bytes(png, rng) if rng.integers(3) else png
        if rng.integers(2):
            argv = ["train", "person_detection", "--data", "in/img", "--out", "out/run", "--set", "epochs=1"]
        else:
            names = [f"{k}.png" for k in range(3)]
            files.update({f"in/coco/{n}": png_bytes(rng) for n in names})
            files["in/ann.json"] = bad_json(rng, coco_json(names))
            argv = ["make-vww", "--images", "in/coco", "--annotations", "in/ann.json", "--out", "out/vww",
                    "--threshold", _pick(rng, BAD_NUMBERS + ["0.005"])]
        return Case(f"{argv[0]} bad images", argv, files)

    def quantize_case():
        files = {}
        x = rng.normal(0, 1, (20, 8)).astype(np.float32)
        pick = int(rng.integers(6))
        arrays = {"x": x, "y": rng.integers(0, 2, 20)}
        if pick == 0:
            arrays = {"y": arrays["y"]}
        elif pick == 1:
            arrays["x"] = np.full((20, 8), np.nan, np.float32)
        elif pick == 2:
            arrays["x"] = rng.normal(0, 1, (20, 3)).astype(np.float32)
        elif pick == 3:
            arrays["x"] = np.array(["a"] * 20)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        files["in/data.npz"] = buf.getvalue() if pick != 4 else mutate_bytes(buf.getvalue(), rng)
        files["in/m.keras"] = keras if pick != 5 else mutate_bytes(keras, rng)
        argv = ["quantize", "in/m.keras", "--data", "in/data.npz", "--out", "out/q.tflite"]
        if rng.integers(3) == 0:
            argv += ["--samples", _pick(rng, BAD_NUMBERS)]
        return Case("quantize bad inputs", argv, files)

    def sketch_case():
        files = {f"in/sk/{k}": v for k, v in sketch_files.items()}
        target = _pick(rng, sorted(sketch_files))
        files[f"in/sk/{target}"] = (bad_json(rng, json.loads(sketch_files[target])) if target.endswith(".json")
                                    else mutate_bytes(sketch_files[target], rng))
        if target.endswith(".cpp") or target.endswith(".json") or rng.integers(2):
            return Case(f"emulate damaged sketch ({target})", ["emulate", "in/sk", "--input",
                                                               _pick(rng, ["in/none", "in/sk"])], files)
        return Case("emulate missing library", ["emulate", "in/sk", "--library", "in/nolib"], files)

    def options_case():
        pick = int(rng.integers(5))
        if pick == 0:
            argv = ["train", _pick(rng, ["magic_wand", "micro_speech", "bogus", "../x"]), "--out", "out/run",
                    "--synthetic", _pick(rng, BAD_NUMBERS)]
        elif pick == 1:
            argv = ["train", "magic_wand", "--out", "out/run", "--synthetic", "8", "--set", _pick(rng, BAD_SETS)]
        elif pick == 2:
            argv = ["capture", "--port", _pick(rng, ["in/nope", "/dev/null", "in/fifo"]), "--task", "magic_wand",
                    "--label", _pick(rng, BAD_LABELS + ["wing"]), "--count", _pick(rng, BAD_NUMBERS + ["1"]),
                    "--seconds", _pick(rng, BAD_NUMBERS + ["1"]), "--out", "out/cap"]
            return Case("capture bad options", argv, fifos=("in/fifo",))
        elif pick == 3:
            argv = ["export", "in/m.tflite", "--board", "nano33ble_sense", "--out", _pick(rng, ["in/m.tflite", "out"]),
                    "--name", _pick(rng, BAD_LABELS)]
            return Case("export bad names", argv, {"in/m.tflite": model})
        else:
            argv = [_pick(rng, ["inspect", "verify", "export"]), _pick(rng, ["in/fifo", "/dev/zero", "in", "in/none"]),
                    "--board", "nano33ble_sense", "--out", "out"]
            if argv[0] != "export":
                argv = argv[:2]
            return Case("bad model paths", argv, fifos=("in/fifo",))
        return Case(f"{argv[0]} bad options", argv)

    makers = [model_case, run_case, motion_data_case, speech_case, image_case, quantize_case, sketch_case,
              options_case]
    return [makers[i % len(makers)]() for i in range(count)]


# ---- running and judging ---------------------------------------------------------------------

def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, names in os.walk(root):
        for n in names + dirnames:
            p = Path(dirpath) / n
            try:
                st = p.lstat()
            except OSError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def setup_sandbox(case: Case, sandbox: Path) -> None:
    (sandbox / "in").mkdir(parents=True)
    for rel, data in case.files.items():
        p = sandbox / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for rel in case.fifos:
        os.mkfifo(sandbox / rel)


def run_case(case: Case, sandbox: Path, timeout: int = 120) -> dict:
    """Run one case in a forked child; returns {'kind': ..., 'detail': ...}.

    kinds: 'ok' (exit 0), 'one-line error', and the failures 'multi-line error', 'traceback',
    'native crash', 'hang', 'wrote outside --out', 'partial output'."""
    setup_sandbox(case, sandbox)
    before = _tree(sandbox)
    private_tmp = sandbox.parent / f"{sandbox.name}.tmp"  # the child's TMPDIR: what it leaves there leaked
    private_tmp.mkdir()
    log = sandbox.parent / f"{sandbox.name}.log"
    pid = os.fork()
    if pid == 0:  # child
        code = 99
        try:
            os.chdir(sandbox)
            import tempfile

            os.environ["TMPDIR"] = str(private_tmp)
            tempfile.tempdir = None
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            signal.alarm(timeout)
            from tinyml.cli import main

            try:
                code = main(list(case.argv))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 99
        finally:
            import atexit

            atexit._run_exitfuncs()  # what a real exit runs (TensorFlow removes its temp files there)
            os._exit(code if isinstance(code, int) else 98)
    _, status = os.waitpid(pid, 0)
    text = log.read_text(errors="replace") if log.exists() else ""
    after = _tree(sandbox)
    new_tmp = set(os.listdir(private_tmp))
    outside = [p for p in set(after) | set(before)
               if not p.startswith("out") and before.get(p) != after.get(p)]
    partial = [p for p in after if p.startswith("out")]
    errors = [ln for ln in text.splitlines() if ln.startswith("tinyml: error:") or ": error:" in ln]
    if os.WIFSIGNALED(status):
        kind = "hang" if os.WTERMSIG(status) == signal.SIGALRM else "native crash"
        code = -os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
        if code == 99 or "Traceback (most recent call last)" in text:
            kind = "traceback"
        elif outside or new_tmp:
            kind = "wrote outside --out"
        elif code == 0:
            kind = "ok"
        elif code == 5 and "out/run/run.json" in after and "out/run/model.tflite" in after:
            kind = "weak model refused"  # a whole run, kept for inspection; export refuses it
        elif partial:
            kind = "partial output"
        else:
            kind = "one-line error" if len(errors) == 1 and len(text.strip().splitlines()[-1:]) == 1 else \
                "multi-line error"
    detail = (errors or text.strip().splitlines() or [""])[-1][:160]
    if kind == "wrote outside --out":
        detail = f"{sorted(outside)[:3]} {sorted(new_tmp)[:3]}"
    elif kind == "partial output":
        detail = f"{sorted(partial)[:3]} after: {detail}"
    return {"kind": kind, "code": code, "detail": detail, "log": text}


FAILURES = ("multi-line error", "traceback", "native crash", "hang", "wrote outside --out", "partial output")


def make_fixtures(root: Path) -> dict[str, Path]:
    """Valid inputs the mutations start from: a model, a magic_wand run, a .keras file and a sketch.

    Made in a separate process: TensorFlow's thread pools, once running, do not survive the
    forks the runner makes."""
    import subprocess
    import sys

    here = Path(__file__).parent
    code = f"""
import sys
sys.path.insert(0, {str(here)!r})
from pathlib import Path
from fixtures import tiny_model
from tinyml.cli import main
root = Path({str(root)!r})
root.mkdir(parents=True, exist_ok=True)
(root / "m.tflite").write_bytes(tiny_model())
assert main(["train", "magic_wand", "--synthetic", "16", "--set", "epochs=1", "--out", str(root / "run"),
             "--allow-weak"]) == 0
assert main(["export", str(root / "run"), "--board", "nano33ble_sense", "--out", str(root / "sketches"),
             "--name", "sk", "--allow-weak"]) == 0
import keras
inp = keras.Input((8,))
keras.Model(inp, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(4)(inp))).save(root / "m.keras")
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env, cwd=here.parent)
    return {"model": root / "m.tflite", "run": root / "run", "keras": root / "m.keras",
            "sketch": root / "sketches" / "sk"}


def preload() -> None:
    """Import (not start) the heavy modules once, so each forked case does not pay for them."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401
    from ai_edge_litert.interpreter import Interpreter  # noqa: F401
    from tflite_micro.python.tflite_micro import runtime  # noqa: F401

    import tinyml.cli  # noqa: F401
    import tinyml.tflm  # noqa: F401


def tally(results: list[dict]) -> dict[str, int]:
    kinds = ["ok", "one-line error", "weak model refused", *FAILURES]
    counts = dict.fromkeys(kinds, 0)
    for r in results:
        counts[r["kind"]] += 1
    return counts



def run_corpus(count: int, seed: int, workdir: Path, show=print) -> dict:
    """Make fixtures, run `count` cases, return the tally plus one example per kind.

    Call it in a fresh process (see module doc): the forks need TensorFlow imported, not running."""
    fixtures = make_fixtures(workdir / "fixtures")
    preload()
    cases = make_cases(count, seed, fixtures)
    results, examples, commands = [], {}, {}
    for i, case in enumerate(cases):
        r = run_case(case, workdir / f"case{i}")
        results.append(r)
        examples.setdefault(r["kind"], f"{' '.join(case.argv)[:90]!r} → {r['detail'][:140]}")
        commands[case.argv[0]] = commands.get(case.argv[0], 0) + 1
        if r["kind"] in FAILURES:
            show(f"  FAIL {r['kind']}: {' '.join(case.argv)!r}: {r['detail']}")
    return {"tally": tally(results), "examples": examples, "commands": commands}


if __name__ == "__main__":  # python tests/badinputs.py COUNT SEED WORKDIR → JSON on the last line
    import sys
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    n, s = int(sys.argv[1]), int(sys.argv[2])
    import shutil

    # mkdtemp, not TemporaryDirectory: the children run atexit handlers (as a real exit does), and
    # a TemporaryDirectory's finalizer there would delete the parent's folder
    tmp = Path(tempfile.mkdtemp(prefix="badinputs"))
    try:
        print(json.dumps(run_corpus(n, s, tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
