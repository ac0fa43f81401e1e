"""Paths named for an ingest: every bad one named with its reason, deep trees, no tracebacks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from quotebot.bot.ingest.discovery import expand
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.store.quotes import QuoteStore

GOOD = "Jane Doe: Simplicity is a prerequisite for reliability, said the old engineer.\n"


def reasons(found) -> dict[str, str]:
    return {Path(path).name: error for path, error in found.failed}


def test_each_bad_path_on_the_command_line_is_named_with_its_reason(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    names = [good, tmp_path / "missing.txt", fifo, tmp_path / "loop-a",
             tmp_path / "dangling.txt"]
    found = expand(names)
    assert found.files == [good]
    why = reasons(found)
    assert set(why) == {"missing.txt", "pipe.txt", "loop-a", "dangling.txt"}
    assert "no such file" in why["missing.txt"]
    assert "FIFO" in why["pipe.txt"]
    assert "symlink loop" in why["loop-a"]
    assert "broken symlink" in why["dangling.txt"]
    assert all(error.startswith(str(tmp_path)) for error in why.values())


def test_bad_entries_inside_a_folder_are_named_and_other_types_listed(tmp_path):
    folder = tmp_path / "talks"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD)
    (folder / "b.md").write_text(GOOD)
    (folder / "slides.pdf").write_bytes(b"%PDF")
    (folder / "notes.docx").write_bytes(b"PK")
    (folder / ".hidden.txt").write_text(GOOD)
    os.mkfifo(folder / "pipe.srt")
    (folder / "dangling.vtt").symlink_to(folder / "gone.vtt")
    found = expand([folder])
    assert [p.name for p in found.files] == ["a.txt", "b.md"]
    assert found.sizes == [len(GOOD)] * 2
    assert [p.name for p in found.unsupported] == ["notes.docx", "slides.pdf"]
    assert set(reasons(found)) == {"pipe.srt", "dangling.vtt"}


def test_an_unreadable_subfolder_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    # Tests run as root, where permission bits do not stop reads: make one folder raise.
    folder = tmp_path / "talks"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "inside.txt").write_text(GOOD)
    (folder / "open.txt").write_text(GOOD)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == folder / "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = expand([folder])
    assert [p.name for p in found.files] == ["open.txt"]
    assert len(found.failed) == 1
    assert "locked" in found.failed[0][1] and "permission denied" in found.failed[0][1]


def test_a_file_in_an_unreadable_folder_is_a_failure_not_a_traceback(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    inside = locked / "talk.txt"
    inside.write_text(GOOD)
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if Path(path).parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    found = expand([inside])
    assert found.files == []
    assert "talk.txt: permission denied" in found.failed[0][1]


def test_a_folder_nested_deeper_than_the_recursion_limit_is_walked(tmp_path):
    deep = tmp_path / "deep"
    leaf = str(deep)
    os.mkdir(leaf)
    for _ in range(1100):  # one at a time: mkdir(parents=True) itself recurses
        leaf += "/d"
        os.mkdir(leaf)
    leaf = Path(leaf)
    (leaf / "bottom.txt").write_text(GOOD)
    try:
        found = expand([deep])
        assert [p.name for p in found.files] == ["bottom.txt"]
        assert not found.failed
    finally:
        # shutil.rmtree (pytest's cleanup of old tmp folders) recurses: remove it bottom up.
        (leaf / "bottom.txt").unlink()
        path = str(leaf)
        while path != str(tmp_path):
            os.rmdir(path)
            path = os.path.dirname(path)


async def test_failed_paths_reach_the_report_and_the_progress_once(db, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    seen = []
    report = await ingest_paths(QuoteStore(db), [tmp_path / "missing.txt", good],
                                progress=lambda i, n, r: seen.append((i, n, r.status)))
    assert seen == [(1, 2, "failed"), (2, 2, "added")]
    assert [f.status for f in report.files] == ["failed", "added"]


@pytest.mark.parametrize("name", ["symlink", "fifo"])
async def test_ingest_never_blocks_or_raises_on_special_files(db, tmp_path, name):
    target = tmp_path / "odd.txt"
    if name == "fifo":
        os.mkfifo(target)  # reading it would block for ever
    else:
        target.symlink_to(target)
    report = await ingest_paths(QuoteStore(db), [tmp_path])
    assert [f.status for f in report.files] == ["failed"]
