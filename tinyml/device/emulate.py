"""Run a linked sketch on QEMU's mps2-an386 (Cortex-M4) and read back what it did.

The sketch reads its recorded inputs through the stand-ins; QEMU runs with `-icount shift=0`,
so each guest instruction takes exactly 1 ns of virtual time and the board's 25 MHz timer
counts instructions (40 per tick). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml.device.toolchain import Image
from tinyml.errors import TinyMLError

INSTRUCTIONS_PER_TICK = 40  # 1 ns per instruction (icount shift 0) on the 25 MHz system clock
INVOKE_MAGIC = 0x4B564E49

# A latency estimate from instruction counts needs a cycles-per-instruction figure: a Cortex-M4
# running TFLM int8 kernels (loads, MACs, branches) averages about 1.25 cycles per instruction
# with zero-wait-state flash. The nRF52840 runs at 64 MHz.
CORTEX_M4_CPI = 1.25


def latency_ms(instructions: int, clock_hz: float, cpi: float = CORTEX_M4_CPI) -> float:
    return instructions * cpi / clock_hz * 1000.0


@dataclass(frozen=True)
class Inputs:
    """Recorded data the stand-ins feed to the sketch (each optional)."""

    serial: bytes = b""
    """Bytes the sketch reads from Serial."""
    mic: bytes | None = None
    """int16 little-endian mono audio for PDM."""
    imu: bytes | None = None
    """Records {uint32 t_us; 6 x float32} for the IMU (see `imu_records`)."""
    camera: bytes | None = None
    """uint8 grayscale 176x144 frames, concatenated."""


def imu_records(times_us: np.ndarray, values: np.ndarray) -> bytes:
    """IMU stand-in records from device timestamps (µs, wrapped to 32 bits) and (N, 3 or 6) readings."""
    v = np.zeros((len(values), 6), dtype="<f4")
    v[:, : values.shape[1]] = values
    rec = np.zeros(len(values), dtype=[("t", "<u4"), ("v", "<f4", 6)])
    rec["t"] = (np.asarray(times_us, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)
    rec["v"] = v
    return rec.tobytes()


@dataclass(frozen=True)
class Invocation:
    """One Invoke() on the emulated board."""

    instructions: int
    """Guest instructions the call took (resolution 40)."""
    work_before: int
    """Guest instructions the sketch ran since the previous Invoke() returned (or since setup()
    ended): sensor reads, feature code, results printed; resolution 40."""
    status: int
    """TfLiteStatus returned (0 = kTfLiteOk)."""
    inputs: tuple[bytes, ...]
    """Each input tensor's bytes when Invoke() started."""
    outputs: tuple[bytes, ...]
    """Each output tensor's bytes after it returned."""


@dataclass(frozen=True)
class Run:
    """What the emulated board printed and computed."""

    lines: list[str]
    """Serial output, one entry per line."""
    invocations: list[Invocation] = field(default_factory=list)
    """Every Invoke(), in order."""
    exit_code: int = 0
    """QEMU's exit status (0 when the sketch's inputs ran out normally)."""


def _parse_invocations(data: bytes) -> list[Invocation]:
    out = []
    pos = 0

    def u32():
        nonlocal pos
        if pos + 4 > len(data):
            raise ValueError("truncated")
        (v,) = struct.unpack_from("<I", data, pos)
        pos += 4
        return v

    def blobs():
        nonlocal pos
        items = []
        for _ in range(u32()):
            n = u32()
            items.append(bytes(data[pos:pos + n]))
            pos += n
        return tuple(items)

    try:
        while pos < len(data):
            if u32() != INVOKE_MAGIC:
                raise ValueError("bad record")
            work = u32()
            ins = blobs()
            ticks, status = u32(), u32()
            outs = blobs()
            out.append(Invocation(ticks * INSTRUCTIONS_PER_TICK, work * INSTRUCTIONS_PER_TICK, status, ins, outs))
    except ValueError:
        raise TinyMLError("the emulated board's Invoke() log is damaged; the run was cut short") from None
    return out


