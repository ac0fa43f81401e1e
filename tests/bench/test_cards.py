"""`quotebot bench --case card`: every sampled quote drawn in both themes, timed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.bench.cards import EXTRA, TARGET_MS

pytestmark = pytest.mark.slow  # the benchmark's cases, at toy sizes


def test_the_bench_command_runs_the_card_case(tmp_path):
    from quotebot.adapters.cli import cli

    result = CliRunner().invoke(cli, ["bench", "--case", "card", "--queries", "6", "--json",
                                      "--keep", str(tmp_path / "kept")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["case"] == "card" and summary["quotes"] == 6 + len(EXTRA)
    assert summary["cards"] + summary["no_card"] == 2 * summary["quotes"]
    assert summary["render"]["n"] == 2 * summary["quotes"]
    assert summary["render"]["p50_ms"] <= summary["render"]["p99_ms"]
    (target,) = summary["targets"]
    assert (target["name"], target["target"]) == ("card render p99", TARGET_MS)
    assert "render: p50 " in result.stderr and "card render p99" in result.stderr
    assert (tmp_path / "kept" / "summary.json").is_file()
