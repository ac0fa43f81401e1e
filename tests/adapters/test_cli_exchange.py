"""`quotebot export` and `quotebot import` end to end: files, output, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.bot.exchange import MAX_IMPORT_BYTES
from tests.conftest import copy_database

NADEKO = Path(__file__).resolve().parents[1] / "data" / "exchange" / "quote-export.yml"


@pytest.fixture
def runner(tmp_path):
    def invoke(db: Path, *args):
        return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def bundled(bundled_file, tmp_path) -> Path:
    folder = tmp_path / "bundled"
    folder.mkdir()
    return copy_database(bundled_file, folder)


def test_export_to_stdout_then_import_into_a_new_database(runner, bundled, tmp_path):
    exported = runner(bundled, "export")
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.stdout)
    assert document["format"] == "quotebot-library" and document["version"] == 1
    assert "exported 2 sources" in exported.stderr

    path = tmp_path / "library.json"
    path.write_text(exported.stdout, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    imported = runner(fresh, "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert (f"imported 2 sources, {len(document['quotes'])} quotes, "
            f"{len(document['highlights'])} highlights") in imported.stderr
    # The file is the library: the bundled interviews were not added to it first.
    assert "added" not in imported.stderr
    found = runner(fresh, "search", "execution is everything", "--json", "--limit", "1")
    assert json.loads(found.stdout)[0]["speaker"] == "Ilya Sutskever"
    stats = json.loads(runner(fresh, "stats", "--json").stdout)
    assert stats["quotes"] == len(document["quotes"])


def test_export_to_a_file_as_csv(runner, bundled, tmp_path):
    out = tmp_path / "quotes.csv"
    result = runner(bundled, "export", "-o", str(out), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["id", "text", "speaker", "source_slug", "source_title", "start",
                             "position"]
    assert any(r["text"].endswith("execution is everything.") for r in rows)
    assert not (tmp_path / "quotes.csv.partial").exists()


def test_reimport_says_which_sources_it_replaced(runner, bundled, tmp_path):
    path = tmp_path / "library.json"
    runner(bundled, "export", "-o", str(path))
    result = runner(bundled, "import", str(path))
    assert result.exit_code == 0
    assert "replaced source 'brockman-wang-interview'" in result.stderr
    assert "replaced source 'sutskever-patel-interview'" in result.stderr


def test_import_a_nadeko_export_then_random_draws_from_it(runner, tmp_path):
    db = tmp_path / "nadeko.db"
    result = runner(db, "import", str(NADEKO))
    assert result.exit_code == 0, result.output
    assert "imported 3 sources, 7 quotes" in result.stderr and "(nadeko," in result.stderr
    drawn = json.loads(runner(db, "random", "--json").stdout)[0]
    assert drawn["source"] in ("MONDAY", "DEPLOY", "WISDOM")
    assert "nadeko-monday" in runner(db, "sources").stdout


def test_a_bad_import_exits_1_names_the_row_and_writes_nothing(runner, bundled, tmp_path):
    before = json.loads(runner(bundled, "stats", "--json").stdout)
    bad = tmp_path / "bad.csv"
    bad.write_text("text,speaker\nfine words,me\n,me\n", encoding="utf-8")
    result = runner(bundled, "import", str(bad))
    assert result.exit_code == 1
    assert "bad.csv: row 3: text: is empty; nothing was imported" in result.stderr
    assert json.loads(runner(bundled, "stats", "--json").stdout) == before

    missing = runner(bundled, "import", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    wrong = runner(bundled, "import", str(bad), "--format", "xml")
    assert wrong.exit_code == 2  # click: not one of the choices


def test_a_file_over_the_cap_is_refused_unread(runner, tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(MAX_IMPORT_BYTES + 1)  # sparse: no 64 MB written
    result = runner(tmp_path / "x.db", "import", str(huge))
    assert result.exit_code == 1
    assert "the limit is 64 MB; nothing was imported" in result.stderr


def test_help_documents_the_formats(runner, tmp_path):
    db = tmp_path / "x.db"
    help_import = runner(db, "import", "--help").stdout
    for word in ("nadeko", "csv", "json", "speaker", "replaced"):
        assert word in help_import
    help_export = runner(db, "export", "--help").stdout
    assert "source_slug" in help_export and "--format" in help_export
    assert "export" in runner(db, "--help").stdout and "import" in runner(db, "--help").stdout
