"""Writing files for every command: only inside the target folder, atomically, only when content changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tinyml.errors import TinyMLError


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> bool:
    """Replace `path` with `text` via a temp file and rename; returns False when it already matched."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    """Bytes version of write_text_atomic: readers never see a half-written file."""
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets what open() would give it
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write {relative path: text} under root; refuses any path that would land outside it."""
    root = Path(root)
    targets = []
    for rel in files:
        target = root / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not _inside(root, target):
            raise TinyMLError(f"refusing to write {rel!r} outside {root}")
        targets.append(target)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for target, text in zip(targets, files.values()):
            write_text_atomic(target, text)
    except OSError as exc:
        raise TinyMLError(f"cannot write into {root}: {exc.strerror or exc}") from None
    return targets
