"""The sketch as values: every generated file's text from the model, board, labels and task.

Pure: no files, no interpreters. The arena figure comes in already measured.
"""

from __future__ import annotations

import hashlib
import json

from tinyml import __version__
from tinyml.boards import ARENA_MARGIN_RULE, Board
from tinyml.errors import TinyMLError
from tinyml.export.carray import c_array_body
from tinyml.export.render import render
from tinyml.export.resolver import resolver_methods
from tinyml.names import safe_name
from tinyml.tasks.base import Firmware
from tinyml.tflm import ARENA_METHOD

MAX_LABEL_CHARS = 64


def check_labels(labels: list[str] | None, outputs: int) -> list[str]:
    """Labels in output order; default class_0..class_{n-1}. Any text is allowed: C sees it escaped."""
    if not labels:
        return [f"class_{i}" for i in range(outputs)]
    if len(labels) != outputs:
        raise TinyMLError(
            f"{len(labels)} labels given but the model has {outputs} outputs; pass exactly {outputs} labels"
        )
    if len(set(labels)) != len(labels):
        raise TinyMLError(f"labels {', '.join(labels)} repeat a name; each output needs its own label")
    for label in labels:
        if not label or len(label) > MAX_LABEL_CHARS or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in label):
            raise TinyMLError(
                f"label {label!r} is empty, longer than {MAX_LABEL_CHARS} characters or has control characters"
            )
    return list(labels)


def sketch_context(model, board: Board, name: str, labels: list[str], task: str, firmware: Firmware) -> dict:
    """Every value the templates may use. `model` is an export Model (bytes, parsed info, measured
    arena). Text in it reaches C only through the template layer's c_* filters."""
    info, arena_measured, arena_total = model.info, model.arena_measured, model.arena_total
    output = info.outputs[0]
    input_ = info.inputs[0]
    return {
        "tool_version": __version__,
        "name": name,
        "task": task,
        "board": board,
        "libraries": board.libraries(firmware.sensor_roles),
        "sensors": {role: board.sensors[role] for role in firmware.sensor_roles if role in board.sensors},
        "model": {"sha256": info.sha256, "flash_bytes": info.flash_bytes, "array_body": c_array_body(model.data)},
        "input": {**input_.as_dict(), "elements": input_.elements},
        "output": {**output.as_dict(), "elements": output.elements},
        "labels": labels,
        "ops": resolver_methods(info),
        "arena": {"measured": arena_measured, "total": arena_total, "rule": ARENA_MARGIN_RULE},
        "features": firmware.constants,
        **firmware.context,
    }


def render_sketch(context: dict, firmware: Firmware) -> dict[str, str]:
    """{file: text} for every template of the sketch (the manifest is added by sketch_files)."""
    files = {
        "model_data.h": render("model_data.h.j2", context),
        "model_data.cpp": render("model_data.cpp.j2", context),
        "model_settings.h": render("model_settings.h.j2", context),
        "op_resolver.h": render("op_resolver.h.j2", context),
        f"{safe_name(context['name'], 'sketch name')}.ino": render(firmware.sketch_template, context),
    }
    for out_name, template in firmware.extra_templates:
        files[out_name] = render(template, context)
    return files


def sketch_files(
    model,
    board: Board,
    name: str,
    labels: list[str],
    task: str,
    firmware: Firmware,
    verified: dict | None = None,
    config=None,
    source: dict | None = None,
) -> dict[str, str]:
    """{path relative to the sketch folder: text} for the whole sketch, manifest included.

    `model` is an export Model (bytes, parsed info, measured arena); `config` the typed run config;
    `source` what it was exported from ({"kind": "run" or "model file", "name": ...}), so a later
    export of something else under the same sketch name is recognised as a collision."""
    from tinyml import config as config_mod

    info = model.info
    context = sketch_context(model, board, name, labels, task, firmware)
    files = render_sketch(context, firmware)
    manifest = {
        "tool": "tinyml",
        "tool_version": __version__,
        "name": name,
        "task": task,
        "board": board.as_dict(),
        "libraries": context["libraries"],
        "model": {"sha256": info.sha256, "flash_bytes": info.flash_bytes, "macs": info.macs},
        "ops": [{"name": op.name, "version": op.version} for op in info.ops],
        "inputs": [t.as_dict() for t in info.inputs],
        "outputs": [t.as_dict() for t in info.outputs],
        "labels": labels,
        "arena": {"measured_bytes": model.arena_measured, "total_bytes": model.arena_total,
                  "margin_rule": ARENA_MARGIN_RULE, "method": ARENA_METHOD},
        "feature_constants": {c.name: c.value for c in firmware.constants},
        "verified": verified,
        "config": config_mod.to_dict(config) if config is not None else None,
        "source": source,
        "files": {path: hashlib.sha256(text.encode()).hexdigest() for path, text in sorted(files.items())},
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    return files


def arduino_commands(board: Board, libraries: list[str], sketch_dir: str, port: str | None = None) -> list[str]:
    """What to run to build and flash the sketch with arduino-cli; every word is shell-quoted, and
    without a detected port the placeholder is quoted too, so pasting it never redirects."""
    import shlex

    libs = " ".join(shlex.quote(lib) for lib in libraries)
    where = shlex.quote(sketch_dir)
    return [
        f"arduino-cli core install {board.core}",
        f"arduino-cli lib install {libs}",
        f"arduino-cli compile --fqbn {board.fqbn} {where}",
        f"arduino-cli upload -p {shlex.quote(port or '<PORT>')} --fqbn {board.fqbn} {where}",
    ]
