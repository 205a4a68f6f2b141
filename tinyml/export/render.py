"""jinja2 rendering of firmware templates: values in, text out."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from tinyml.names import c_comment, c_float, c_header, c_ident, c_int, c_list, c_string, c_value


def templates_dir() -> Path:
    """The spine's templates (model data, settings, resolver): firmware_templates/ beside the package
    in a checkout, else the copy installed as package data."""
    checkout = Path(__file__).resolve().parents[2] / "firmware_templates"
    if (checkout / "__init__.py").is_file():
        return checkout
    from importlib.resources import files

    return Path(str(files("tinyml.firmware_templates")))


def task_template_dirs() -> dict[str, Path]:
    """Each task folder's templates/, under the task's name: 'magic_wand/sketch.ino.j2'."""
    tasks = Path(__file__).resolve().parents[1] / "tasks"
    return {d.parent.name: d for d in sorted(tasks.glob("*/templates")) if d.is_dir()}


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates are named after the file they produce; undefined values are errors.

    Every `{{ value }}` goes through `c_value` (the finalize hook): numbers become C literals and
    text must come through one of the c_* filters, so nothing reaches the C unformatted."""
    per_task = {name: jinja2.FileSystemLoader(str(d)) for name, d in task_template_dirs().items()}
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(templates_dir())), jinja2.PrefixLoader(per_task)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=c_value,
    )
    for f in (c_string, c_comment, c_float, c_int, c_ident, c_header, c_list):
        env.filters[f.__name__] = f
    return env


def render(template: str, context: dict) -> str:
    """Render one template (named after the file it produces, plus .j2). A value the layer cannot
    put into C (text without a filter, NaN, an index that is not there) is a one-line error."""
    from tinyml.errors import TinyMLError

    try:
        return environment().get_template(template).render(**context)
    except (TypeError, ValueError, OverflowError, jinja2.UndefinedError) as e:
        raise TinyMLError(f"cannot generate {template.removesuffix('.j2')}: {e}") from None
