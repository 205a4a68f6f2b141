"""Command line: a table of subcommands, each a thin wrapper around library functions.

Heavy modules (TensorFlow, the TFLM runtime) are imported inside the command functions,
so `tinyml --help` and `tinyml capture` start fast. A TinyMLError becomes one line on
stderr and a non-zero exit; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tinyml import __version__
from tinyml.errors import TinyMLError, WeakModelError


def _labels(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",")]


def cmd_inspect(args) -> int:
    from tinyml.boards import BOARDS, get_board
    from tinyml.export.pipeline import Model, inspect_report, load_source

    model = Model.read(load_source(args.model).model, str(args.model))
    boards = [get_board(args.board)] if args.board else list(BOARDS.values())
    report = inspect_report(model.info, model.arena_measured, boards)
    if args.emulate:
        report["emulated"] = _inspect_on_board(model, get_board(args.board or "nano33ble_sense"), args.library)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    import textwrap

    def field(name: str, text: str) -> None:
        lines = textwrap.wrap(text, 67) or [""]
        print(f"{name:<13}{lines[0]}")
        for line in lines[1:]:
            print(" " * 13 + line)

    field("model", str(args.model))
    field("flash", f"{report['flash_bytes']:,} B (sha256 {report['sha256'][:16]}…)")
    field("full int8", "yes" if report["full_int8"] else "NO")
    field("ops", ", ".join(f"{op} v{v}" for op, v in report["op_versions"].items()))
    if report["custom_ops"]:
        field("custom ops", ", ".join(report["custom_ops"]))
    for kind in ("inputs", "outputs"):
        for t in report[kind]:
            shape = "x".join(str(d) for d in t["shape"])
            field(kind[:-1], f"{shape} {t['dtype']}  scale={t['scale']:.6g} zero_point={t['zero_point']}")
    field("MACs", f"{report['macs']:,}")
    field("arena", f"{report['arena_bytes']:,} B measured, {report['arena_with_margin_bytes']:,} B with the export "
                   f"margin ({report['arena_method']})")
    if "emulated" in report:
        e = report["emulated"]
        field("on the board", f"{e['invokes']['median_instructions']:,} instructions per inference ≈ "
                              f"{e['latency_ms_estimate']:.1f} ms ({e['latency_assumption']}); outputs identical to "
                              f"the host on {e['invokes']['identical']}/{e['invokes']['compared']} inputs "
                              f"({e['library']}, emulated Cortex-M4)")
    print(f"{'board':<22} {'fits':<5} {'flash used/budget B':<22} arena used/budget B")
    for key, d in report["fit_details"].items():
        print(f"{key:<22} {'yes' if d['fits'] else 'NO':<5} {d['flash_bytes']:,}/{d['flash_budget']:,}".ljust(51)
              + f" {d['arena_bytes']:,}/{d['ram_budget']:,}")
    return 0


def _inspect_on_board(model, board, library: str | None) -> dict:
    """The model in the generic sketch on the emulated board: instructions, latency, identical outputs."""
    import tempfile

    from tinyml.export.pipeline import ExportSource, build_export
    from tinyml.files import write_files

    with tempfile.TemporaryDirectory(prefix="tinyml-inspect-") as tmp:
        result = build_export(ExportSource(model.data, "generic", (), None, "inspected"), board, "inspected", None)
        write_files(Path(tmp) / "inspected", result.files)
        report = _emulate(Path(tmp) / "inspected", library, None, 0)
    return report.as_dict(board.clock_hz)


def cmd_verify(args) -> int:
    from tinyml import tflm
    from tinyml.export.pipeline import load_source
    from tinyml.modelinfo import read_model

    if args.count < 1:
        raise TinyMLError(f"--count {args.count}: compare at least 1 input")
    source = load_source(args.model)
    read_model(source.model, str(args.model))
    result = tflm.verify(source.model, count=args.count, seed=args.seed)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    tflm.require_identical(result)
    if not args.json:
        print(f"verified: TFLM and TFLite (reference kernels) gave identical int8 outputs on "
              f"{result.compared} {result.source} inputs")
    return 0


def cmd_export(args) -> int:
    from tinyml.boards import get_board
    from tinyml.export.pipeline import build_export, check_sketch_target, default_sketch_name, load_source
    from tinyml.export.sketch import arduino_commands
    from tinyml.files import output_lock
    from tinyml.modelinfo import read_model
    from tinyml.names import safe_name

    if args.verify_count < 1:
        raise TinyMLError(f"--verify-count {args.verify_count}: compare at least 1 input")
    board = get_board(args.board)
    name = safe_name(args.name, "sketch name") if args.name is not None else None
    source = load_source(args.model)
    if args.task:
        source = _as_task(source, args.task)
    read_model(source.model, str(args.model))
    if source.warnings and not args.allow_weak:
        raise WeakModelError(f"{args.model} was trained into a weak model ({source.warnings[0]}); "
                             "fix the data and retrain, or pass --allow-weak to export it anyway")
    name = name or default_sketch_name(source.stem)
    sketch_dir = Path(args.out) / name
    with output_lock(sketch_dir):
        check_sketch_target(sketch_dir, source.identity, board.key, args.overwrite)
        result = build_export(source, board, name, _labels(args.labels), verify_count=args.verify_count)
        _write_export(args, board, name, sketch_dir, result)
    v = result.verified
    print(f"wrote {sketch_dir}/ ({len(result.files)} files) for {board.title}")
    print(f"  model {result.info.flash_bytes:,} B flash, ops: {', '.join(result.info.op_names)}")
    print(f"  arena {result.arena_measured:,} B measured in TFLM; sketch reserves "
          f"{result.arena_total:,} B")
    if v.get("note"):
        import textwrap

        print(textwrap.fill(f"note: {v['note']}", 78, initial_indent="  ", subsequent_indent="    "))
    else:
        print(f"  verified: TFLM == TFLite on {v['compared']} {v['source']} inputs")
    print("build and upload with arduino-cli (or open the .ino in the Arduino IDE):")
    for line in arduino_commands(board, result.libraries, str(sketch_dir), _detected_port()):
        print(f"  {line}")
    return 0


def _write_export(args, board, name: str, sketch_dir: Path, result) -> None:
    """The sketch files, after the emulated board agreed with the host when --emulate asks it."""
    from tinyml.files import write_files, write_folder

    files = dict(result.files)
    if args.emulate:  # on a staged copy first: a sketch that computes something else is not written
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            write_files(Path(tmp) / name, files)
            report = _emulate(Path(tmp) / name, args.library, None, 0)
        _print_emulation(report, board)
        if not report.ok:
            raise TinyMLError(f"the emulated board computed something else than the host; {sketch_dir} was "
                              "not written (run `tinyml emulate` on an export without --emulate to look closer)")
        manifest = json.loads(files["manifest.json"])
        manifest["emulated"] = report.as_dict(board.clock_hz)
        files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    write_folder(sketch_dir, files)


def _detected_port() -> str | None:
    """The one Arduino-compatible board on USB, if there is exactly one."""
    from tinyml.capture.port import find_board_port

    try:
        return find_board_port()
    except TinyMLError:
        return None


def _emulate(sketch_dir, library: str | None, recording: str | None, seed: int):
    import tempfile

    from tinyml.on_board import board_library, emulate_sketch

    def progress(done, total):
        if done == 1 or done == total or done % 25 == 0:
            print(f"  building the board's TFLM library once for this machine: {done}/{total} files", flush=True)

    lib = board_library(library, progress)
    with tempfile.TemporaryDirectory(prefix="tinyml-emulate-") as work:
        return emulate_sketch(sketch_dir, lib, Path(work), recording, seed)


def _print_emulation(report, board) -> None:
    c = report.comparison
    d = report.as_dict(board.clock_hz)
    print(f"  emulated Cortex-M4 (QEMU mps2-an386) with {report.library}: {report.case}")
    print(f"    image: text {report.image.text:,} B, data {report.image.data:,} B, bss {report.image.bss:,} B "
          f"(flash {report.image.flash_bytes:,} B, RAM {report.image.ram_bytes:,} B)")
    print(f"    Invoke(): {c.identical}/{c.compared} outputs byte-identical to the host's TFLM"
          + (f" (worst difference {c.max_abs_diff} int8 steps)" if c.identical != c.compared else ""))
    if report.expected_inputs is not None:
        state = "equal to" if report.inputs_match else "DIFFERENT from"
        print(f"    model inputs from the board's feature code: {report.inputs_matching}/{c.compared} {state} "
              f"Python's {report.expected_inputs}")
    print(f"    {c.median_instructions:,} instructions per inference ≈ {d['latency_ms_estimate']:.1f} ms "
          f"({d['latency_assumption']})")
    if c.between:
        print(f"    the sketch's own work between two inferences (sensor reads, feature code, printing): median "
              f"{c.median_between:,} instructions ≈ {d['between_ms_estimate']:.1f} ms, at most "
              f"{d['invokes']['max_instructions_between']:,}"
              + (f"; one cycle ≈ {d['cycle_ms_estimate']:.1f} ms of the {report.inference_every_ms:g} ms between "
                 "inferences" if report.inference_every_ms else ""))
    if report.keeps_up(board.clock_hz) is False:
        print(f"    warning: one inference cycle takes more than the {report.inference_every_ms:g} ms between "
              "inferences: on the board the sketch cannot keep up with the live stream and input will be skipped; "
              "train a smaller model")
    if report.expected is not None:
        state = "identical to" if report.lines_match else "DIFFERENT from"
        print(f"    printed {len(report.printed)} result lines, {state} Python's {len(report.expected)}")
        if not report.lines_match:
            for got, want in zip(report.printed + [""] * 3, report.expected[:3] + [""] * 3):
                if got != want:
                    print(f"      board: {got!r}  python: {want!r}")
                    break


def cmd_emulate(args) -> int:
    from tinyml.boards import get_board

    from tinyml.on_board import read_sketch

    board_meta = read_sketch(Path(args.sketch))[0].get("board")
    manifest_board = board_meta.get("key") if isinstance(board_meta, dict) else None
    report = _emulate(Path(args.sketch), args.library, args.input, args.seed)
    board = get_board(manifest_board or "nano33ble_sense")
    if args.json:
        print(json.dumps(report.as_dict(board.clock_hz), indent=2, sort_keys=True))
    else:
        print(f"{args.sketch}:")
        _print_emulation(report, board)
    if not report.ok:
        raise TinyMLError("the emulated board computed something else than the host; do not ship this sketch")
    return 0


def _as_task(source, task_name: str):
    """A bare .tflite exported with a task's sketch (e.g. the published person detector + camera)."""
    from dataclasses import replace

    from tinyml.tasks import get_task

    if source.config is not None:
        raise TinyMLError("--task is for a bare .tflite; a run folder already names its task")
    task = get_task(task_name)
    cfg = task.default_config()
    labels = tuple(cfg.labels) if cfg is not None else ()
    return replace(source, task=task.name, labels=labels)


