"""The real TFLM interpreter (tflite-micro from PyPI): run, measure the arena, compare with TFLite.

The arena is the total that TFLM's recording allocator reports (print_allocations),
confirmed by allocating and invoking a fresh interpreter with exactly that arena. The
host build is 64-bit with reference kernels, so export adds a stated margin for the target.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from tinyml.errors import ModelError, VerifyError

ARENA_ALIGN = 16
ARENA_SEARCH_LIMIT = 16 * 1024 * 1024
ARENA_METHOD = "TFLM print_allocations total, confirmed by allocating and invoking with exactly that arena"


@contextlib.contextmanager
def captured_native_output():
    """Collect what the C++ interpreter prints on fd 1/2 so it does not spill onto the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        box = {"text": ""}
        try:
            yield box
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            box["text"] = sink.read().decode("utf-8", "replace")


def _runtime():
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def _try_interpreter(model: bytes, arena: int, invoke: bool):
    runtime = _runtime()
    with captured_native_output() as out:
        try:
            interp = runtime.Interpreter.from_bytes(model, arena_size=arena)
            if invoke:
                for i, zero in enumerate(_zero_inputs(interp)):
                    interp.set_input(zero, i)
                interp.invoke()
        except (RuntimeError, ValueError):
            interp = None
    return interp, out["text"]


def _zero_inputs(interp):
    i = 0
    while True:
        try:
            d = interp.get_input_details(i)
        except (IndexError, RuntimeError, ValueError):
            return
        if d is None:
            return
        yield np.zeros(d["shape"], dtype=d["dtype"])
        i += 1


_SAFE: set[str] = set()


