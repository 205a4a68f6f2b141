"""Output folders are replaced whole or not at all; other people's folders are never touched."""

import errno
import json
import os
import subprocess
import sys

import pytest

from tinyml.errors import TinyMLError
from tinyml.files import edited_files, output_lock, staged_folder, write_folder


def _manifest(*names):
    return json.dumps({"files": {n: "0" * 64 for n in names}})


def test_write_folder_replaces_stale_files_it_wrote_and_keeps_the_users(tmp_path):
    root = tmp_path / "sketch"
    write_folder(root, {"manifest.json": _manifest("a.c", "sub/x.h"), "a.c": "old", "sub/x.h": "x"})
    (root / "NOTES.md").write_text("mine")
    (root / "exports").mkdir()
    (root / "exports" / "keep.ino").write_text("mine too")
    write_folder(root, {"manifest.json": _manifest("b.c"), "b.c": "new"})
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == [
        "NOTES.md", "b.c", "exports", "exports/keep.ino", "manifest.json"]
    assert (root / "NOTES.md").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["sketch"]  # no stage, old copy or lock file left behind


def test_a_folder_without_a_record_keeps_everything_but_the_names_written(tmp_path):
    root = tmp_path / "run"
    write_folder(root, {"run.json": "{}", "a": "1"}, marker="run.json")
    (root / "b").write_text("2")
    write_folder(root, {"run.json": "{}", "a": "3"}, marker="run.json")
    assert (root / "a").read_text() == "3" and (root / "b").read_text() == "2"


def test_a_failed_swap_puts_the_users_files_back(tmp_path, monkeypatch):
    root = tmp_path / "sketch"
    write_folder(root, {"manifest.json": _manifest("a.c"), "a.c": "old"})
    (root / "NOTES.md").write_text("mine")
    real_rename = os.rename

    def failing(src, dst):
        if ".new-" in str(src) and str(dst) == str(root):
            raise OSError(errno.EIO, "I/O error")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(TinyMLError, match="nothing there was changed"):
        write_folder(root, {"manifest.json": _manifest("a.c"), "a.c": "new"})
    monkeypatch.undo()
    assert (root / "a.c").read_text() == "old" and (root / "NOTES.md").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["sketch"]


def test_a_second_writer_of_one_folder_is_refused(tmp_path):
    root = tmp_path / "run"
    with output_lock(root):
        with output_lock(root):  # the same command may take it again
            pass
        proc = subprocess.run([sys.executable, "-c", "import sys; from tinyml.files import output_lock\n"
                               "from tinyml.errors import TinyMLError\n"
                               f"try:\n    with output_lock({str(root)!r}): pass\n"
                               "except TinyMLError as e: print(e); sys.exit(1)"], capture_output=True, text=True)
        assert proc.returncode == 1 and "another tinyml command is writing" in proc.stdout
    with output_lock(root):  # released: free again
        pass


def test_hand_edits_are_found_by_their_hash(tmp_path):
    import hashlib

    root = tmp_path / "s"
    write_folder(root, {"manifest.json": json.dumps({"files": {"a.ino": hashlib.sha256(b"x").hexdigest()}}),
                        "a.ino": "x"})
    assert edited_files(root, "manifest.json") == []
    (root / "a.ino").write_text("x // my change")
    assert edited_files(root, "manifest.json") == ["a.ino"]


def test_a_failure_mid_write_leaves_the_old_folder(tmp_path, monkeypatch):
    root = tmp_path / "sketch"
    write_folder(root, {"manifest.json": "1", "a.c": "old"})
    real_open = open
    calls = {"n": 0}

    def full_disk(path, mode="r", *a, **k):
        if "w" in mode and ".sketch.new-" in str(path):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(TinyMLError, match="No space left.*nothing there was changed"):
        write_folder(root, {"manifest.json": "2", "a.c": "new", "b.c": "new"})
    monkeypatch.undo()
    assert (root / "manifest.json").read_text() == "1" and (root / "a.c").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["sketch"]


def test_an_exception_inside_the_stage_leaves_nothing_new(tmp_path):
    with pytest.raises(RuntimeError):
        with staged_folder(tmp_path / "run", "run.json") as stage:
            (stage / "run.json").write_text("{}")
            raise RuntimeError("training died")
    assert list(tmp_path.iterdir()) == []


def test_a_users_own_folder_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(TinyMLError, match="did not write"):
        write_folder(mine, {"manifest.json": "{}"})
    assert (mine / "thesis.tex").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(TinyMLError, match="not a folder"):
        write_folder(tmp_path / "file", {"manifest.json": "{}"})


def test_paths_outside_the_folder_are_refused(tmp_path):
    with pytest.raises(TinyMLError, match="outside"):
        write_folder(tmp_path / "s", {"../x": "y"})
    assert list(tmp_path.iterdir()) == []


def test_folder_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_folder(tmp_path / "s", {"manifest.json": "{}"})
    finally:
        os.umask(old)
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "s" / "manifest.json").stat().st_mode & 0o777 == 0o640