def cmd_quantize(args) -> int:
    import zipfile

    import numpy as np

    from tinyml.quantize import accuracy_report, quantize

    from tinyml.files import MB, require_regular

    require_regular(args.data, "an .npz with an 'x' array", 4096 * MB)
    try:
        data = np.load(args.data)
        x = data["x"]
        y = data["y"] if "y" in data.files else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise TinyMLError(f"{args.data}: need an .npz with an 'x' array (and optional 'y' labels): {exc}") from None
    import keras

    try:
        model = keras.saving.load_model(args.model, compile=False)
    except Exception as exc:  # keras raises many types for a bad file
        raise TinyMLError(f"{args.model}: cannot load the Keras model ({str(exc).splitlines()[0][:200]})") from None
    x, y = _check_quantize_data(args.data, model, x, y)
    if args.samples < 1:
        raise TinyMLError(f"--samples {args.samples}: calibrate on at least 1 sample")
    tflite = quantize(model, x[: args.samples])
    report = accuracy_report(model, tflite, x, y)
    from tinyml.files import write_bytes_atomic

    write_bytes_atomic(Path(args.out), tflite)
    report["flash_bytes"] = len(tflite)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def _check_quantize_data(path, model, x, y):
    """x: finite numbers shaped like the model's input; y (optional): one class index per row."""
    import numpy as np

    if not np.issubdtype(x.dtype, np.number) or x.ndim < 1 or len(x) == 0:
        raise TinyMLError(f"{path}: 'x' must be a non-empty numeric array (got {x.dtype} {list(x.shape)})")
    if not np.isfinite(x).all():
        raise TinyMLError(f"{path}: 'x' has NaN or infinite values; clean the data before calibrating")
    want = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if want is not None and (len(want) != x.ndim - 1 or any(w not in (None, g) for w, g in zip(want, x.shape[1:]))):
        raise TinyMLError(f"{path}: 'x' rows are {list(x.shape[1:])} but the model takes {list(want)}")
    if y is not None:
        classes = int(model.output_shape[-1]) if not isinstance(model.output_shape, list) else None
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),) or \
                (classes and len(y) and not (0 <= y.min() and y.max() < classes)):
            raise TinyMLError(f"{path}: 'y' must hold one class index (0..{(classes or 1) - 1}) per row of 'x'")
    return x.astype(np.float32), y


