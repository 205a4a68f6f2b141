"""Inspect and export as value pipelines: model bytes in, a report or a file map out.

Each step is a separate function; the CLI adds reading and writing around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyml.boards import BOARDS, Board, arena_with_margin
from tinyml.errors import BudgetError
from tinyml.export.sketch import check_labels, sketch_files
from tinyml.modelinfo import ModelInfo, load_model_bytes, read_model
from tinyml.tasks import get_task
from tinyml.tflm import ARENA_METHOD


@dataclass(frozen=True)
class Model:
    """A model as export and inspect use it: parsed once, its arena measured once."""

    data: bytes
    """The .tflite bytes."""
    info: ModelInfo
    """What the flatbuffer says."""
    arena_measured: int
    """Tensor arena measured in the TFLM interpreter."""

    @property
    def arena_total(self) -> int:
        """What the sketch reserves: measured plus the stated margin."""
        return arena_with_margin(self.arena_measured)

    @classmethod
    def read(cls, data: bytes, source: str = "the model") -> "Model":
        from tinyml import tflm

        info = read_model(data, source)
        return cls(data=data, info=info, arena_measured=tflm.measure_arena(data))


def board_fit(board: Board, flash: int, arena_measured: int) -> dict:
    arena_total = arena_with_margin(arena_measured)
    return {
        "fits": flash <= board.model_flash_budget and arena_total <= board.model_ram_budget,
        "flash_bytes": flash,
        "flash_budget": board.model_flash_budget,
        "arena_bytes": arena_total,
        "ram_budget": board.model_ram_budget,
    }


def inspect_report(info: ModelInfo, arena_measured: int, boards: list[Board] | None = None) -> dict:
    """The facts `tinyml inspect` prints; keys flash_bytes, arena_bytes, ops, inputs, outputs, fits always present."""
    boards = boards if boards is not None else list(BOARDS.values())
    details = {b.key: board_fit(b, info.flash_bytes, arena_measured) for b in boards}
    return {
        "flash_bytes": info.flash_bytes,
        "arena_bytes": arena_measured,
        "arena_method": ARENA_METHOD,
        "arena_with_margin_bytes": arena_with_margin(arena_measured),
        "ops": info.op_names,
        "op_versions": {op.name: op.version for op in info.ops},
        "custom_ops": list(info.custom_ops),
        "inputs": [t.as_dict() for t in info.inputs],
        "outputs": [t.as_dict() for t in info.outputs],
        "macs": info.macs,
        "full_int8": info.is_full_int8(),
        "sha256": info.sha256,
        "fits": {key: d["fits"] for key, d in details.items()},
        "fit_details": details,
    }


def require_fit(board: Board, flash: int, arena_measured: int) -> None:
    fit = board_fit(board, flash, arena_measured)
    if fit["flash_bytes"] > fit["flash_budget"]:
        raise BudgetError(
            f"the model needs {flash} B of flash but {board.title} leaves {board.model_flash_budget} B for it; "
            "shrink the model or pick a bigger board"
        )
    if fit["arena_bytes"] > fit["ram_budget"]:
        raise BudgetError(
            f"the model needs a {fit['arena_bytes']} B tensor arena (measured {arena_measured} B + margin) but "
            f"{board.title} leaves {board.model_ram_budget} B of RAM for it; shrink the model or pick a bigger board"
        )


SENSOR_WORDS = {"imu": "IMU (accelerometer)", "mic": "microphone", "camera": "camera this sketch drives (OV767X)"}


def require_sensors(board: Board, roles: tuple[str, ...], task: str) -> None:
    """Refuse up front a task sketch for a board without the sensor it reads, naming the boards that
    have it and the generic sketch, which runs the same model on any board."""
    missing = [role for role in roles if role not in board.sensors]
    if not missing:
        return
    from tinyml.errors import TinyMLError

    able = [b.key for b in BOARDS.values() if all(role in b.sensors for role in roles)]
    raise TinyMLError(
        f"the {board.title} has no {' or '.join(SENSOR_WORDS.get(r, r) for r in missing)} for the {task} sketch; "
        f"export for {' or '.join(able) or 'another board'}, or export the bare model.tflite of the run for this board "
        "(the generic sketch reads its inputs over Serial)")


@dataclass(frozen=True)
class ExportSource:
    """What export starts from: a bare .tflite, or a training run folder with its config."""

    model: bytes
    """The .tflite bytes."""
    task: str
    """Registry name of the task ('generic' for a bare model)."""
    labels: tuple[str, ...]
    """Labels recorded by training, empty when unknown."""
    config: object | None
    """The run's typed config, or None for a bare model."""
    stem: str
    """Default sketch name source (file or folder name)."""
    warnings: tuple[str, ...] = ()
    """The truth guards' warnings recorded by training (a weak model); empty for a bare model."""

    @property
    def identity(self) -> dict:
        """What the sketch was exported from, as its manifest records it."""
        return {"kind": "run" if self.config is not None else "model file", "name": self.stem}

    @classmethod
    def from_run(cls, run, stem: str) -> "ExportSource":
        warnings = run.report.get("warnings") if isinstance(run.report, dict) else None
        warnings = tuple(str(w) for w in warnings) if isinstance(warnings, list) else ()
        return cls(model=run.model, task=run.task, labels=run.labels, config=run.config, stem=stem,
                   warnings=warnings)


