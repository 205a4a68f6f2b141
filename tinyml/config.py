"""Typed, frozen configuration: dataclasses with a docstring per field, saved with every run.

`to_dict`/`from_dict` round-trip a config through JSON so `RUN/config.json` rebuilds the run.
Unknown keys are refused with a one-line error instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import typing

from tinyml.errors import TinyMLError


def to_dict(config) -> dict:
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            value = to_dict(value)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def from_dict(cls, data: dict):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise TinyMLError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        hint = hints.get(key)
        if isinstance(value, dict) and dataclasses.is_dataclass(hint):
            value = from_dict(hint, value)
        elif isinstance(value, list) and str(hint).startswith("tuple"):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def replace(config, **changes):
    """Copy with some fields changed, refusing unknown names."""
    return from_dict(type(config), {**to_dict(config), **changes})