def _in_child(work) -> int:
    """Run work() -> exit code in a forked, silenced child; returns its wait status. A native crash or
    abort there is an answer for the parent, not the end of the process."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's stack
        code = 1
        try:
            import faulthandler

            faulthandler.disable()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = work()
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


def trust(model: bytes) -> None:
    """Skip the forked load check for bytes this process's own converter just wrote: they are not
    untrusted input, and a child forked from a process whose TensorFlow threads are running (right
    after training) can crash on its own, which would read as a damaged model."""
    import hashlib

    _SAFE.add(hashlib.sha256(model).hexdigest())


def require_loads_safely(model: bytes) -> None:
    """Ask a forked child to load and invoke the model in TFLM and LiteRT first: a damaged file that
    crashes native code then costs the child, and the user gets one line instead of a core dump."""
    import hashlib

    key = hashlib.sha256(model).hexdigest()
    if key in _SAFE or not hasattr(os, "fork"):
        return

    def load() -> int:
        try:
            interp, _ = _try_interpreter(model, max(1 << 20, 4 * len(model)), invoke=True)
            if interp is not None:
                litert_interpreter(model).invoke()
        except BaseException:  # a Python-level refusal is for the parent to report properly
            pass
        return 0

    status = _in_child(load)
    if os.WIFSIGNALED(status):
        raise ModelError(f"the TFLite runtime crashed reading this model (signal {os.WTERMSIG(status)}); the file is "
                         "damaged or hostile; re-export it from the converter")
    _SAFE.add(key)


def measure_arena(model: bytes) -> int:
    """Smallest tensor arena (bytes, 16-byte aligned) in which TFLM allocates and invokes the model.

    The interpreter is built once with a generous arena and its RecordingMicroAllocator
    reports the total it used (print_allocations). That size is then confirmed by building
    and invoking a fresh interpreter with exactly that arena, stepping up only if needed.
    Sizes below the recorded total are never probed: TFLM can crash on some failed
    allocation paths instead of returning an error.
    """
    require_loads_safely(model)
    size = max(4096, _align(len(model)))
    interp, log = _try_interpreter(model, size, invoke=True)
    while interp is None:
        missing = _missing_op(log)
        if missing:
            raise ModelError(missing)
        if size >= ARENA_SEARCH_LIMIT:
            raise ModelError(
                f"TFLM could not allocate the model even with a {ARENA_SEARCH_LIMIT // (1024 * 1024)} MB arena: "
                + (_last_line(log) or "unknown error")
            )
        size *= 2
        interp, log = _try_interpreter(model, size, invoke=True)
    with captured_native_output() as out:
        interp.print_allocations()
    match = re.search(r"Arena allocation total (\d+) bytes", out["text"])
    if not match:
        raise ModelError("TFLM did not report its arena allocations; cannot measure the arena")
    arena = _align(int(match.group(1)))
    # Confirm in a forked child: on some failed allocation paths TFLM aborts the whole process
    # ("All temp buffers must be freed ..."), which a child turns into a plain "no".
    while not _works_in_child(model, arena):
        arena += ARENA_ALIGN
        if arena >= size:
            return size
    return arena


def _works_in_child(model: bytes, arena: int) -> bool:
    """Whether TFLM allocates and invokes the model in exactly `arena` bytes, asked of a child process."""
    if not hasattr(os, "fork"):
        return _try_interpreter(model, arena, invoke=True)[0] is not None
    status = _in_child(lambda: 0 if _try_interpreter(model, arena, invoke=True)[0] is not None else 1)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _align(n: int) -> int:
    return (n + ARENA_ALIGN - 1) // ARENA_ALIGN * ARENA_ALIGN


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _missing_op(log: str) -> str | None:
    for line in log.splitlines():
        if "Didn't find op" in line or "is not supported" in line or "Failed to get registration" in line:
            return f"TFLM cannot run this model: {line.strip()} (use only ops TFLM supports)"
    return None


def tflm_interpreter(model: bytes, arena: int | None = None):
    """A ready TFLM interpreter with a generous arena, for running inferences on the host."""
    require_loads_safely(model)
    size = arena if arena is not None else measure_arena(model) + 1024
    interp, log = _try_interpreter(model, size, invoke=False)
    if interp is None:
        raise ModelError(_missing_op(log) or f"TFLM failed to allocate the model: {_last_line(log)}")
    return interp


def run_tflm(interp, inputs: list[np.ndarray], n_outputs: int = 1) -> list[np.ndarray]:
    """One inference; inputs and outputs carry the batch dimension."""
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    with captured_native_output():
        interp.invoke()
    return [np.array(interp.get_output(i)) for i in range(n_outputs)]


def litert_compatible(model: bytes) -> bytes:
    """Copy of the model that the LiteRT interpreter accepts.

    Older converters (e.g. the published person_detect.tflite) store per-channel bias
    quantization on 1-D tensors with quantized_dimension=3. TFLM ignores the dimension for
    those; LiteRT rejects it. For a 1-D tensor (or a single scale) the only meaningful
    dimension is 0, so that is what the copy records. Nothing else changes.
    """
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    buf = bytearray(model)
    root = schema.Model.GetRootAsModel(buf, 0)
    for g in range(root.SubgraphsLength()):
        sg = root.Subgraphs(g)
        for t in range(sg.TensorsLength()):
            tensor = sg.Tensors(t)
            q = tensor.Quantization()
            if q is None or (q.ScaleLength() > 1 and tensor.ShapeLength() > 1):
                continue
            off = q._tab.Offset(16)  # vtable slot of quantized_dimension
            if off and q.QuantizedDimension() != 0:
                struct.pack_into("<i", buf, q._tab.Pos + off, 0)
    return bytes(buf)


def litert_interpreter(model: bytes):
    """LiteRT interpreter with reference kernels, which TFLM's kernels are meant to match bit for bit."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interp = Interpreter(
            model_content=litert_compatible(model),
            experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        )
        interp.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"TFLite could not load the model: {str(exc).splitlines()[0][:200]}") from None
    return interp


