"""A training run as one value, and the only code that writes or reads a run folder.

RUN/ holds model.tflite, config.json (the typed config, which rebuilds the run), run.json
(task and tool version), report.json, history.json, model.keras and the two plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tinyml import __version__
from tinyml import config as config_mod
from tinyml.errors import TinyMLError


@dataclass(frozen=True)
class Run:
    """What training produced and export, evaluate and emulate need."""

    task: str
    """Registry name of the task."""
    config: object
    """The task's typed, frozen config."""
    model: bytes
    """Full-int8 .tflite."""
    report: dict
    """Accuracy, confusion, sizes, timings."""
    history: dict
    """Keras training history (per-epoch metrics)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels in output order: the config's, the one source for firmware and reports."""
        return tuple(self.config.labels)


def write_run(run_dir: Path, run: Run, keras_model=None) -> None:
    """Put a run on disk as one folder swap: a failure (a full disk mid-save) leaves the old run
    or nothing, never a run.json beside a truncated model."""
    from tinyml.files import staged_folder
    from tinyml.plots import confusion_png, curves_png

    files = {
        "config.json": json.dumps(config_mod.to_dict(run.config), indent=2, sort_keys=True) + "\n",
        "report.json": json.dumps(run.report, indent=2, sort_keys=True) + "\n",
        "history.json": json.dumps(run.history, indent=2, sort_keys=True) + "\n",
        "model.tflite": run.model,
        "confusion.png": confusion_png(run.report["confusion"], run.labels, f"{run.task} int8 (validation)"),
        "curves.png": curves_png(run.history),
    }
    written = sorted([*files, "run.json"] + (["model.keras"] if keras_model is not None else []))
    files["run.json"] = json.dumps({"task": run.task, "tool_version": __version__, "files": written},
                                   indent=2, sort_keys=True) + "\n"
    with staged_folder(Path(run_dir), "run.json") as stage:
        for name, content in files.items():
            (stage / name).write_bytes(content.encode() if isinstance(content, str) else content)
        if keras_model is not None:
            keras_model.save(stage / "model.keras")


def is_run_dir(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "run.json").is_file()


def read_run(run_dir: Path) -> Run:
    """The run in a folder written by `write_run`; a one-line error for anything else."""
    from tinyml.tasks import get_task

    run_dir = Path(run_dir)
    from tinyml.files import MB, read_input

    what = "a training run folder (run.json, config.json, model.tflite)"
    try:
        meta = json.loads(read_input(run_dir / "run.json", what, MB))
        config = json.loads(read_input(run_dir / "config.json", what, MB))
        model = read_input(run_dir / "model.tflite", what, 64 * MB)
    except (TinyMLError, ValueError) as exc:
        raise TinyMLError(f"{run_dir} is not a training run folder (needs run.json, config.json and model.tflite): "
                          f"{exc}") from None
    if not isinstance(meta, dict) or not isinstance(config, dict) or "task" not in meta:
        raise TinyMLError(f"{run_dir}/run.json does not describe a tinyml run; re-run `tinyml train`")
    task = get_task(str(meta["task"]))
    if task.config_class is None:
        raise TinyMLError(f"{run_dir}: task '{task.name}' has no trainer, so it cannot have a run folder")

    def optional(name: str) -> dict:
        try:
            return json.loads(read_input(run_dir / name, "a report", 64 * MB))
        except (TinyMLError, ValueError):
            return {}

    return Run(task=task.name, config=config_mod.from_dict(task.config_class, config), model=model,
               report=optional("report.json"), history=optional("history.json"))