def run(image: Image, inputs: Inputs, timeout_s: float = 600.0, workdir: Path | None = None) -> Run:
    """Run the image in qemu-system-arm until its inputs run out; raise on a fault or a hang."""
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="tinyml-emu-")) if own else Path(workdir)
    try:
        work.mkdir(parents=True, exist_ok=True)
        for name, blob in (("serial_in.txt", inputs.serial), ("mic.raw", inputs.mic), ("imu.bin", inputs.imu),
                           ("camera.raw", inputs.camera)):
            path = work / name
            if blob is not None:
                path.write_bytes(blob)
            elif path.exists():
                path.unlink()
        cmd = ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
               "-kernel", str(image.elf)]
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TinyMLError(f"the emulated board did not finish within {timeout_s:.0f} s") from None
        text = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            reason = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
            last = text.strip().splitlines()[-1:] or [""]
            raise TinyMLError(f"the emulated board stopped with status {proc.returncode}: {reason or last[0]}")
        log = work / "invokes.bin"
        invocations = _parse_invocations(log.read_bytes()) if log.exists() else []
        return Run(lines=[ln.rstrip("\r") for ln in text.splitlines()], invocations=invocations,
                   exit_code=proc.returncode)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class Comparison:
    """Board vs host TFLM on the inputs the board itself computed."""

    compared: int
    """Invocations compared."""
    identical: int
    """Invocations whose every output byte equals the host's."""
    max_abs_diff: int
    """Largest difference seen, in int8 steps."""
    instructions: tuple[int, ...]
    """Instructions per Invoke() on the board."""
    between: tuple[int, ...] = ()
    """Instructions the sketch ran between one Invoke() returning and the next starting (sensor
    reads, feature code, printing), from the second Invoke() on: before the first one the sketch
    fills its whole window."""

    @property
    def median_instructions(self) -> int:
        return int(np.median(self.instructions)) if self.instructions else 0

    @property
    def median_between(self) -> int:
        return int(np.median(self.between)) if self.between else 0

    def as_dict(self) -> dict:
        return {"compared": self.compared, "identical": self.identical, "max_abs_diff": self.max_abs_diff,
                "median_instructions": self.median_instructions,
                "median_instructions_between": self.median_between,
                "max_instructions_between": max(self.between, default=0)}


def compare_with_host(model: bytes, invocations: list[Invocation]) -> Comparison:
    """Run every input the board saw through the host's TFLM and count byte-identical outputs."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    info = read_model(model)
    interp = tflm.tflm_interpreter(model)
    identical = 0
    worst = 0
    for inv in invocations:
        if inv.status != 0:
            raise TinyMLError(f"Invoke() failed on the emulated board (status {inv.status})")
        xs = [np.frombuffer(b, dtype=np.dtype(t.dtype)).reshape(t.shape) for b, t in zip(inv.inputs, info.inputs)]
        host = tflm.run_tflm(interp, xs, len(info.outputs))
        diff = 0
        for h, b, t in zip(host, inv.outputs, info.outputs):
            board = np.frombuffer(b, dtype=np.dtype(t.dtype)).astype(np.int32)
            diff = max(diff, int(np.max(np.abs(board - h.reshape(-1).astype(np.int32)))) if board.size else 0)
        identical += diff == 0
        worst = max(worst, diff)
    return Comparison(compared=len(invocations), identical=identical, max_abs_diff=worst,
                      instructions=tuple(inv.instructions for inv in invocations),
                      between=tuple(inv.work_before for inv in invocations[1:]))


def arduino_float(number: float, digits: int = 2) -> str:
    """`Serial.print(float, digits)` of the Arduino core, in double arithmetic as the board does it."""
    import math

    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf"
    if number > 4294967040.0 or number < -4294967040.0:
        return "ovf"
    out = ""
    if number < 0.0:
        out, number = "-", -number
    rounding = 0.5
    for _ in range(digits):
        rounding /= 10.0
    number += rounding
    int_part = int(number)
    remainder = number - float(int_part)
    out += str(int_part)
    if digits > 0:
        out += "."
    for _ in range(digits):
        remainder *= 10.0
        d = int(remainder)
        out += str(d)
        remainder -= d
    return out


def int8_score(q: int, scale: float, zero_point: int) -> float:
    """`kOutputScale * static_cast<float>(q - kOutputZeroPoint)` in float32, as the sketches compute it."""
    return float(np.float32(scale) * np.float32(q - zero_point))


@dataclass(frozen=True)
class DeviceCase:
    """What the emulated board is fed, and what Python predicts it prints."""

    inputs: Inputs
    """Recorded data for the stand-ins."""
    expected_lines: list[str] | None
    """Lines the sketch must print after its 'ready' line (None: only the Invoke() outputs are compared)."""
    description: str
    """One line: what the recording is."""
    expected_inputs: tuple[bytes, ...] | None = None
    """The model input Python computes for each inference, in order (None: not predicted); the
    board's own feature code must produce these bytes."""


def inputs_matching(expected: tuple[bytes, ...] | None, invocations: list[Invocation]) -> int | None:
    """How many of the board's Invoke() inputs equal Python's features, position by position
    (None when Python predicted none). A different count of inferences can match at most the shorter."""
    if expected is None:
        return None
    return sum(inv.inputs[0] == want for inv, want in zip(invocations, expected))


def printed_results(run: Run) -> list[str]:
    """The sketch's result lines: everything after its 'ready: ...' line."""
    lines = run.lines
    for i, line in enumerate(lines):
        if line.startswith("ready"):
            return lines[i + 1:]
    return lines
