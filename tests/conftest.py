"""Shared test helpers: the real-data folder (skipped when absent), CLI runner, compilers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.files import write_files

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))
SHIM = Path(__file__).parent / "shim"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TINYML_UPDATE_GOLDEN") == "1"
# The Arduino core and sensor library headers are the emulated board's stand-ins (one copy);
# tests/shim adds declaration-only TFLM headers for checks without the board's library.
STANDINS = REPO / "tinyml" / "device" / "standins"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real third-party data not found at {SHARED_DATA} (set TINYML_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reference_models(shared_data) -> Path:
    path = shared_data / "tflm_reference" / "models"
    if not path.is_dir():
        pytest.skip(f"{path} missing")
    return path


@pytest.fixture(scope="session")
def default_build():
    """build_default(name, synthetic) trained once per session, shared by the budget and board tests."""
    from fixtures import build_default

    built = {}

    def get(name: str, synthetic: bool = False):
        if (name, synthetic) not in built:
            built[name, synthetic] = build_default(name, synthetic)[1]
        return built[name, synthetic]

    return get


@pytest.fixture(scope="session")
def quick_demo_run():
    """One `tinyml demo --quick` shared by the tests that need trained runs and sketches, run as a
    user runs it: an 80-column terminal, TensorFlow's log level unset (the CLI must quiet it), and a
    short output path, since the demo prints it. Returns (the finished process, the output folder)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="d", dir="/tmp"))
    out = home / "b"
    proc = run80("demo", "--quick", "--out", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield proc, out
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def quick_demo(quick_demo_run) -> Path:
    """The shared `tinyml demo --quick` run's output folder."""
    return quick_demo_run[1]


def run80(*args: str, timeout: int = 900, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run `python -m tinyml ARGS` in an 80-column terminal with TensorFlow's log level unset: the
    CLI must quiet TensorFlow by itself."""
    env = dict(os.environ, COLUMNS="80")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "tinyml", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `python -m tinyml ARGS` as a user would, capturing output."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "tinyml", *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env,
    )


def gxx() -> str:
    compiler = shutil.which("g++")
    if not compiler:
        pytest.skip("g++ not installed")
    return compiler


def build_c_harness(tmp_path: Path, firmware, harness: str) -> Path:
    """Render a task's plain-C firmware files, compile them with a test main() on the host, return the binary."""
    from tinyml.export.render import render

    ctx = {"tool_version": "test", **firmware.context}
    for out_name, template in firmware.extra_templates:
        (tmp_path / out_name).write_text(render(template, ctx))
    (tmp_path / "harness.c").write_text(harness)
    sources = sorted(name for name, _ in firmware.extra_templates if name.endswith(".c"))
    exe = tmp_path / "harness"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(exe), "harness.c",
                    *sources, "-lm"], cwd=tmp_path, check=True)
    return exe


def compile_sketch(sketch_dir: Path, ino_name: str, defines: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The checks the issue asks for: generated C standalone with -Werror, the .ino against the shim
    (with a board's `defines`)."""
    cc = gxx()
    flags = [f"-D{d}" for d in defines]
    out = []
    for src in ("model_data.cpp",):
        out.append(subprocess.run([cc, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-c", src, "-o", os.devnull],
                                  cwd=sketch_dir, capture_output=True, text=True))
    for hdr in ("model_data.h", "model_settings.h"):
        out.append(subprocess.run([cc, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-x", "c++", "-fsyntax-only", hdr],
                                  cwd=sketch_dir, capture_output=True, text=True))
    for src in sorted(p.name for p in sketch_dir.iterdir() if p.suffix == ".c"):
        out.append(subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", src, "-o", os.devnull],
                                  cwd=sketch_dir, capture_output=True, text=True))
    for src in sorted(p.name for p in sketch_dir.iterdir() if p.suffix in (".ino", ".cpp", ".cc")):
        out.append(subprocess.run([cc, "-std=c++17", "-Wall", "-Wextra", "-fsyntax-only", "-x", "c++", *flags,
                                   "-include", "Arduino.h", f"-I{STANDINS}", f"-I{SHIM}", "-I.", src],
                                  cwd=sketch_dir, capture_output=True, text=True))
    failed = [r for r in out if r.returncode != 0]
    return failed[0] if failed else out[-1]


def check_golden(folder: str, files: dict):
    gold = GOLDEN / folder
    if UPDATE:
        write_files(gold, files)
    for name, text in files.items():
        assert (gold / name).read_text() == text, f"{folder}/{name} differs from the golden file"
    assert sorted(p.name for p in gold.iterdir()) == sorted(files)
