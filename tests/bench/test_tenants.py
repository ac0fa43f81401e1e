"""`quotebot bench --case tenants`: requests timed inside one library of many."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.bench.tenants import PG_TARGETS_MS, TARGETS_MS

pytestmark = pytest.mark.slow  # the benchmark's cases, at toy sizes


def test_the_bench_command_runs_the_tenants_case(tmp_path):
    from quotebot.adapters.cli import cli

    args = ["bench", "--case", "tenants", "-n", "3000", "--queries", "5", "--json",
            "--keep", str(tmp_path / "kept")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["case"], summary["quotes"], summary["libraries"]) == ("tenants", 3000, 3)
    assert not summary["reused"]
    for kind in TARGETS_MS:
        assert summary["latency"][kind]["n"] == 5
    assert [t["name"] for t in summary["targets"]] == [f"{k} p99" for k in TARGETS_MS]
    again = json.loads(CliRunner().invoke(cli, args).stdout)
    assert again["reused"]  # --keep: the database is built once


def test_the_tenants_case_serves_from_postgresql(tmp_path, postgres_db):
    """`--db postgresql://…`: the libraries built in SQLite are copied in once, then served
    from PostgreSQL against issue 14's targets; a second run reuses what the first filled."""
    from quotebot.adapters.cli import cli

    args = ["bench", "--case", "tenants", "-n", "3000", "--queries", "5", "--json",
            "--keep", str(tmp_path / "kept"), "--db", postgres_db]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["engine"], summary["libraries"]) == ("postgresql", 3)
    assert summary["copy"]["quotes"] >= 3000  # the three libraries, and `bundled`
    assert {t["name"]: t["target"] for t in summary["targets"]} == {
        f"{k} p99": v for k, v in PG_TARGETS_MS.items()}
    for kind in PG_TARGETS_MS:
        assert summary["latency"][kind]["n"] == 5
    again = json.loads(CliRunner().invoke(cli, args).stdout)
    assert again["reused"] and again["copy"] is None and again["engine"] == "postgresql"
    refused = CliRunner().invoke(cli, ["bench", "--case", "tenants", "--db",
                                       str(tmp_path / "kept" / "tenants-3000.db")])
    assert refused.exit_code == 2 and "postgresql:// URL is" in refused.output
