"""`quotebot bench --db postgresql://…`: the corpus moved into PostgreSQL and served from it."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from quotebot.bench.cli import bench
from quotebot.bench.queries import CATEGORIES
from tests.postgres import count_rows

TINY = ["--quotes", "400", "--queries", "2", "--no-baseline", "--no-profile", "--json"]


def _run(*args: str):
    return CliRunner().invoke(bench, [*TINY, *args], catch_exceptions=False)


def _pg_count(url: str, table: str) -> int:
    return asyncio.run(count_rows(url, table))


@pytest.fixture(scope="module")
def filled(postgres_server, tmp_path_factory):
    """One bench run into a new, empty database: (its URL, the kept folder, the result)."""
    url = postgres_server.create_database("bench_filled")
    keep = tmp_path_factory.mktemp("filled")
    return url, keep, _run("--db", url, "--keep", str(keep))


def test_an_empty_database_is_filled_by_copy_and_served_from(filled):
    url, _, first = filled
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    run = summary["result"]
    database = run["database"]
    assert database["engine"] == "postgresql"
    assert database["server"]["version"] and "shared_buffers" in database["server"]
    # Every quote of the SQLite corpus arrived, and the bench served from PostgreSQL.
    quotes = _pg_count(url, "quotes")
    assert run["copy"]["quotes"] == database["quotes"] == quotes >= 200
    assert run["ingest"]["seconds"] > 0  # the corpus was ingested (into SQLite) first
    serve = run["serve"]
    assert serve["search"]["overall"]["n"] == 2 * len(CATEGORIES)
    assert serve["search"]["hits"]["exact"]["hit5"] == 1.0
    assert serve["random"]["failed"] == 0
    limits = {t["target"]: t["limit"] for t in summary["targets"]}
    assert limits["search p99"] == 50.0 and limits["autocomplete p99"] == 50.0
    assert limits["random p99"] == 10.0
    assert "postgresql database" in first.stderr and "copy into PostgreSQL" in first.stderr


def test_a_database_an_earlier_run_filled_is_reused_as_it_is(filled, tmp_path,
                                                             monkeypatch):
    url, _, first = filled
    quotes = json.loads(first.stdout)["result"]["database"]["quotes"]
    monkeypatch.chdir(tmp_path)  # a --keep folder relative to here (the child runs elsewhere)
    again = _run("--db", url, "--keep", ".")
    assert again.exit_code == 0, again.output
    rerun = json.loads(again.stdout)["result"]
    assert "reusing the PostgreSQL database" in again.stderr
    assert rerun["copy"] is None and rerun["ingest"] is None
    assert rerun["database"]["quotes"] == quotes == _pg_count(url, "quotes")
    assert not (tmp_path / "q400" / "corpus").exists()  # nothing generated


def test_copy_from_fills_the_database_from_a_kept_sqlite_one(filled, postgres_server,
                                                             tmp_path):
    _, kept, first = filled
    sqlite_db = kept / "q400" / "bench.db"
    quotes = json.loads(first.stdout)["result"]["database"]["quotes"]
    url = postgres_server.create_database("bench_copy_from")
    result = _run("--db", url, "--copy-from", str(sqlite_db), "--keep", str(tmp_path))
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)["result"]
    assert run["ingest"] is None and run["copy"]["quotes"] == quotes
    assert run["database"]["quotes"] == quotes == _pg_count(url, "quotes")

    # Copying into it again is refused: it holds data now, and stays as it was.
    refused = CliRunner().invoke(bench, [*TINY, "--db", url, "--copy-from", str(sqlite_db)])
    assert refused.exit_code == 1
    assert "already holds data" in refused.output
    assert _pg_count(url, "quotes") == quotes


def test_an_unreachable_server_is_named_in_a_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        bench, [*TINY, "--db", f"postgresql://bench:secret@127.0.0.1:{port}/nowhere",
                "--keep", str(tmp_path)])
    assert result.exit_code == 1
    assert f"cannot connect to postgresql://bench@127.0.0.1:{port}/nowhere" in result.output
    assert "secret" not in result.output
    assert not (tmp_path / "q400" / "corpus").exists()  # refused before building anything


def test_a_database_holding_other_data_but_no_corpus_is_refused(postgres_db, tmp_path):
    import asyncpg

    async def subscribe() -> None:
        from quotebot.store.pg_db import PgDatabase

        await (await PgDatabase.open(postgres_db)).close()  # the schema, nothing else
        conn = await asyncpg.connect(postgres_db)
        try:
            await conn.execute(
                "INSERT INTO subscriptions (platform, channel, local_time, timezone,"
                " created_by, created_at) VALUES ('slack', 'C1', '09:00', 'UTC', 'u', 'now')")
        finally:
            await conn.close()

    asyncio.run(subscribe())
    result = CliRunner().invoke(bench, [*TINY, "--db", postgres_db, "--keep", str(tmp_path)])
    assert result.exit_code == 1
    assert "holds data (1 subscriptions) but fewer than 200 quotes" in result.output
    assert _pg_count(postgres_db, "quotes") == 0


@pytest.mark.parametrize("args, message", [
    (["--copy-from", "{db}"], "--copy-from needs --db postgresql://"),
    (["--db", "{missing}"], "no database file at"),
    (["--case", "realistic", "--db", "{db}"], "only a new, empty postgresql://"),
])
def test_wrong_combinations_are_usage_errors(tmp_path, args, message):
    db = tmp_path / "some.db"
    db.write_bytes(b"")
    args = [a.format(db=db, missing=tmp_path / "missing.db") for a in args]
    result = CliRunner().invoke(bench, [*TINY, *args])
    assert result.exit_code == 2
    assert message in result.output


async def test_the_realistic_check_passes_on_postgresql(postgres_db, tmp_path):
    """`bench --case realistic --db postgresql://…`: the collection ingested straight into
    PostgreSQL meets the same targets (issue 10's) as on SQLite."""
    from quotebot.bench.realistic import TARGETS, check, generate

    root = tmp_path / "podcasts"
    truth = generate(root, episodes=8, seed=7)
    result = await check(root, truth, postgres_db, samples=80)
    assert result["ingest_problems"] == []
    assert result["quotes"] == await count_rows(postgres_db, "quotes") > 0
    for name, target in TARGETS.items():
        assert result[name] >= target, (name, result[name], result["misses"].get(name))
    assert result["passed"]


def test_the_realistic_case_refuses_a_database_that_holds_data(filled, tmp_path):
    url, _, _ = filled
    result = CliRunner().invoke(bench, ["--case", "realistic", "--db", url,
                                        "--keep", str(tmp_path)])
    assert result.exit_code == 1
    assert "already holds data" in result.output
