"""`quotebot migrate` and `quotebot copy` from the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.store.pg_schema import PG_MIGRATIONS
from quotebot.store.schema import SCHEMA_VERSION
from tests.conftest import copy_database


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def bundled(bundled_file, tmp_path) -> Path:
    folder = tmp_path / "bundled"
    folder.mkdir()
    return copy_database(bundled_file, folder)


def test_migrate_applies_the_schema_once_on_postgresql_and_on_sqlite(postgres_db, tmp_path):
    first = run("migrate", postgres_db)
    assert first.exit_code == 0, first.output
    latest = len(PG_MIGRATIONS)
    assert f"{latest} migrations applied; schema version {latest}" in first.stdout
    assert f"0 migrations applied; schema version {latest}" in run("migrate", postgres_db).stdout
    new = tmp_path / "new.db"
    made = run("--db", str(new), "migrate")
    assert f"{SCHEMA_VERSION} migrations applied; schema version {SCHEMA_VERSION}" \
        in made.stdout
    assert sqlite3.connect(new).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_copy_moves_the_library_to_postgresql_and_back_then_it_answers(bundled, postgres_db,
                                                                       tmp_path):
    there = run("copy", "--from", str(bundled), "--to", postgres_db)
    assert there.exit_code == 0, there.output
    assert "391 quotes, 2 sources" in there.stdout
    back = tmp_path / "back.db"
    again = run("copy", "--from", postgres_db, "--to", f"sqlite:///{back}")
    assert again.exit_code == 0, again.output
    found = run("--db", str(back), "search", "ideas are cheap execution", "--limit", "1")
    assert "execution is everything" in found.stdout and "Ilya Sutskever" in found.stdout


def test_copy_refuses_a_target_with_data_and_names_what_is_there(bundled, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    target = copy_database(bundled, other)
    refused = run("copy", "--from", str(bundled), "--to", str(target))
    assert refused.exit_code == 1
    assert "Error: the target already holds data (2 sources, 391 quotes" in refused.stderr


def test_an_unreachable_postgresql_server_is_one_clear_line_without_the_password(bundled):
    url = "postgresql://bot:s3cret@127.0.0.1:1/quotes"
    failed = run("copy", "--from", str(bundled), "--to", url)
    assert failed.exit_code == 1
    assert "cannot connect to postgresql://bot@127.0.0.1:1/quotes" in failed.stderr
    assert "s3cret" not in failed.output


def test_without_the_postgres_extra_the_error_says_how_to_install_it(bundled, monkeypatch):
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # what an install without it has
    for args in (["copy", "--from", str(bundled), "--to", "postgresql://bot@127.0.0.1/q"],
                 ["migrate", "postgresql://bot@127.0.0.1/q"]):
        failed = run(*args)
        assert failed.exit_code == 1, failed.output
        assert "PostgreSQL needs its driver: pip install 'quotebot[postgres]'" in failed.stderr
