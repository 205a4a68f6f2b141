"""Writing files for every command: only inside the target folder, atomically, only when content changed."""

from __future__ import annotations

import contextlib
import os
import shutil
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


def _targets(root: Path, files: dict) -> list[Path]:
    targets = []
    for rel in files:
        target = root / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not _inside(root, target):
            raise TinyMLError(f"refusing to write {rel!r} outside {root}")
        targets.append(target)
    return targets


def write_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write {relative path: text} under root, each file atomically, leaving other files alone;
    refuses any path that would land outside it."""
    root = Path(root)
    targets = _targets(root, files)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for target, text in zip(targets, files.values()):
            write_text_atomic(target, text)
    except OSError as exc:
        raise TinyMLError(f"cannot write into {root}: {exc.strerror or exc}") from None
    return targets


def _fsync_tree(folder: Path) -> None:
    for dirpath, _, names in os.walk(folder):
        for name in names:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@contextlib.contextmanager
def staged_folder(root: Path, marker: str):
    """Yield an empty folder beside `root`; fill it, and on success it replaces `root` whole.

    A failure (an exception, a full disk) removes the stage and leaves `root` as it was, so a
    command leaves the old output or the new one, never a mix. An existing `root` is replaced only
    when tinyml wrote it (it holds `marker`) or it is empty, so a user's own folder is never lost."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise TinyMLError(f"{root} exists and is not a folder; pick another output path")
    if root.is_dir() and any(root.iterdir()) and not (root / marker).is_file():
        raise TinyMLError(f"{root} already holds files tinyml did not write (no {marker}); "
                          "pick another output path or empty it")
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.new-", dir=root.parent))
    except OSError as exc:
        raise TinyMLError(f"cannot write into {root.parent}: {exc.strerror or exc}") from None
    try:
        yield stage
        _fsync_tree(stage)
        os.chmod(stage, 0o777 & ~_umask())
        if root.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
            os.rename(root, old / root.name)
            try:
                os.rename(stage, root)
            except BaseException:
                os.rename(old / root.name, root)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(stage, root)
    except OSError as exc:
        raise TinyMLError(f"cannot write {root}: {exc.strerror or exc}; nothing there was changed") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_folder(root: Path, files: dict, marker: str = "manifest.json") -> list[Path]:
    """Replace folder `root` with exactly {relative path: text or bytes}, all at once (see
    staged_folder); refuses any path that would land outside it."""
    root = Path(root)
    targets = _targets(root, files)
    with staged_folder(root, marker) as stage:
        for rel, content in files.items():
            path = stage / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(path, "wb") as fh:
                fh.write(data)
    return targets


MB = 1 << 20


def require_regular(path: Path | str, what: str, limit: int) -> Path:
    """`path` as a regular file of at most `limit` bytes, else a one-line error.

    Inputs come from users: a FIFO or /dev/zero would block or fill memory, a folder or a
    multi-gigabyte file is a wrong path, not data."""
    import stat

    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise TinyMLError(f"{p}: no such file; pass {what}") from None
    except OSError as exc:
        raise TinyMLError(f"{p}: cannot read ({exc.strerror or exc}); pass {what}") from None
    if stat.S_ISDIR(st.st_mode):
        raise TinyMLError(f"{p} is a folder; pass {what}")
    if not stat.S_ISREG(st.st_mode):
        raise TinyMLError(f"{p} is not a regular file (a pipe or device); pass {what}")
    if st.st_size > limit:
        raise TinyMLError(f"{p} is {st.st_size / MB:.0f} MB, more than the {limit / MB:.0f} MB {what} can be; "
                          "check the path")
    return p


def read_input(path: Path | str, what: str, limit: int) -> bytes:
    """The bytes of a user's input file, bounded (see require_regular); reads at most limit + 1
    bytes, so a file growing while read cannot exhaust memory either."""
    p = require_regular(path, what, limit)
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise TinyMLError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise TinyMLError(f"{p} grew beyond {limit / MB:.0f} MB while being read; pass {what}")
    return data


def read_input_text(path: Path | str, what: str, limit: int) -> str:
    """read_input decoded as UTF-8, bad bytes replaced (they then fail the format's own checks)."""
    return read_input(path, what, limit).decode("utf-8", errors="replace")
