"""`quotebot ingest` and `sources remove` as an operator uses them: errors once, a progress bar
on a terminal, unsupported files listed, plurals, pruning, and an empty library that says so."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.adapters.ingest_view import IngestView
from quotebot.bot.ingest.discovery import expand
from quotebot.bot.ingest.runner import FileResult

ONE = "Jane Doe: Simplicity is a prerequisite for reliability, as everyone says.\n"
TWO = ("Jane Doe: Simplicity is a prerequisite for reliability, as everyone says.\n"
       "John Roe: I could not agree more with that particular idea of yours.\n")


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "cli.db"

    def invoke(*args):
        return CliRunner().invoke(cli, ["--db", str(db), "--no-bundled", *args],
                                  catch_exceptions=False)

    return invoke


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
    return folder


def test_every_error_is_printed_once_with_its_path_and_reason(run, tmp_path):
    folder = write(tmp_path / "in", {"good.txt": TWO, "empty.txt": "",
                                     "binary.txt": b"\x00\x01\x02\xff" * 50})
    os.mkfifo(folder / "pipe.txt")
    result = run("ingest", str(folder), str(tmp_path / "missing.txt"))
    assert result.exit_code == 1
    err = result.stderr
    for name, reason in [("empty.txt", "empty"), ("binary.txt", ""), ("pipe.txt", "FIFO"),
                         ("missing.txt", "no such file")]:
        lines = [line for line in err.splitlines() if name in line]
        assert len(lines) == 1, (name, err)
        assert reason in lines[0]
    assert "ingest: 1 added, 4 failed, 2 quotes stored" in err


def test_plurals_and_unsupported_files_in_the_summary(run, tmp_path):
    folder = write(tmp_path / "in", {"one.txt": ONE, "slides.pdf": b"%PDF-1.4",
                                     "sub/notes.docx": b"PK"})
    result = run("ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 quote stored" in result.stderr and "1 quotes" not in result.stderr
    assert "skipped 2 files of types quotebot does not read (.docx, .pdf)" in result.stderr
    assert "slides.pdf" in result.stderr and "notes.docx" in result.stderr


def test_one_unreadable_file_does_not_make_click_refuse_the_batch(run, tmp_path, monkeypatch):
    good = write(tmp_path / "in", {"good.txt": TWO}) / "good.txt"
    locked = tmp_path / "locked.txt"
    locked.write_text(ONE)
    # As root nothing is unreadable; click asks os.access, so answer as for a locked file.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: (
        False if Path(p) == locked else real_access(p, mode, **kw)))
    real_open = Path.open

    def path_open(self, *args, **kwargs):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", path_open)
    result = run("ingest", str(good), str(locked))
    assert result.exit_code == 1
    assert "1 added" in result.stderr
    assert "locked.txt: cannot read: Permission denied" in result.stderr


def test_a_progress_bar_over_bytes_is_drawn_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def draw(out):
        view = IngestView(out)
        found = expand([])
        found.files = [Path("a.txt"), Path("b.txt")]
        found.sizes = [3_000_000, 1_000_000]
        view.started(found)
        view.progress(1, 2, FileResult("a.txt", "added", "a", 5, bytes=3_000_000))
        view.progress(2, 2, FileResult("b.txt", "failed", error="b.txt: file is empty",
                                       bytes=1_000_000))
        return out.getvalue()

    shown = draw(Terminal())
    assert "Ingesting 2 files" in shown and "75%" in shown and "100%" in shown
    assert shown.count("b.txt: file is empty") == 1
    quiet = draw(io.StringIO())
    assert quiet == "Error: b.txt: file is empty\n"


def test_prune_removes_sources_whose_files_are_gone_after_a_summary(run, tmp_path):
    folder = write(tmp_path / "in", {"keep.txt": TWO, "gone.txt": ONE.replace("Jane", "Ann"),
                                     "deep/also-gone.txt": ONE.replace("Jane", "Bo")})
    other = write(tmp_path / "elsewhere", {"other.txt": TWO.replace("Simplicity", "Clarity")})
    assert run("ingest", str(folder), str(other)).exit_code == 0
    (folder / "gone.txt").unlink()
    (folder / "deep" / "also-gone.txt").unlink()
    (other / "other.txt").unlink()  # not in the folder re-ingested: kept
    plain = run("ingest", str(folder))
    assert "removing" not in plain.stderr
    result = run("ingest", "--prune", str(folder))
    assert result.exit_code == 0, result.output
    assert "prune: removing 2 sources" in result.stderr
    assert "also-gone (1 quote)" in result.stderr and "gone (1 quote)" in result.stderr
    assert "removed 2 sources and 2 quotes" in result.stderr
    listed = run("sources").stdout
    assert "[keep]" in listed and "[other]" in listed and "[gone]" not in listed
    assert run("search", "Ann simplicity", "--json", "--speaker", "Ann").exit_code == 1


def test_sources_remove_deletes_a_source_and_its_words(run, tmp_path):
    folder = write(tmp_path / "in", {"keep.txt": TWO,
                                     "drop.txt": "Ann Lee: Zebras gallop across the savanna.\n"})
    run("ingest", str(folder))
    assert json.loads(run("search", "zebras savanna", "--json").stdout)
    result = run("sources", "remove", "drop", "no-such-slug")
    assert result.exit_code == 1
    assert "no source with the slug 'no-such-slug'" in result.stderr
    assert "removed 1 source and 1 quote" in result.stderr
    assert "[drop]" not in run("sources").stdout
    gone = run("search", "zebras savanna", "--json")
    assert gone.exit_code == 1 and json.loads(gone.stdout) == []


def test_an_empty_library_says_so(run):
    result = run("search", "anything at all")
    assert result.exit_code == 1
    assert "The library is empty: add transcripts with quotebot ingest PATH" in result.stderr