def cmd_train(args) -> int:
    from dataclasses import replace

    from tinyml.config import apply_sets
    from tinyml.run import write_run
    from tinyml.tasks import get_task

    task = get_task(args.task)
    if not task.trains:
        raise TinyMLError(f"task '{args.task}' has no trainer")
    if args.list_config:
        return _list_config(task.default_config(), task.synthetic_config())
    if not args.out:
        raise TinyMLError("train needs --out RUN (the run folder to write)")
    cfg = apply_sets(task.default_config() if args.data else task.synthetic_config(), args.set)
    if args.init_from:
        if not task.accepts_init_from:
            raise TinyMLError(f"task '{task.name}' cannot start from a .tflite (--init-from)")
        cfg = replace(cfg, init_from=str(args.init_from))
    task.check_config(cfg)
    from tinyml.files import check_output_folder, output_lock

    check_output_folder(Path(args.out), "run.json")  # before any work, not after an hour of training
    with output_lock(Path(args.out)):
        result = _train_from_args(args, task, cfg)
        write_run(Path(args.out), result.run, result.model)
    r = result.report
    print(f"wrote {args.out}/")
    print(f"  float acc {r['float_accuracy']:.3f}, int8 acc {r['int8_accuracy']:.3f} (TFLM), {r['flash_bytes']:,} B "
          f"flash, arena {r['arena_bytes']:,} B")
    if r.get("validation", "held-out part") == "held-out part":
        print(f"  kept epoch {r['kept_epoch']} of {r['epochs']} (best validation accuracy), {r['total_seconds']} s")
    else:  # few recordings: no epoch was chosen on held-out data
        print(f"  accuracy from {r['validation']}; then {r['epochs']} epochs on all of them, {r['total_seconds']} s")
    return _weak_exit(r["warnings"], args.allow_weak)


