"""`quotebot bench --case tenants`: requests timed inside one library of many."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.bench.tenants import TARGETS_MS

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
