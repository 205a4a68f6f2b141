"""jinja2 rendering of firmware templates: values in, text out."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from tinyml.names import c_comment, c_string


def templates_dir() -> Path:
    """firmware_templates/ beside the package in a checkout, else the copy installed as package data."""
    checkout = Path(__file__).resolve().parents[2] / "firmware_templates"
    if (checkout / "__init__.py").is_file():
        return checkout
    from importlib.resources import files

    return Path(str(files("tinyml.firmware_templates")))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates are named after the file they produce; undefined values are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["c_string"] = c_string
    env.filters["c_comment"] = c_comment
    env.filters["c_float"] = c_float
    return env


def c_float(value: float) -> str:
    """A float literal that round-trips to the same float32 the model stores."""
    import numpy as np

    v = np.float32(value)
    text = np.format_float_positional(v, unique=True, trim="0") if abs(v) >= 1e-4 or v == 0 else \
        np.format_float_scientific(v, unique=True, trim="0")
    if text.endswith("."):
        text += "0"
    if "." not in text and "e" not in text:
        text += ".0"
    return text + "f"


def render(template: str, context: dict) -> str:
    """Render one template (named after the file it produces, plus .j2)."""
    return environment().get_template(template).render(**context)