def _train_from_args(args, task, cfg):
    """Load --data (or generate the synthetic data) and train."""
    from tinyml.train import train_task

    if args.data:
        samples = task.load_many(args.data, cfg)
    else:
        reason = task.needs_real_data(cfg)
        if reason:
            raise TinyMLError(f"no --data given: {reason}")
        if not 1 <= args.synthetic <= 100_000:
            raise TinyMLError(f"--synthetic {args.synthetic}: give 1 to 100000 examples per class")
        print(f"no --data: training on the embedded synthetic data ({args.synthetic} per class)")
        samples = task.synthetic(cfg, args.synthetic, cfg.seed)
    return train_task(task, cfg, samples, show_epochs=True)


def _warn(text: str) -> None:
    """A warning wrapped to the terminal (80 columns when unknown)."""
    import shutil
    import textwrap

    width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    print(textwrap.fill(f"warning: {text}", width, subsequent_indent="  "), file=sys.stderr)


def _list_config(cfg, synthetic=None) -> int:
    """Every --set key with its type, default and docstring, wrapped to 80 columns; then the keys
    the synthetic config (training without --data) sets otherwise."""
    import textwrap

    from tinyml.config import describe

    def shown(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else value

    rows = describe(cfg)
    for key, kind, default, doc in rows:
        print(f"{key} = {shown(default)}  ({kind})")
        for line in textwrap.wrap(doc, 76):
            print(f"    {line}")
    if synthetic is not None:
        default = {key: value for key, _, value, _ in rows}
        changed = [f"{key}={shown(value)}" for key, _, value, _ in describe(synthetic) if default.get(key) != value]
        if changed:
            print("\n".join(textwrap.wrap("without --data, training on the synthetic data starts from: "
                                           + ", ".join(changed), 80)))
    return 0


def _weak_exit(warnings: list[str], allow_weak: bool) -> int:
    """Print the truth guards' warnings; a weak model is an error unless the user accepts it."""
    for warning in warnings:
        _warn(warning)
    if warnings and not allow_weak:
        raise WeakModelError(f"{len(warnings)} warning(s) above: this model should not ship (the run is kept "
                             "for inspection; export refuses it); fix the data, or pass --allow-weak")
    return 0


def _evaluation_source(args):
    """A run folder, or a bare .tflite scored as --task's model (e.g. a published one) with --labels."""
    from dataclasses import replace

    from tinyml.modelinfo import load_model_bytes, read_model
    from tinyml.run import Run, is_run_dir, read_run
    from tinyml.tasks import get_task

    if is_run_dir(Path(args.run)):
        if args.task:
            raise TinyMLError("--task is for a bare .tflite; a run folder already names its task")
        return read_run(Path(args.run))
    if not args.task:
        raise TinyMLError(f"{args.run} is not a run folder; to score a bare .tflite, say which task's data it "
                          "reads with --task (and its class order with --labels)")
    task = get_task(args.task)
    if not task.trains:
        raise TinyMLError(f"task '{task.name}' has no data loader; choose a task whose data the model reads")
    model = load_model_bytes(args.run)
    info = read_model(model, str(args.run))
    info.require_full_int8()
    cfg = task.default_config()
    import dataclasses

    labels = _labels(args.labels)
    if labels:
        if "labels" not in {f.name for f in dataclasses.fields(cfg)}:
            raise TinyMLError(f"task '{task.name}' derives its classes from its settings; use --set "
                              "(see `tinyml train TASK --list-config`) instead of --labels")
        cfg = replace(cfg, labels=tuple(labels))
    if len(task.labels(cfg)) != info.outputs[0].elements:
        raise TinyMLError(f"the model has {info.outputs[0].elements} outputs but task '{task.name}' has "
                          f"{len(task.labels(cfg))} classes ({', '.join(task.labels(cfg))}); pass --labels in output order")
    return Run(task=task.name, config=cfg, model=model, report={}, history={})


def cmd_evaluate(args) -> int:
    from tinyml.config import apply_sets
    from tinyml.fit import evaluate_int8
    from tinyml.tasks import get_task

    run = _evaluation_source(args)
    task = get_task(run.task)
    cfg = apply_sets(run.config, args.set)  # e.g. the data's units/rate; model settings come from the run
    if args.stream:
        report = task.evaluate_stream(run.model, cfg, Path(args.stream), Path(args.truth) if args.truth else None)
        if args.json:
            print(json.dumps(report, indent=2, sort_keys=True))
        else:
            print(f"{report['hits']} of {report['words']} words detected, {report['misses']} missed, "
                  f"{report['false_accepts']} false accepts ({report['false_accepts_per_hour']:.1f} per hour) "
                  f"in {report['seconds'] / 60:.1f} min")
        return 0
    if not args.data:
        raise TinyMLError("pass --data DIR (a dataset) or --stream FILE.wav (a long recording)")
    samples = task.load_for_scoring(args.data, cfg)
    x, y = task.examples(samples, cfg, 0, cfg.seed)
    from tinyml.guards import score_warnings

    result = evaluate_int8(task, run.model, x, y, task.labels(cfg))
    result.pop("scores")
    result["data"] = ", ".join(map(str, args.data))
    result["warnings"] = score_warnings(list(task.labels(cfg)), result["confusion"], result["accuracy"])
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(f"int8 accuracy {result['accuracy']:.3f} on {result['samples']} samples from {result['data']}")
        for label, recall in result["per_class_recall"].items():
            if recall is None:
                continue  # not in this data
            print(f"  {label:<12} recall {recall:.3f}")
        present = [k for k, v in result["per_class_recall"].items() if v is not None]
        if len(present) == 1:
            print(f"  only '{present[0]}' in the data: {1 - result['accuracy']:.3f} of its windows were read as "
                  "another class (false-positive rate)")
    for warning in result["warnings"]:
        _warn(warning)
    return 0


def cmd_capture(args) -> int:
    from tinyml.capture.port import find_board_port, list_ports, open_port

    if args.list:
        ports = list_ports()
        if not ports:
            print("no serial ports found")
        for p in ports:
            ids = f"{p['vid']:04x}:{p['pid']:04x}" if p["vid"] is not None else "-"
            print(f"{p['device']:<24} {ids:<10} {p['board'] or '':<10} {p['description']}")
        return 0
    if not args.task or not args.label:
        raise TinyMLError("capture needs --task and --label (or --list)")
    import math

    if args.count < 1:
        raise TinyMLError(f"--count {args.count}: record at least 1 sample")
    if not (math.isfinite(args.seconds) and 0 < args.seconds <= 3600):
        raise TinyMLError(f"--seconds {args.seconds}: a sample lasts more than 0 and at most 3600 s")
    if args.plain and not 1 <= args.plain_axes <= 64:
        raise TinyMLError(f"--plain-axes {args.plain_axes}: the numbers per line, 1 to 64")
    from tinyml.capture.session import CaptureOptions
    from tinyml.tasks import all_tasks, get_task

    task = get_task(args.task)
    if task.capture_kind is None:
        names = ", ".join(t.name for t in all_tasks() if t.capture_kind is not None)
        raise TinyMLError(f"task '{args.task}' records nothing from a board; choose one of: {names}")
    path = find_board_port() if args.port == "auto" else args.port
    countdown = args.countdown if args.countdown is not None else (3 if sys.stdin.isatty() else 0)
    opts = CaptureOptions(task=args.task, label=args.label, out_dir=Path(args.out or f"datasets/{args.task}"),
                          count=args.count, seconds=args.seconds, person=args.person, plain=args.plain,
                          plain_axes=args.plain_axes, plain_units=args.plain_units, countdown=countdown,
                          pause=args.pause, sensor_kind=task.capture_kind)
    summary = _capture_until_stopped(opts, lambda: open_port(path, args.baud))
    print(f"done: {summary['kept']} samples kept, {summary.get('discarded', 0)} partial discarded, "
          f"{summary.get('rejected_lines', 0)} bad lines")
    print(f"in {opts.out_dir / opts.label}/")
    return 130 if summary.get("interrupted") else 0


def _capture_until_stopped(opts, opener) -> dict:
    """run_capture with SIGTERM treated like Ctrl-C, so the board is told to STOP either way."""
    import signal

    from tinyml.capture.session import run_capture

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return run_capture(opts, opener)
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_demo(args) -> int:
    from tinyml.demo import run_demo

    rows = run_demo(Path(args.out), quick=args.quick)
    return _weak_exit([f"{row['task']}: {w}" for row in rows for w in row["warnings"]], args.allow_weak)


class _DefaultsShown(argparse.HelpFormatter):
    """Help that states each option's default, where it has a meaningful one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS, []) and "%(default)" not in text \
                and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsShown)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    from tinyml.boards import BOARDS
    from tinyml.tasks import NAMES, all_tasks

    p = argparse.ArgumentParser(
        prog="tinyml",
        description="Sensor data to full-int8 TensorFlow Lite Micro models and Arduino sketches.",
    )
    p.add_argument("--version", action="version", version=f"tinyml {__version__}")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's own log lines")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("demo", help="the main job: build example models and sketches into build/")
    s.add_argument("--out", default="build", help="output folder (default: build)")
    s.add_argument("--quick", action="store_true", help="smoke-test size: fewer samples and epochs")
    s.add_argument("--allow-weak", action="store_true",
                   help="exit 0 even when a model is no better than guessing or misses a class")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("train", help="train a task's model → RUN/ (int8 model, config, report, plots)")
    s.add_argument("task", choices=NAMES, metavar="TASK",
                   help="; ".join(f"{t.name}: {t.description}" for t in all_tasks() if t.trains))
    s.add_argument("--data", action="append", metavar="DIR",
                   help="dataset folder; repeat to combine folders, e.g. clips + extra words + noise "
                        "(default: the embedded synthetic data)")
    s.add_argument("--out", help="run folder to write")
    s.add_argument("--list-config", action="store_true",
                   help="print every --set key with its type, default and meaning, then exit")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config field, e.g. --set epochs=10 --set data_format.rate_hz=100")
    s.add_argument("--synthetic", type=int, default=100, help="synthetic examples per class without --data")
    s.add_argument("--init-from", help="start from this int8 .tflite's weights instead of the task's shipped base: an earlier run's "
                        "model.tflite, or the published person_detect.tflite (--set init_from= starts from random weights)")
    s.add_argument("--allow-weak", action="store_true",
                   help="exit 0 even when the model is no better than guessing, misses a class, or the split "
                        "leaves a class without examples")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("evaluate", help="score an int8 model (in TFLM) on a dataset")
    s.add_argument("run", help="run folder from `tinyml train`, or a .tflite with --task")
    s.add_argument("--task", choices=NAMES, metavar="TASK", help="for a bare .tflite: the task whose data it reads")
    s.add_argument("--labels", help="for a bare .tflite: comma-separated class labels in output order")
    s.add_argument("--data", action="append", metavar="DIR",
                   help="dataset folder in a format the task loads (repeat to combine folders)")
    s.add_argument("--stream", help="long WAV recording to run as the device would (micro_speech)")
    s.add_argument("--truth", help="ground truth 'word,start_ms' CSV for --stream (default: FILE.csv)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="describe the data, e.g. --set data_format.rate_hz=100 --set data_format.units=mg")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("capture", help="record labelled samples from a board over serial")
    s.add_argument("--list", action="store_true", help="list serial ports and exit")
    s.add_argument("--port", default="auto", help="serial port path, or auto (Arduino USB ids)")
    s.add_argument("--baud", type=int, default=115200)
    s.add_argument("--task", choices=NAMES, metavar="TASK", help="task whose data you record: " + ", ".join(NAMES))
    s.add_argument("--label", help="class label of what you record")
    s.add_argument("--count", type=int, default=10, help="samples to record")
    s.add_argument("--seconds", type=float, default=2.0, help="length of one motion/audio sample")
    s.add_argument("--person", default="me", help="who records (for recorder-disjoint splits)")
    s.add_argument("--out", help="dataset folder (default datasets/<task>)")
    s.add_argument("--plain", action="store_true", help="plain CSV lines from another sketch (IMU_Capture etc.)")
    s.add_argument("--plain-axes", type=int, default=6, help="numbers per line in --plain mode")
    s.add_argument("--plain-units", default="g", help="accelerometer units in --plain mode")
    s.add_argument("--countdown", type=int, help="seconds counted down before each sample "
                                                 "(default: 3 in a terminal, 0 when piped)")
    s.add_argument("--pause", type=float, default=0.0, help="seconds of rest between samples (default 0)")
    s.set_defaults(func=cmd_capture)

    s = sub.add_parser("quantize", help="Keras model + representative data → full-int8 .tflite")
    s.add_argument("model", help="Keras model file (.keras)")
    s.add_argument("--data", required=True, help=".npz with 'x' (float inputs) and optional 'y' (labels)")
    s.add_argument("--out", required=True, help="output .tflite path")
    s.add_argument("--samples", type=int, default=500, help="representative samples used for calibration")
    s.set_defaults(func=cmd_quantize)

    s = sub.add_parser("inspect", help="flash, ops, tensors, MACs, measured arena and board fit of a .tflite")
    s.add_argument("model", help=".tflite file or training run folder")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--board", metavar="BOARD", help="check only this board profile: " + ", ".join(BOARDS))
    s.add_argument("--emulate", action="store_true",
                   help="also run the model on the emulated Cortex-M4: instructions and latency per inference")
    s.add_argument("--library", help="Chirale_TensorFlowLite folder or .tar.gz for --emulate")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("verify", help="require identical int8 outputs from TFLM and TFLite")
    s.add_argument("model", help=".tflite file or training run folder")
    s.add_argument("--count", type=int, default=50, help="number of random int8 inputs (default 50)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("export", help="write an Arduino sketch folder OUT/NAME/ for a board")
    s.add_argument("model", help=".tflite file or training run folder")
    s.add_argument("--board", required=True, metavar="BOARD", help="board profile: " + ", ".join(BOARDS))
    s.add_argument("--out", required=True, help="folder that receives the sketch folder")
    s.add_argument("--name", help="sketch name (letters, digits, '_'); default from the model")
    s.add_argument("--labels", help="comma-separated class labels in output order")
    s.add_argument("--task", help="for a bare .tflite: render this task's sketch (e.g. person_detection)")
    s.add_argument("--verify-count", type=int, default=20, help="random inputs compared TFLM vs TFLite")
    s.add_argument("--emulate", action="store_true",
                   help="also build the sketch for a Cortex-M4 and run it in QEMU against the board's TFLM library")
    s.add_argument("--library", help="Chirale_TensorFlowLite folder or .tar.gz for --emulate")
    s.add_argument("--allow-weak", action="store_true",
                   help="export a run even though training flagged its model as weak")
    s.add_argument("--overwrite", action="store_true",
                   help="replace a sketch folder edited by hand, or one exported from another model or for another "
                        "board (files you added to the folder are kept)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("emulate", help="run an exported sketch on an emulated Cortex-M4 and compare with the host")
    s.add_argument("sketch", help="sketch folder written by `tinyml export`")
    s.add_argument("--input", help="recording to feed: WAV (speech), motion file or folder, images, "
                                   "or Serial lines (generic); default: the task's synthetic data")
    s.add_argument("--library", help="Chirale_TensorFlowLite folder or .tar.gz (default: $TINYML_TFLM_LIBRARY, "
                                     "then ~/Arduino/libraries/Chirale_TensorFlowLite)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_emulate)
    for task in all_tasks():  # subcommands a task brings (e.g. building a test set from its data)
        for command in task.commands():
            s = sub.add_parser(command.name, help=command.help)
            command.add_arguments(s)
            s.set_defaults(func=command.run)
    return p


def main(argv: list[str] | None = None) -> int:
    import os
    import warnings

    from tinyml.logfilter import filtered_stderr

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not args.verbose:
        # TensorFlow's start-up and runtime chatter is not for users; --verbose shows it
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore", module=r"(tensorflow|keras|tf_keras|absl)(\.|$)")
    with filtered_stderr(enabled=not args.verbose):
        return _run(args)


def _run(args) -> int:
    try:
        return args.func(args)
    except TinyMLError as exc:
        print(f"tinyml: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tinyml: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the last net for the file system: a full disk, a folder given as a file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tinyml: error: {where}{exc.strerror or exc}; check the path and free space", file=sys.stderr)
        return 1
    except MemoryError:
        print("tinyml: error: out of memory; use less data (or fewer --synthetic examples)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
