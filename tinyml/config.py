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


def apply_sets(cfg, sets: list[str] | None):
    """--set a.b=value (value parsed as JSON when it can be, comma lists become tuples)."""
    import json

    data = to_dict(cfg)
    for item in sets or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise TinyMLError(f"--set {item!r}: use KEY=VALUE, e.g. --set epochs=10")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw.split(",") if "," in raw else raw
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise TinyMLError(f"--set {key}: '{part}' is not a group of settings")
            node = node[part]
        if parts[-1] not in node:
            raise TinyMLError(f"--set {key}: unknown setting '{parts[-1]}'; known: {', '.join(sorted(node))}")
        node[parts[-1]] = value
    try:
        return from_dict(type(cfg), data)
    except TypeError as exc:
        raise TinyMLError(f"bad --set value: {exc}") from None
