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


def c_string(text: str) -> str:
    """A C/C++ string literal whose bytes are exactly text's UTF-8, with nothing left active.

    Printable ASCII passes except '"', '\\' and '?'; every other byte becomes a three-digit
    octal escape (octal stops after three digits, unlike \\x, so following text is safe).
    """
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
    return "".join(out)


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


def c_comment(text: str) -> str:
    """Text safe inside a // comment: printable ASCII only, no line continuation."""
    cleaned = "".join(ch if 0x20 <= ord(ch) < 0x7F else "?" for ch in text)
    return cleaned.replace("\\", "/")


def recorder_of(path: str) -> str:
    """Who recorded a file named '<person>_nohash_<n>.<ext>' (Speech Commands and `tinyml capture`)."""
    import os

    return re.sub(r"_nohash_.*$", "", os.path.basename(path))
