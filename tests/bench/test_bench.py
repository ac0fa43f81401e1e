"""The benchmark runs end to end on a tiny corpus; timings are reported, never asserted."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.bench.cli import bench
from quotebot.bench.corpus import generate
from quotebot.bench.queries import CATEGORIES, make_typo

pytestmark = pytest.mark.slow  # the benchmark's cases, at toy sizes

LATENCY = {"n", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms"}
HITS = {"n", "hit1", "hit5", "match1", "match5"}


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    keep = tmp_path_factory.mktemp("bench")
    result = CliRunner().invoke(
        bench, ["--quotes", "2000", "--queries", "20", "--json", "--keep", str(keep)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_summary_has_every_field(summary):
    assert {"machine", "config", "runs", "result", "targets", "seconds"} <= summary.keys()
    assert {"cpus", "cpu_model", "ram_gb", "python", "sqlite"} <= summary["machine"].keys()
    run = summary["result"]
    assert run is summary["runs"][-1] or run == summary["runs"][-1]
    assert {"files", "bytes", "speakers", "estimated_quotes"} <= run["corpus"].keys()
    assert {"seconds", "bytes", "mb_per_s", "terms_refresh_seconds"} <= run["ingest"].keys()
    assert {"quotes", "terms", "sources", "speakers", "bytes"} <= run["database"].keys()
    serve = run["serve"]
    assert {"startup_seconds", "peak_rss_mb", "memory", "profile", "slowest"} <= serve.keys()
    assert LATENCY <= serve["search"]["overall"].keys()
    assert set(serve["search"]["by_category"]) == set(CATEGORIES)
    for category in CATEGORIES:
        assert LATENCY <= serve["search"]["by_category"][category].keys()
        assert HITS <= serve["search"]["hits"][category].keys()
    for name in ("autocomplete", "random"):
        for part in ("overall", "without_speaker", "with_speaker"):
            assert LATENCY <= serve[name][part].keys()
    assert HITS <= serve["autocomplete"]["hits"].keys()
    assert LATENCY <= run["baseline"]["latency"].keys()
    assert HITS <= run["baseline"]["hits"]["misspelled"].keys()
    assert {"p50", "baseline_p50_ms", "search_p50_ms"} <= run["ratio"].keys()
    names = {t["target"] for t in summary["targets"]}
    assert {"search p99", "autocomplete p99", "random p99", "ingest throughput",
            "serving peak RSS", "search speed-up vs naive scan (p50)"} <= names
    assert all({"value", "limit", "pass"} <= t.keys() for t in summary["targets"])


def test_counts_are_sane(summary):
    run = summary["result"]
    assert 1000 <= run["database"]["quotes"] <= 4000
    assert run["database"]["speakers"] >= 10
    serve = run["serve"]
    assert serve["search"]["overall"]["n"] == 20 * len(CATEGORIES)
    assert serve["random"]["failed"] == 0
    assert serve["peak_rss_mb"] > 0


def test_hit_rates_are_sane(summary):
    hits = summary["result"]["serve"]["search"]["hits"]
    assert hits["exact"]["hit5"] >= 0.9
    assert hits["speaker"]["match5"] >= 0.9
    assert hits["misspelled"]["match5"] >= 0.7


def test_corpus_is_deterministic(tmp_path):
    first = generate(600, tmp_path / "a", seed=7)
    second = generate(600, tmp_path / "b", seed=7)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert first.bytes == second.bytes
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_typos_change_the_word():
    import random

    rng = random.Random(1)
    for word in ("execution", "research", "compute", "scaling"):
        for _ in range(20):
            typo = make_typo(word, rng)
            assert typo != word and len(typo) >= len(word) - 1
