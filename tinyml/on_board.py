"""`tinyml emulate`: an exported sketch folder through the emulated board (tinyml.device), compared
with the host.

Builds the sketch against the board's TFLM library, feeds it a recording through the
stand-ins, and checks (1) every Invoke() output byte against the host's TFLM on the same
input bytes and (2) the lines the sketch printed against what Python computes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tinyml.device import emulate
from tinyml.device.toolchain import BoardLibrary, Image, build_library, build_sketch
from tinyml.errors import TinyMLError

LIBRARY_ENV = "TINYML_TFLM_LIBRARY"


def library_source(path: str | None) -> Path:
    """The TFLM library to build against: --library, then $TINYML_TFLM_LIBRARY, then the Arduino sketchbook."""
    for candidate in (path, os.environ.get(LIBRARY_ENV),
                      Path.home() / "Arduino" / "libraries" / "Chirale_TensorFlowLite"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise TinyMLError(
        "no TFLM library to build against; pass --library with the Chirale_TensorFlowLite folder "
        f"(Arduino/libraries/Chirale_TensorFlowLite) or its .tar.gz, or set {LIBRARY_ENV}"
    )


def read_sketch(sketch_dir: Path) -> tuple[dict, bytes]:
    """(manifest, model bytes) of a folder written by `tinyml export`; the model must match the manifest."""
    from tinyml.export.carray import parse_c_array

    from tinyml.files import MB, read_input_text

    what = "a sketch folder written by `tinyml export`"
    try:
        manifest = json.loads(read_input_text(sketch_dir / "manifest.json", what, 16 * MB))
        data_file = next(p for p in (sketch_dir / "model_data.cpp", sketch_dir / "model_data.cc") if p.is_file())
        model = parse_c_array(read_input_text(data_file, what, 256 * MB))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
    except (TinyMLError, ValueError, StopIteration):
        raise TinyMLError(f"{sketch_dir} is not a sketch folder written by `tinyml export` "
                          "(manifest.json and model_data.cpp needed)") from None
    meta = manifest.get("model")
    if not isinstance(meta, dict) or hashlib.sha256(model).hexdigest() != meta.get("sha256"):
        raise TinyMLError(f"{sketch_dir}: the model array does not match manifest.json; re-run `tinyml export`")
    return manifest, model


@dataclass(frozen=True)
class EmulationReport:
    """Everything one emulated run measured."""

    library: str
    """TFLM library and version the sketch was built against."""
    image: Image
    """Linked image with its text/data/bss sizes."""
    case: str
    """What the board was fed."""
    comparison: emulate.Comparison
    """Board vs host outputs of every Invoke()."""
    printed: list[str]
    """Result lines the sketch printed."""
    expected: list[str] | None
    """Lines Python predicts (None when not predicted)."""
    inference_every_ms: float | None = None
    """How often the sketch runs the model on a live stream (None: not a stream)."""
    expected_inputs: int | None = None
    """Model inputs Python predicted for the recording (None when not predicted)."""
    inputs_matching: int | None = None
    """Of those, how many the board's feature code produced byte for byte, in order."""

    @property
    def inputs_match(self) -> bool | None:
        if self.expected_inputs is None:
            return None
        return self.inputs_matching == self.expected_inputs == self.comparison.compared

    def cycle_instructions(self) -> int:
        """One inference cycle: the median Invoke() plus the median work between two of them."""
        return self.comparison.median_instructions + self.comparison.median_between

    def keeps_up(self, clock_hz: float) -> bool | None:
        """Whether one inference cycle (model plus the sketch's own work between inferences) fits
        in the period between two inferences (None without a stream or a count)."""
        if self.inference_every_ms is None or not self.comparison.median_instructions:
            return None
        return emulate.latency_ms(self.cycle_instructions(), clock_hz) <= self.inference_every_ms

    @property
    def lines_match(self) -> bool | None:
        return None if self.expected is None else self.printed == self.expected

    @property
    def ok(self) -> bool:
        c = self.comparison
        return (c.compared > 0 and c.identical == c.compared and self.lines_match is not False
                and self.inputs_match is not False)

    def as_dict(self, clock_hz: float) -> dict:
        median = self.comparison.median_instructions
        return {
            "library": self.library, "case": self.case,
            "image": {"text": self.image.text, "data": self.image.data, "bss": self.image.bss,
                      "flash_bytes": self.image.flash_bytes, "ram_bytes": self.image.ram_bytes},
            "invokes": self.comparison.as_dict(),
            "latency_ms_estimate": round(emulate.latency_ms(median, clock_hz), 2),
            "between_ms_estimate": round(emulate.latency_ms(self.comparison.median_between, clock_hz), 2),
            "cycle_ms_estimate": round(emulate.latency_ms(self.cycle_instructions(), clock_hz), 2),
            "latency_assumption": f"{emulate.CORTEX_M4_CPI} cycles per instruction at {clock_hz / 1e6:g} MHz",
            "printed_lines": len(self.printed),
            "lines_match": self.lines_match,
            "inputs_match": self.inputs_match,
            "inference_every_ms": self.inference_every_ms,
            "keeps_up": self.keeps_up(clock_hz),
        }


def emulate_sketch(sketch_dir: str | Path, library: BoardLibrary, work: Path, recording: str | None = None,
                   seed: int = 0, timeout_s: float = 900.0) -> EmulationReport:
    """Build, run and compare one exported sketch."""
    from tinyml.tasks import get_task

    sketch_dir = Path(sketch_dir)
    manifest, model = read_sketch(sketch_dir)
    from tinyml.config import from_dict

    task = get_task(str(manifest.get("task", "generic")))
    saved = manifest.get("config")
    config = from_dict(task.config_class, saved) if isinstance(saved, dict) and task.config_class else None
    case = task.device_case(config, model, recording, seed)
    image = build_sketch(sketch_dir, library, work / "build")
    run = emulate.run(image, case.inputs, timeout_s=timeout_s, workdir=work / "run")
    if not any(line.startswith("ready") for line in run.lines):
        shown = "; ".join(run.lines[-2:]) or "nothing"
        raise TinyMLError(f"the sketch did not start on the emulated board (it printed: {shown})")
    if not run.invocations:
        raise TinyMLError(f"the sketch ran the model 0 times on {case.description}: the recording is shorter than "
                          "one model input (one window), so nothing was compared; pass a longer recording")
    comparison = emulate.compare_with_host(model, run.invocations)
    from tinyml.modelinfo import read_model

    every = task.firmware(config, read_model(model)).inference_every_ms
    return EmulationReport(library=f"{library.name} {library.version}", image=image, case=case.description,
                           comparison=comparison, printed=emulate.printed_results(run),
                           expected=case.expected_lines, inference_every_ms=every,
                           expected_inputs=None if case.expected_inputs is None else len(case.expected_inputs),
                           inputs_matching=emulate.inputs_matching(case.expected_inputs, run.invocations))


def board_library(path: str | None, progress=None) -> BoardLibrary:
    return build_library(library_source(path), progress)
