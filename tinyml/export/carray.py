"""Model bytes as a C array."""

from __future__ import annotations

from tinyml.names import CText


def c_array_body(data: bytes, per_line: int = 12) -> CText:
    """Comma-separated hex bytes, `per_line` to a line, indented by two spaces (no braces)."""
    lines = []
    for start in range(0, len(data), per_line):
        chunk = data[start:start + per_line]
        lines.append("  " + ", ".join(f"0x{b:02x}" for b in chunk) + ",")
    return CText("\n".join(lines))


def parse_c_array(text: str) -> bytes:
    """Inverse of c_array_body over a whole file: the bytes between the first '{' and '}'."""
    body = text[text.index("{") + 1:text.index("}")]
    return bytes(int(tok, 16) for tok in body.replace("\n", " ").split(",") if tok.strip())
