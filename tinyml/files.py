"""Writing files for every command: only inside the target folder, atomically, only when content changed."""

from __future__ import annotations

import contextlib
import hashlib
import json
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


def recorded_files(root: Path, marker: str) -> dict | None:
    """What the marker file (a tinyml manifest, run.json, vww.json) says tinyml wrote into `root`:
    {relative path: sha256 or None}; None when the folder has no readable record."""
    try:
        meta = json.loads((Path(root) / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = meta.get("files") if isinstance(meta, dict) else None
    if isinstance(files, dict):
        return {str(k): (v if isinstance(v, str) else None) for k, v in files.items()}
    if isinstance(files, list):
        return {str(k): None for k in files}
    return None


def edited_files(root: Path, marker: str) -> list[str]:
    """Files in `root` whose content differs from the sha256 tinyml recorded when it wrote them
    (hand edits), sorted; empty when nothing was edited or nothing was recorded."""
    recorded = recorded_files(root, marker) or {}
    edited = []
    for rel, digest in sorted(recorded.items()):
        path = Path(root) / rel
        if digest is None or not _inside(Path(root), path) or not path.is_file():
            continue
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                edited.append(rel)
        except OSError:
            edited.append(rel)
    return edited


def _top_names(paths) -> set[str]:
    names = set()
    for rel in paths:
        parts = Path(rel).parts
        if parts and parts[0] not in ("..", ".", "/"):
            names.add(parts[0])
    return names


def check_output_folder(root: Path, marker: str) -> None:
    """Refuse, before any work, an output path tinyml cannot write: a file, or a folder of the
    user's own (files but no marker)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise TinyMLError(f"{root} exists and is not a folder; pick another output path")
    if root.is_dir() and any(root.iterdir()) and not (root / marker).is_file():
        raise TinyMLError(f"{root} already holds files tinyml did not write (no {marker}); "
                          "pick another output path or empty it")


_HELD: dict[str, int] = {}  # folders this process holds the lock of, and how often


def cache_root() -> Path:
    """tinyml's per-user cache ($TINYML_CACHE, default ~/.cache/tinyml)."""
    return Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml"))


def _lock_file(root: Path, key: str) -> int:
    locks = cache_root() / "locks"
    name = hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock"
    for path in (locks / name, root.parent / f".{root.name}.tinyml-lock"):  # beside it if no cache
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            error = exc
    raise TinyMLError(f"cannot write into {root.parent}: {error.strerror or error}")


@contextlib.contextmanager
def output_lock(root: Path):
    """Hold the one writer's lock of output folder `root`, or refuse.

    Two commands writing one folder at once would both report success while one result is lost;
    the second one is refused at once instead. Re-entrant within one process. The lock file lives
    in tinyml's cache (named by the folder's resolved path), so the user's folders get no clutter."""
    import fcntl

    root = Path(root)
    key = str(root.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fd = _lock_file(root, key)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise TinyMLError(f"another tinyml command is writing {root} right now; wait for it to finish, "
                          "or pick another output path") from None
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def staged_folder(root: Path, marker: str):
    """Yield an empty folder beside `root`; fill it, and on success it replaces `root`'s own files.

    A failure (an exception, a full disk) removes the stage and leaves `root` as it was, so a
    command leaves the old output or the new one, never a mix. An existing `root` is written into
    only when tinyml wrote it (it holds `marker`) or it is empty. What tinyml wrote there before
    (the files the marker records, and every name the new output has) is replaced; anything else in
    the folder (the user's notes, a sketch exported into a run folder) is carried over untouched."""
    root = Path(root)
    with output_lock(root):
        check_output_folder(root, marker)
        recorded = recorded_files(root, marker) if root.is_dir() else None
        try:
            root.parent.mkdir(parents=True, exist_ok=True)
            stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.new-", dir=root.parent))
        except OSError as exc:
            raise TinyMLError(f"cannot write into {root.parent}: {exc.strerror or exc}") from None
        carried: list[str] = []
        try:
            yield stage
            _fsync_tree(stage)
            os.chmod(stage, 0o777 & ~_umask())
            if root.exists():
                ours = _top_names(recorded or {}) | {marker} | {p.name for p in stage.iterdir()}
                for entry in sorted(p.name for p in root.iterdir() if p.name not in ours):
                    os.rename(root / entry, stage / entry)
                    carried.append(entry)
                old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
                os.rename(root, old / root.name)
                try:
                    os.rename(stage, root)
                except BaseException:
                    os.rename(old / root.name, root)
                    os.rmdir(old)
                    raise
                carried = []
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(stage, root)
        except OSError as exc:
            raise TinyMLError(f"cannot write {root}: {exc.strerror or exc}; nothing there was changed") from None
        finally:
            for entry in carried:  # the swap failed: the user's files go back where they were
                with contextlib.suppress(OSError):
                    os.rename(stage / entry, root / entry)
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
    """read_input decoded as text: UTF-8 (a byte-order mark, as Excel and Notepad write, is dropped),
    or UTF-16 when the file starts with its byte-order mark (Windows' "Unicode" text); bad bytes are
    replaced (they then fail the format's own checks)."""
    import codecs

    data = read_input(path, what, limit)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def is_hidden(path: Path | str) -> bool:
    """A dot file: macOS's `._name` AppleDouble companions and `.DS_Store`, editors' swap files.
    They are never data, though `._clip.wav` has a data file's suffix."""
    return Path(path).name.startswith(".")


def note_unused(unused: list[str], where: str, what: str) -> None:
    """One line naming what a loader left out (nothing is skipped in silence)."""
    if not unused:
        return
    import sys

    shown = ", ".join(sorted(unused)[:4]) + (f" and {len(unused) - 4} more" if len(unused) > 4 else "")
    print(f"tinyml: note: left out {len(unused)} {'entry' if len(unused) == 1 else 'entries'} under {where} "
          f"that {'is' if len(unused) == 1 else 'are'} not {what}: {shown}", file=sys.stderr)
