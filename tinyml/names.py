"""Untrusted text (labels, names) that reaches file paths and generated C.

Two rules: anything used as a path component or C identifier must match a strict
pattern (refused otherwise), and anything shown in C as text goes through `c_string`,
which escapes every byte that could end the literal, start a trigraph or break the line.
"""

from __future__ import annotations

import re

from tinyml.errors import TinyMLError

_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,62}$")


def safe_name(name: str, what: str = "name") -> str:
    """A sketch/folder name: a letter, then letters, digits or '_' (valid in Arduino, C and every OS)."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise TinyMLError(
            f"{what} {name!r} is not allowed; use a letter followed by up to 62 letters, digits or '_'"
        )
    if name.lower() in _WINDOWS_RESERVED:
        raise TinyMLError(f"{what} {name!r} is a device name on Windows and cannot be a folder there; pick another")
    return name


# Names Windows reserves for devices in every folder ("con", "nul.txt" ...): a folder of that name
# cannot be created or copied there.
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_label(label: str, what: str = "label") -> str:
    """A class label that may become a folder name: letters, digits, '_' and '-', no path tricks."""
    if not isinstance(label, str) or not _SAFE_LABEL.match(label):
        raise TinyMLError(
            f"{what} {label!r} is not a safe label; use letters, digits, '_' or '-' "
            "(no '/', '..', spaces or control characters), at most 63 characters"
        )
    if label.lower() in _WINDOWS_RESERVED:
        raise TinyMLError(f"{what} {label!r} is a device name on Windows and cannot be a folder there; pick another")
    return label


class CText(str):
    """Text already in C form: an escaped literal, a checked identifier or header, comment text.

    The template layer writes a CText unchanged and refuses a plain str, so no text reaches
    generated C without passing one of the functions below."""


_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_C_HEADER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*(/[A-Za-z0-9_][A-Za-z0-9_\-]*)*\.(h|hpp)$")


def c_string(text: str) -> CText:
    """A C/C++ string literal whose bytes are exactly text's UTF-8, with nothing left active.

    Printable ASCII passes except '"', '\\' and '?'; every other byte becomes a three-digit
    octal escape (octal stops after three digits, unlike \\x, so following text is safe).
    """
    if not isinstance(text, str):
        raise TypeError(f"c_string needs text, got {type(text).__name__}")
    out = ['"']
    for b in text.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    out.append('"')
    return CText("".join(out))


def c_float(value: float) -> CText:
    """A float literal that round-trips to the same float32 the model stores (finite only: C has
    no literal for NaN or infinity, and a threshold of either is a bug upstream)."""
    import numpy as np

    if isinstance(value, (bool, str)) or not np.isfinite(value):
        raise ValueError(f"{value!r} has no C float literal; only finite numbers do")
    if abs(value) > float(np.finfo(np.float32).max):
        raise ValueError(f"{value!r} overflows a C float")
    v = np.float32(value)
    text = np.format_float_positional(v, unique=True, trim="0") if abs(v) >= 1e-4 or v == 0 else \
        np.format_float_scientific(v, unique=True, trim="0")
    if text.endswith("."):
        text += "0"
    if "." not in text and "e" not in text:
        text += ".0"
    return CText(text + "f")


def c_int(value) -> CText:
    """A decimal integer literal; refuses anything that is not an integer (bools included), and
    values beyond 64 bits, which no C integer type holds."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{value!r} is not an integer")
    value = int(value)
    if not -(2 ** 63) <= value < 2 ** 64:
        raise ValueError(f"{value} does not fit a 64-bit C integer")
    return CText(str(value))


def c_ident(text: str) -> CText:
    """A C identifier (a name in code): letters, digits and '_', not starting with a digit."""
    if not isinstance(text, str) or not _C_IDENT.match(text):
        raise ValueError(f"{text!r} is not a C identifier")
    return CText(text)


def c_header(text: str) -> CText:
    """A header name for #include <...>: path parts of letters, digits, '_' and '-', ending .h."""
    if not isinstance(text, str) or not _C_HEADER.match(text):
        raise ValueError(f"{text!r} is not a plain header name")
    return CText(text)


def c_comment(value) -> CText:
    """Any value as text safe inside a // comment: printable ASCII only, no line continuation."""
    text = value if isinstance(value, str) else str(value)
    cleaned = "".join(ch if 0x20 <= ord(ch) < 0x7F else "?" for ch in text)
    return CText(cleaned.replace("\\", "/"))


def c_value(value) -> CText:
    """The one way a template value becomes C text: CText as is, bool/int/float as literals.

    A plain str is refused: the template must say what it is (c_string, c_ident, c_header or
    c_comment), so text from a config, a label or a model can never be pasted in raw."""
    import numbers

    if isinstance(value, CText):
        return value
    if isinstance(value, bool):
        return CText("true" if value else "false")
    if isinstance(value, numbers.Integral):
        return c_int(value)
    if isinstance(value, numbers.Real):
        return c_float(value)
    if isinstance(value, str):
        raise TypeError(f"text {value[:40]!r} reached a template without a C form; "
                        "pass it through c_string, c_ident, c_header or c_comment")
    raise TypeError(f"a {type(value).__name__} has no C form")


def c_list(values, sep: str = ", ") -> CText:
    """Values joined as C literals (array initialisers, shapes)."""
    return CText(sep.join(c_value(v) for v in values))


_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def printable(text: str, limit: int = 200) -> str:
    """Text from a file made safe to print: control characters (terminal escapes, carriage
    returns) and bidi overrides become '?', and it is cut to `limit` characters."""
    out = "".join("?" if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ord(ch) in _BIDI else ch
                  for ch in text[:limit])
    return out + ("…" if len(text) > limit else "")


def recorder_of(path: str) -> str:
    """Who recorded a file named '<person>_nohash_<n>.<ext>' (Speech Commands and `tinyml capture`)."""
    import os

    return re.sub(r"_nohash_.*$", "", os.path.basename(path))
