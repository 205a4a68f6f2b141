"""Typed, frozen configuration: dataclasses with a docstring per field, saved with every run.

`to_dict`/`from_dict` round-trip a config through JSON so `RUN/config.json` rebuilds the run.
Unknown keys are refused with a one-line error instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
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


def _matches(value, hint) -> bool:
    """Whether a JSON value has the field's declared type (bool is not an int, text is not a number)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_matches(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is typing.Literal:
        return isinstance(value, str) and value in typing.get_args(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, (list, tuple)) and all(_matches(v, item) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        import math

        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    return True


def from_dict(cls, data: dict):
    """A typed config from JSON data; every value must have its field's type, so a crafted config.json
    cannot carry text into a number that reaches generated C."""
    if not isinstance(data, dict):
        raise TinyMLError(f"{cls.__name__} settings must be a JSON object, not {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise TinyMLError(f"unknown {cls.__name__} setting(s): {', '.join(map(_shown, unknown))}; "
                          f"known: {', '.join(sorted(names))}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        hint = hints.get(key)
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise TinyMLError(f"setting '{key}' must be a group of settings, got {value!r:.60}")
            value = from_dict(hint, value)
        elif not _matches(value, hint):
            raise TinyMLError(f"setting '{key}' = {value!r:.60} is not {_type_name(hint)}")
        elif isinstance(value, list):
            value = tuple(value)
        elif hint is float and isinstance(value, int):
            value = float(value)
        kwargs[key] = value
    return cls(**kwargs)


def replace(config, **changes):
    """Copy with some fields changed, refusing unknown names."""
    return from_dict(type(config), {**to_dict(config), **changes})


def _shown(text) -> str:
    """User text inside a one-line message: printable characters as they are, the rest escaped."""
    text = str(text)
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= 60 else shown[:57] + "..."


def field_docs(cls) -> dict[str, str]:
    """Each field's docstring (the string literal under it in the class body)."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body
    docs = {}
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr) \
                and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(hint)[0])} (comma-separated)"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join("none" if a is type(None) else _type_name(a) for a in typing.get_args(hint))
    return {int: "integer", float: "number", bool: "true/false", str: "text"}.get(hint, getattr(hint, "__name__", str(hint)))


def _parse(key: str, raw: str, hint):
    """Text from the command line → a value of the field's type, or a one-line error."""
    import json
    import math

    def bad(expected=None):
        return TinyMLError(f"--set {key}={_shown(raw)}: expected {expected or _type_name(hint)}")

    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = typing.get_args(hint)
        if type(None) in args and raw.strip().lower() in ("none", "null", ""):
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _parse(key, raw, arg)
            except TinyMLError:
                continue
        raise bad()
    if origin is typing.Literal:
        if raw.strip() in typing.get_args(hint):
            return raw.strip()
        raise bad()
    if origin is tuple:
        (item,) = typing.get_args(hint)[:1]
        text = raw.strip()
        if text.startswith("["):
            try:
                parts = [str(v) for v in json.loads(text)]
            except ValueError:
                raise bad() from None
        else:
            parts = [p.strip() for p in text.split(",")] if text else []
        return tuple(_parse(key, p, item) for p in parts)
    if hint is bool:
        v = raw.strip().lower()
        if v in ("true", "1", "yes", "on"):
            return True
        if v in ("false", "0", "no", "off"):
            return False
        raise bad()
    if hint is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise bad() from None
    if hint is float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise bad() from None
        if not math.isfinite(value):
            raise bad("a finite number")
        return value
    if hint is str:
        return raw
    raise TinyMLError(f"--set {key}: a group of settings; set one of its fields, e.g. {key}.<name>=...")


def _field_types(cls) -> dict:
    return typing.get_type_hints(cls)


# Ranges checked on every user-set value, by field name: (test, what the value must be).
_RANGES = [
    (lambda k: k in ("epochs", "batch_size", "window", "stride", "min_consecutive", "minimum_count", "slices",
                     "channels", "image_size"), lambda v: v >= 1, "at least 1"),
    (lambda k: k in ("augment_copies", "augment_tilt", "augment_blur", "augment_noise", "synthetic_negatives", "seed")
     or k.endswith("_ms"),
     lambda v: v >= 0, "0 or more"),
    (lambda k: k in ("learning_rate", "rate_hz") or k.endswith("_scale"), lambda v: v > 0, "greater than 0"),
    (lambda k: k == "val_fraction", lambda v: 0 < v < 1, "between 0 and 1 (exclusive)"),
    (lambda k: k == "augment_min_crop", lambda v: 0 < v <= 1, "greater than 0 and at most 1"),
    (lambda k: k in ("threshold", "augment_carry", "augment_mirror"), lambda v: 0 <= v <= 1, "between 0 and 1"),
    (lambda k: k.endswith("_ratio"), lambda v: v >= 0, "0 or more"),
]


LrSchedule = typing.Literal["constant", "cosine"]
"""The type of a task's lr_schedule field (tinyml.fit.learning_rate): its values are the only ones
`--set` and config.json accept."""


def check_ranges(cfg, prefix: str = "") -> None:
    """One-line error for a numeric setting outside its range (epochs ≥ 1, rates > 0, thresholds in [0, 1] ...)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        key = prefix + f.name
        if dataclasses.is_dataclass(value):
            check_ranges(value, key + ".")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        for applies, ok, what in _RANGES:
            if applies(f.name) and not ok(value):
                raise TinyMLError(f"--set {key}={value}: must be {what}")


def apply_sets(cfg, sets: list[str] | None):
    """--set a.b=value: each value parsed as its field's type and range-checked, before any data is loaded."""
    data = to_dict(cfg)
    for item in sets or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TinyMLError(f"--set {item!r}: use KEY=VALUE, e.g. --set epochs=10")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
            raise TinyMLError(f"--set {_shown(key)}: not a setting name (see `tinyml train TASK --list-config`)")
        node, cls = data, type(cfg)
        parts = key.split(".")
        for part in parts[:-1]:
            hint = _field_types(cls).get(part)
            if hint is None or not dataclasses.is_dataclass(hint):
                raise TinyMLError(f"--set {key}: '{part}' is not a group of settings "
                                  "(see `tinyml train TASK --list-config`)")
            node, cls = node[part], hint
        hints = _field_types(cls)
        if parts[-1] not in hints:
            raise TinyMLError(f"--set {key}: unknown setting '{parts[-1]}'; known: {', '.join(sorted(hints))} "
                              "(`tinyml train TASK --list-config` describes them)")
        value = _parse(key, raw, hints[parts[-1]])
        node[parts[-1]] = list(value) if isinstance(value, tuple) else value
    try:
        out = from_dict(type(cfg), data)
    except (TypeError, ValueError) as exc:
        raise TinyMLError(f"bad --set value: {exc}") from None
    check_ranges(out)
    return out


def describe(cfg, prefix: str = "") -> list[tuple[str, str, object, str]]:
    """(key, type, default, docstring) for every setting, nested groups flattened as a.b."""
    rows = []
    hints = _field_types(type(cfg))
    docs = field_docs(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            rows += describe(value, prefix + f.name + ".")
        else:
            rows.append((prefix + f.name, _type_name(hints[f.name]), value, docs.get(f.name, "")))
    return rows
