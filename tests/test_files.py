"""Output folders are replaced whole or not at all; other people's folders are never touched."""

import errno
import os

import pytest

from tinyml.errors import TinyMLError
from tinyml.files import staged_folder, write_folder


def test_write_folder_replaces_stale_files(tmp_path):
    root = tmp_path / "sketch"
    write_folder(root, {"manifest.json": "{}", "a.c": "old", "sub/x.h": "x"})
    write_folder(root, {"manifest.json": "{}", "b.c": "new"})
    assert sorted(p.name for p in root.rglob("*")) == ["b.c", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["sketch"]  # no stage or old copy left behind


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