def load_source(path: str | Path) -> ExportSource:
    """Read MODEL.tflite, or RUN/ (written by `tinyml train`)."""
    from tinyml.errors import ModelError
    from tinyml.run import is_run_dir, read_run

    p = Path(path)
    if p.is_dir():
        if not is_run_dir(p):
            raise ModelError(f"{p} is a folder without run.json; pass a .tflite file or a `tinyml train` run folder")
        # the sketch is named after the run folder, so two runs of one task export side by side
        return ExportSource.from_run(read_run(p), p.resolve().name)
    return ExportSource(model=load_model_bytes(p), task="generic", labels=(), config=None, stem=p.stem)


def check_sketch_target(sketch_dir: Path, identity: dict, board_key: str, overwrite: bool = False) -> None:
    """Refuse, before any work, to replace a sketch folder that holds something else than an older
    export of this source for this board, or that was edited by hand; `overwrite` replaces those.
    Files the user added to the folder are kept either way (see files.staged_folder). `identity` is
    ExportSource.identity."""
    import json

    from tinyml.errors import TinyMLError
    from tinyml.files import check_output_folder, edited_files

    sketch_dir = Path(sketch_dir)
    check_output_folder(sketch_dir, "manifest.json")
    if overwrite or not (sketch_dir / "manifest.json").is_file():
        return
    try:
        manifest = json.loads((sketch_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    manifest = manifest if isinstance(manifest, dict) else {}
    old, new = manifest.get("source"), identity
    if isinstance(old, dict) and old != new:
        raise TinyMLError(
            f"{sketch_dir} holds the sketch exported from the {old.get('kind')} '{old.get('name')}', and this "
            f"{new['kind']} '{new['name']}' would get the same sketch name; pass --name OTHER to export it beside "
            "that one, or --overwrite to replace it")
    board = manifest.get("board")
    old_board = board.get("key") if isinstance(board, dict) else None
    if old_board and old_board != board_key:
        raise TinyMLError(f"{sketch_dir} holds this model's sketch for {old_board}; pass --name "
                          f"{sketch_dir.name}_{board_key} to keep both boards' sketches, or --overwrite to replace it")
    edited = edited_files(sketch_dir, "manifest.json")
    if edited:
        raise TinyMLError(f"{sketch_dir}: {', '.join(edited)} changed since tinyml exported it (edited by hand); "
                          "to keep the edits copy the folder elsewhere or export under another --name; "
                          "--overwrite replaces them")


def default_sketch_name(stem: str) -> str:
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in stem)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "model_" + cleaned
    return cleaned[:63]


@dataclass(frozen=True)
class ExportResult:
    """Everything export computed, ready to be written."""

    files: dict
    """{relative path: text} of the sketch folder."""
    info: ModelInfo
    """The model as read from its flatbuffer."""
    arena_measured: int
    """Arena measured in the TFLM interpreter."""
    arena_total: int
    """What the sketch reserves (measured + margin)."""
    verified: dict
    """TFLM vs TFLite comparison (compared, mismatches...)."""
    libraries: list
    """Arduino libraries the sketch needs."""
    fits: dict
    """Board key → whether the model fits that board's budgets."""


def build_export(source: ExportSource, board: Board, name: str, labels: list[str] | None,
                 verify_count: int = 20, seed: int = 0) -> ExportResult:
    """Check, measure, verify and render; raises a one-line TinyMLError on anything unfit."""
    from tinyml import tflm
    from tinyml.budgets import check_budget
    from tinyml.export.resolver import resolver_methods

    info = read_model(source.model)
    info.require_full_int8()
    board.tflm.check(info)
    task = get_task(source.task)
    firmware = task.firmware(source.config, info)
    require_sensors(board, firmware.sensor_roles, task.name)
    labels = check_labels(labels or list(source.labels), info.outputs[0].elements)
    resolver_methods(info)  # refuse unsupported ops before spending time in interpreters
    model = Model(data=source.model, info=info, arena_measured=tflm.measure_arena(source.model))
    arena = model.arena_measured
    if source.config is not None:  # budgets bind the models tinyml trains; a bare .tflite meets the board only
        check_budget(task.name, info.flash_bytes, arena)
    require_fit(board, info.flash_bytes, arena)
    result = tflm.verify(source.model, count=verify_count, seed=seed, arena=arena + 1024, info=info)
    note = tflm.check_for_export(result)
    verified = result.as_dict() | ({"note": note} if note else {})
    files = sketch_files(model, board, name, labels, task.name, firmware, verified, source.config,
                         source.identity)
    return ExportResult(files=files, info=info, arena_measured=arena, arena_total=model.arena_total,
                        verified=verified,
                        libraries=board.libraries(firmware.sensor_roles),
                        fits={b.key: board_fit(b, info.flash_bytes, arena)["fits"] for b in BOARDS.values()})
