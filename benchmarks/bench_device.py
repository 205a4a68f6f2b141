"""Every demo sketch and both published models on the emulated board (QEMU mps2-an386, Cortex-M4)
built against the board's TFLM library (Chirale_TensorFlowLite 2.0.0): byte-identical outputs,
printed lines, linked image sizes, instructions per inference; every template and capture
sketch built under -Wall; the refusals.

    python benchmarks/bench_device.py [--demo build] [--library ../shared/vendor/Chirale_TensorFlowLite-2.0.0.tar.gz]

Runs `tinyml demo` into --demo first when that folder has no sketches (about 6 minutes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))
sys.path.insert(0, str(REPO))

from tinyml.boards import get_board  # noqa: E402
from tinyml.on_board import emulate_sketch  # noqa: E402
from tinyml.device.emulate import latency_ms  # noqa: E402
from tinyml.device.toolchain import build_library, build_sketch  # noqa: E402
from tinyml.errors import TinyMLError  # noqa: E402
from tinyml.export.pipeline import ExportSource, build_export  # noqa: E402
from tinyml.files import write_files  # noqa: E402

BOARD = get_board("nano33ble_sense")


def export(model: bytes, task: str, name: str, labels: tuple, out: Path, config=None) -> Path:
    result = build_export(ExportSource(model, task, labels, config, name), BOARD, name, list(labels) or None)
    write_files(out / name, result.files)
    return out / name


def row(name: str, report, model_bytes: int, arena: int) -> None:
    c = report.comparison
    lines = "-" if report.expected is None else ("same" if report.lines_match else "DIFFERENT")
    print(f"| {name} | {c.identical}/{c.compared} | {lines} ({len(report.printed)}) | {report.image.text:,} | "
          f"{report.image.data:,} | {report.image.bss:,} | {model_bytes:,} | {arena:,} | {c.median_instructions:,} | "
          f"{latency_ms(c.median_instructions, 64e6):.1f} | {c.median_between:,} | "
          f"{latency_ms(c.median_between, 64e6):.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", default=str(REPO / "build"))
    ap.add_argument("--library", default=str(SHARED.parent / "vendor" / "Chirale_TensorFlowLite-2.0.0.tar.gz"))
    args = ap.parse_args()
    demo = Path(args.demo)
    if not (demo / "arduino").is_dir():
        print(f"running tinyml demo into {demo} ...", flush=True)
        subprocess.run([sys.executable, "-m", "tinyml", "demo", "--out", str(demo)], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    lib = build_library(Path(args.library))
    print(f"board library: {lib.name} {lib.version} ({time.perf_counter() - t0:.1f} s, cached after the first build)")
    work = Path(tempfile.mkdtemp(prefix="bench-device-"))
    import json

    print("\n| sketch | Invoke() identical | printed lines vs Python | text B | data B | bss B | model B | "
          "arena (measured) B | instructions / inference | ms at 64 MHz, CPI 1.25 | sketch's own instructions "
          "between two inferences (sensor reads, features, printing) | ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for task in ("micro_speech", "magic_wand", "person_detection"):
        sketch = demo / "arduino" / task
        manifest = json.loads((sketch / "manifest.json").read_text())
        report = emulate_sketch(sketch, lib, work / task)
        row(f"demo {task} (synthetic input)", report, manifest["model"]["flash_bytes"],
            manifest["arena"]["measured_bytes"])
    wing = sorted(p for p in (SHARED / "magic_wand").rglob("*wing*") if p.is_file())
    if wing:
        report = emulate_sketch(demo / "arduino" / "magic_wand", lib, work / "wand_real", str(wing[0]))
        manifest = json.loads((demo / "arduino" / "magic_wand" / "manifest.json").read_text())
        row(f"demo magic_wand, real recording {wing[0].name}", report, manifest["model"]["flash_bytes"],
            manifest["arena"]["measured_bytes"])

    models = SHARED / "tflm_reference" / "models"
    from tinyml.tasks.micro_speech.data import read_wav, write_wav
    from tinyml.tflm import measure_arena

    kws = (models / "micro_speech_quantized.tflite").read_bytes()
    sk = export(kws, "generic", "kws_generic", (), work)
    row("published micro_speech, generic sketch (30 random vectors)", emulate_sketch(sk, lib, work / "g"), len(kws),
        measure_arena(kws))
    clips = SHARED / "tflm_reference" / "micro_speech"
    order = ["silence", "yes", "silence", "no", "silence", "noise", "silence"]
    write_wav(work / "stream.wav", np.concatenate([read_wav(clips / f"{n}_1000ms.wav", 16000) for n in order]), 16000)
    sk = export(kws, "micro_speech", "kws", ("silence", "unknown", "yes", "no"), work)
    row("published micro_speech, PDM sketch (TFLM reference clips)", emulate_sketch(sk, lib, work / "k",
                                                                                   str(work / "stream.wav")),
        len(kws), measure_arena(kws))
    person = (models / "person_detect.tflite").read_bytes()
    from PIL import Image

    frames = work / "frames"
    frames.mkdir()
    photo_dir = SHARED / "tflm_reference" / "person_detection"
    photos = [np.asarray(Image.open(photo_dir / "person.bmp").convert("L"), dtype=np.uint8) ^ 0x80,
              np.asarray(Image.open(photo_dir / "no_person.bmp").convert("L"), dtype=np.uint8)]
    rng = np.random.default_rng(0)
    for i in range(30):
        y, x = rng.integers(0, 30, 2)
        Image.fromarray(photos[i % 2] if i < 2 else photos[i % 2][y:y + 66, x:x + 66]).save(frames / f"{i:02d}.png")
    sk = export(person, "person_detection", "person", ("no_person", "person"), work)
    row("published person_detect, camera sketch (30 frames)", emulate_sketch(sk, lib, work / "p", str(frames)),
        len(person), measure_arena(person))

    print("\nbuilds for the Cortex-M4 under -Wall:")
    sketches = [demo / "arduino" / t for t in ("micro_speech", "magic_wand", "person_detection")]
    sketches += [work / "kws_generic"]
    for sketch in sketches:
        image = build_sketch(sketch, lib, work / "wall" / sketch.name)
        print(f"  {sketch.name}: 0 errors, {len(image.warnings)} warnings")
    capture_lib = REPO / "arduino" / "libraries" / "TinymlCapture" / "src"
    for ino in sorted((REPO / "arduino").glob("*/*.ino")):
        for defines in ((), ("TINYML_REV2",)) if "imu" in ino.parent.name else ((),):
            image = build_sketch(ino.parent, lib, work / "wall" / (ino.parent.name + "".join(defines)),
                                 extra_includes=(capture_lib,), defines=defines)
            print(f"  arduino/{ino.parent.name}{' -DTINYML_REV2' if defines else ''}: 0 errors, "
                  f"{len(image.warnings)} warnings, text {image.text:,} B, bss {image.bss:,} B")

    print("\nrefusals:")
    sys.path.insert(0, str(REPO / "tests"))
    from test_device import _dense_model

    try:
        export(_dense_model(per_channel=True), "generic", "bad", (), work)
        print("  per-channel FULLY_CONNECTED: NOT refused")
    except TinyMLError as exc:
        print(f"  per-channel FULLY_CONNECTED: {exc}")
    from dataclasses import replace

    from fixtures import tiny_model
    from tinyml.modelinfo import OpInfo, read_model

    info = read_model(tiny_model())
    try:
        BOARD.tflm.check(replace(info, ops=info.ops + (OpInfo("BATCH_MATMUL", 1),)))
    except TinyMLError as exc:
        print(f"  BATCH_MATMUL: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