def run_litert(interp, inputs: list[np.ndarray]) -> list[np.ndarray]:
    try:
        for d, x in zip(interp.get_input_details(), inputs):
            interp.set_tensor(d["index"], x)
        interp.invoke()
        return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]
    except (RuntimeError, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"TFLite could not run the model: {str(exc).splitlines()[0][:200]}") from None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of comparing TFLM and TFLite on the same int8 inputs."""

    compared: int
    """Number of input examples run through both interpreters."""
    mismatches: int
    """Examples whose int8 outputs differ in any element."""
    max_abs_diff: int
    """Largest element-wise difference seen, in int8 steps."""
    source: str
    """'random' (uniform int8, seeded) or 'given' (caller's validation inputs)."""

    def as_dict(self) -> dict:
        return {
            "compared": self.compared,
            "mismatches": self.mismatches,
            "max_abs_diff": self.max_abs_diff,
            "source": self.source,
        }


def random_inputs(model: bytes, count: int, seed: int = 0, info=None) -> list[list[np.ndarray]]:
    """Seeded uniform inputs covering the full int8 range, one list per example."""
    from tinyml.modelinfo import read_model

    info = info or read_model(model)
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(count):
        ex = []
        for t in info.inputs:
            dt = np.dtype(t.dtype)
            lim = np.iinfo(dt) if dt.kind in "iu" else None
            if lim is None:
                ex.append(rng.standard_normal(t.shape).astype(dt))
            else:
                ex.append(rng.integers(lim.min, int(lim.max) + 1, size=t.shape, dtype=dt))
        examples.append(ex)
    return examples


def verify(model: bytes, examples: list[list[np.ndarray]] | None = None, count: int = 50, seed: int = 0,
           arena: int | None = None, info=None) -> VerifyResult:
    """Run the same int8 inputs through TFLM and LiteRT (reference kernels) and require identical outputs."""
    from tinyml.modelinfo import read_model

    info = info or read_model(model)
    n_outputs = len(info.outputs)
    source = "given" if examples is not None else "random"
    if examples is None:
        examples = random_inputs(model, count, seed, info)
    micro = tflm_interpreter(model, arena)
    lite = litert_interpreter(model)
    mismatches = 0
    worst = 0
    for ex in examples:
        a = run_tflm(micro, ex, n_outputs)
        b = run_litert(lite, ex)
        diff = max((_difference(x, y) for x, y in zip(a, b)), default=0)
        if diff or len(a) != len(b):
            mismatches += 1
        worst = max(worst, diff)
    return VerifyResult(compared=len(examples), mismatches=mismatches, max_abs_diff=worst, source=source)


def _difference(x: np.ndarray, y: np.ndarray) -> int:
    """Largest element difference in int steps; outputs of different shapes differ by the full range."""
    if x.size != y.size:
        return 255
    if not x.size:
        return 0
    return int(np.max(np.abs(x.reshape(-1).astype(np.int32) - y.reshape(-1).astype(np.int32))))


# LiteRT's reference kernels and TFLM round some int8 steps differently (seen on FULLY_CONNECTED,
# CONV_2D and DEPTHWISE_CONV_2D of trained models: 1-5 steps on about 1 % of random inputs). The board
# runs TFLM, which is what training scored and what the emulated board matches byte for byte, so
# export accepts differences up to this many steps (saying so) and refuses larger ones.
EXPORT_TOLERANCE_STEPS = 8


def check_for_export(result: VerifyResult) -> str | None:
    """None when TFLM and TFLite agree; a one-line note for rounding-sized differences; raises for more."""
    if not result.mismatches:
        return None
    if result.max_abs_diff > EXPORT_TOLERANCE_STEPS or not result.compared:
        require_identical(result)
    return (f"TFLite's reference kernels differ from TFLM by at most {result.max_abs_diff} int8 steps on "
            f"{result.mismatches} of {result.compared} {result.source} inputs (rounding); the board runs TFLM, "
            "which is what tinyml measured (--emulate checks the board itself)")


def require_identical(result: VerifyResult) -> None:
    if result.mismatches:
        raise VerifyError(
            f"TFLM and TFLite disagree on {result.mismatches} of {result.compared} inputs "
            f"(max difference {result.max_abs_diff} int8 steps); the board would not reproduce host results"
        )


def predict_int8(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """Raw int8 outputs (N, ...) of the first output for int8 inputs (N, ...), one TFLM inference each."""
    from tinyml.modelinfo import read_model

    info = read_model(model)
    interp = tflm_interpreter(model)
    out = np.zeros((len(inputs), *info.outputs[0].shape[1:]), dtype=np.int8)
    for i, x in enumerate(inputs):
        (y,) = run_tflm(interp, [x.reshape(info.inputs[0].shape)])
        out[i] = y.reshape(out.shape[1:])
    return out
