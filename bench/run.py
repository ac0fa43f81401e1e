"""The benchmark runner: generate, ingest, then time the serving core and a naive baseline.

The parent process generates the corpus, ingests it with the real ingester and builds the
query mix. Serving is measured in a fresh child process
(`python -m quotebot.bench.run serve`), so its peak RSS is the serving process's own; the
naive baseline (rapidfuzz over every quote) runs in another child
(`python -m quotebot.bench.run baseline`). Children exchange JSON files with the parent.
Every search, autocomplete and random call goes through the functions the adapters call:
`Registry.dispatch` and `complete_query`.

With `--db postgresql://…` the same corpus, ingested into SQLite as above, is moved into
that (empty) PostgreSQL database by `quotebot copy`, and the children serve from it
(bench/target.py); a PostgreSQL database an earlier run filled is reused as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import rapidfuzz

from quotebot.bench import target as targets
from quotebot.bench.corpus import DEFAULT_SEED, generate
from quotebot.bench.queries import (
    CATEGORIES,
    PER_CATEGORY,
    QueryMix,
    build_mix,
    completes,
    contains_run,
)
from quotebot.store import fts
from quotebot.store.pg_db import redacted

log = logging.getLogger(__name__)

Say = Callable[[str], None]

# The naive scan costs seconds per query at a million quotes, so it times a sample: the first
# BASELINE_MISSPELLED misspelled queries (its hit rate is compared on those) and a few others.
BASELINE_MISSPELLED = 20
BASELINE_EXTRA_PER_CATEGORY = 2
TARGET_QUOTES = 1_000_000
WARMUP_COMPLETE = 30  # untimed autocomplete and random calls before the timed ones (serve)
WARMUP_RANDOM = 50
TARGETS = {
    "search_p99_ms": 25.0,
    "autocomplete_p99_ms": 25.0,
    "random_p99_ms": 5.0,
    "speedup": 200.0,
    "ingest_mb_per_s": 5.0,
    "peak_rss_mb": 200.0,
}
# Serving from PostgreSQL (issue 14): each statement is a round trip to a server process.
PG_TARGETS = {**TARGETS, "search_p99_ms": 50.0, "autocomplete_p99_ms": 50.0,
              "random_p99_ms": 10.0}


# ---- measurements -------------------------------------------------------------------------


def latency(seconds: list[float]) -> dict:
    """Percentiles (linear interpolation) of call times, in milliseconds."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None,
                "max_ms": None}
    ms = sorted(s * 1000 for s in seconds)

    def pct(p: float) -> float:
        k = (len(ms) - 1) * p
        low = int(k)
        high = min(low + 1, len(ms) - 1)
        return round(ms[low] + (ms[high] - ms[low]) * (k - low), 3)

    return {"n": len(ms), "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(sum(ms) / len(ms), 3), "max_ms": round(ms[-1], 3)}


def hit_rates(records: list[dict]) -> dict:
    """Top-1/top-5 rates: `hit` = the target itself, `match` = the target or its equal."""
    n = len(records)
    if not n:
        return {"n": 0, "hit1": None, "hit5": None, "match1": None, "match5": None}
    return {
        "n": n,
        **{key: round(sum(1 for r in records if r[key]) / n, 3)
           for key in ("hit1", "hit5", "match1", "match5")},
    }


def memory() -> dict:
    """Peak and current RSS of this process in MB.

    The peak is VmHWM, the high-water mark of this address space. ru_maxrss is reported too
    but not used: Linux carries the parent's peak into a child across fork+exec.
    """
    info: dict = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                info[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss = psutil.Process().memory_info().rss / 2**20
    return {
        "peak_rss_mb": info.get("VmHWM", round(maxrss, 1)),
        "rss_mb": info.get("VmRSS", round(rss, 1)),
        "rss_anon_mb": info.get("RssAnon"),
        "rss_file_mb": info.get("RssFile"),
        "ru_maxrss_mb": round(maxrss, 1),
    }


def target_line(target: dict, sign: str = "≤") -> str:
    """One `  PASS name value unit (target ≤ x)` line of a case's report."""
    return (f"  {'PASS' if target['pass'] else 'FAIL'} {target['name']:<28} {target['value']} "
            f"{target['unit']} (target {sign} {target['target']})")


def machine() -> dict:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model or platform.processor() or None,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "rapidfuzz": rapidfuzz.__version__,
    }


def disk_bytes(db_path: Path | str) -> int:
    return asyncio.run(targets.size_bytes(db_path))


# ---- parent: ingest and the query mix ------------------------------------------------------


async def ingest(corpus_dir: Path, db_path: Path, say: Say) -> dict:
    """Ingest the corpus into a fresh database with the real ingester, timed end to end.

    The clock runs from opening the new database to closing it: parsing, segmenting, the
    inserts with their FTS index updates, the term snapshot and the final WAL checkpoint.
    """
    from quotebot.bot.ingest.runner import ingest_paths
    from quotebot.store.db import Database
    from quotebot.store.quotes import QuoteStore

    files = sorted(corpus_dir.glob("*.txt"))
    total_bytes = sum(p.stat().st_size for p in files)
    marks = {"last_file": 0.0}
    step = max(1, len(files) // 10)

    def progress(i: int, total: int, result) -> None:
        marks["last_file"] = time.perf_counter()
        if i % step == 0 or i == total:
            say(f"  ingested {i}/{total} files")

    started = time.perf_counter()
    db = await Database.open(db_path)
    try:
        report = await ingest_paths(QuoteStore(db), [corpus_dir], progress=progress)
        ingested = time.perf_counter()
    finally:
        await db.close()
    seconds = time.perf_counter() - started
    failed = [f.error for f in report.failed]
    if failed:
        raise RuntimeError(f"{len(failed)} corpus files failed to ingest, e.g. {failed[0]}")
    return {
        "files": len(files),
        "bytes": total_bytes,
        "seconds": round(seconds, 3),
        "mb_per_s": round(total_bytes / 1e6 / seconds, 3),
        "terms_refresh_seconds": round(ingested - marks["last_file"], 3),
        "close_seconds": round(seconds - (ingested - started), 3),
    }


async def prepare(db_path: Path | str, mix_path: Path, seed: int, per_category: int) -> dict:
    """Database statistics and the query mix, from the database as the bot would open it."""
    async with targets.open_services(db_path) as services:
        stats = await services.library.store.stats()
        mix = await build_mix(services.library, seed=seed, per_category=per_category)
    mix.save(mix_path)
    return {
        "engine": "postgresql" if targets.is_postgres(str(db_path)) else "sqlite",
        "quotes": stats["quotes"],
        "good_quotes": stats["good_quotes"],
        "terms": stats["terms"],
        "sources": stats["sources"],
        "speakers": stats["speakers"],
        "bytes": await targets.size_bytes(db_path),
        "server": await targets.server(db_path),
    }


def child(mode: str, db_path: Path | str, mix_path: Path, out_path: Path, *extra: str
          ) -> dict:
    """Run `python -m quotebot.bench.run <mode>` in a fresh process and return the JSON it wrote."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # The child runs in the package's folder: paths given relative to ours are made whole.
    if not targets.is_postgres(str(db_path)):
        db_path = Path(db_path).resolve()
    command = [sys.executable, "-m", "quotebot.bench.run", mode, "--db", str(db_path),
               "--mix", str(mix_path.resolve()), "--out", str(out_path.resolve()), *extra]
    done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench {mode} process failed:\n{done.stderr[-4000:]}")
    return json.loads(out_path.read_text("utf-8"))


# ---- child: serving ------------------------------------------------------------------------


class Profiler:
    """Times the searcher's steps by wrapping methods of one library's instances.

    Wraps what `Searcher.search` calls that exists in this version of the core; missing
    methods are skipped, so the profile keeps working while the search code changes.
    """

    def __init__(self, library) -> None:
        self.current: dict | None = None
        store, searcher = library.store, library.searcher
        vocabulary = searcher.vocabulary
        self._wrap(store, "match", self._record_match)
        self._wrap(store, "texts", self._record("texts_ms", "candidates", len))
        self._wrap(store, "get_quotes", self._record("rows_ms"))
        self._wrap(searcher, "plan", self._record("plan_ms"))
        self._wrap(searcher, "_rerank", self._record("rerank_ms"))
        self._wrap(vocabulary, "corrections", self._record("corrections_ms"))
        self._wrap(vocabulary, "completions", self._record("completions_ms"))
        self._wrap(vocabulary, "frequencies", self._record("frequencies_ms"))

    def _record(self, key: str, count_key: str | None = None, count=None):
        def record(ms: float, result, *args, **kwargs) -> None:
            if self.current is not None:
                self.current[key] = self.current.get(key, 0.0) + ms
                if count_key:
                    self.current[count_key] = count(result)
        return record

    def _record_match(self, ms: float, rows, query, limit, *, ranked) -> None:
        if self.current is not None:
            self.current.setdefault("fts", []).append(
                {"expression": fts.expression(query)[:300], "ranked": ranked, "limit": limit,
                 "rows": len(rows), "ms": round(ms, 3)})
            self.current["fts_ms"] = self.current.get("fts_ms", 0.0) + ms

    @staticmethod
    def _wrap(obj, name: str, record) -> None:
        original = getattr(obj, name, None)
        if original is None:
            return
        if inspect.iscoroutinefunction(original):
            async def wrapped(*args, **kwargs):
                started = time.perf_counter()
                result = await original(*args, **kwargs)
                record((time.perf_counter() - started) * 1000, result, *args, **kwargs)
                return result
        else:
            def wrapped(*args, **kwargs):
                started = time.perf_counter()
                result = original(*args, **kwargs)
                record((time.perf_counter() - started) * 1000, result, *args, **kwargs)
                return result
        setattr(obj, name, wrapped)


def _judge(query, quotes) -> dict:
    """hit/match flags of a result list (Quote objects, best first) for a SearchQuery."""
    from quotebot.bot.tokens import tokenize

    ids = [q.id for q in quotes]
    matches = [
        q.id == query.expected_id or (
            contains_run(tokenize(q.text), query.phrase)
            and (query.speaker_id is None or q.speaker_id == query.speaker_id)
        )
        for q in quotes
    ]
    return {
        "hit1": ids[:1] == [query.expected_id], "hit5": query.expected_id in ids[:5],
        "match1": any(matches[:1]), "match5": any(matches[:5]),
    }


async def serve(db_path: Path | str, mix_path: Path, profile: bool) -> dict:
    """Open the services as the bot does and time the query mix through the core."""
    from quotebot.bot.all_commands import build_registry
    from quotebot.bot.commands import complete_query
    from quotebot.bot.models import QuoteReply, Request
    from quotebot.bot.tokens import tokenize

    load_before = os.getloadavg()
    started = time.perf_counter()
    async with targets.open_services(db_path) as services:
        startup = time.perf_counter() - started
        after_load = memory()
        registry = build_registry()
        mix = QueryMix.load(mix_path)
        library = services.library

        def search_request(q) -> Request:
            return Request("search", {"query": q.text, "speaker": q.speaker, "limit": 5})

        def complete_request(q) -> Request:
            return Request("search", {"query": q.text, "speaker": q.speaker})

        # Untimed first calls of each kind. On PostgreSQL each of the pool's connections
        # plans a statement afresh its first five times (~2 ms for a random draw's join)
        # before it keeps a plan: a bot is past that within minutes, so the timed calls
        # start after enough calls to pass it on most connections.
        for q in mix.warmup:
            await registry.dispatch(search_request(q), services)
        for q in mix.complete[:WARMUP_COMPLETE]:
            await complete_query(services, q.text, complete_request(q))
        for r in mix.random[:WARMUP_RANDOM]:
            await registry.dispatch(Request("random", {"speaker": r.speaker}), services)

        search_records = []
        for q in mix.search:
            request = search_request(q)
            c0, t0 = time.process_time(), time.perf_counter()
            reply = await registry.dispatch(request, services)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            quotes = list(reply.quotes) if isinstance(reply, QuoteReply) else []
            search_records.append({"category": q.category, "query": q.text,
                                   "speaker": q.speaker, "seconds": elapsed, "cpu": cpu,
                                   "results": len(quotes), **_judge(q, quotes)})

        complete_records = []
        for q in mix.complete:
            request = complete_request(q)
            c0, t0 = time.process_time(), time.perf_counter()
            choices = await complete_query(services, q.text, request)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            ids = [int(c.value.lstrip("#")) for c in choices]
            texts = await library.store.texts(ids)
            matches = [
                i == q.expected_id or completes(tokenize(texts.get(i, "")), q.words, q.partial)
                for i in ids
            ]
            complete_records.append({
                "seconds": elapsed, "cpu": cpu, "speaker": q.speaker is not None,
                "results": len(ids),
                "hit1": ids[:1] == [q.expected_id], "hit5": q.expected_id in ids[:5],
                "match1": any(matches[:1]), "match5": any(matches[:5]),
            })

        random_records = []
        for r in mix.random:
            request = Request("random", {"speaker": r.speaker})
            c0, t0 = time.process_time(), time.perf_counter()
            reply = await registry.dispatch(request, services)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            random_records.append({"seconds": elapsed, "cpu": cpu,
                                   "speaker": r.speaker is not None,
                                   "ok": isinstance(reply, QuoteReply)})

        profiles = []
        if profile:
            # A second, instrumented pass: the wrappers cost a little, so it is not timed above.
            profiler = Profiler(library)
            passes = [(q.category, q, search_request(q)) for q in mix.search]
            for category, q, request in passes:
                profiler.current = {"category": category, "query": q.text,
                                    "speaker": q.speaker}
                t0 = time.perf_counter()
                await registry.dispatch(request, services)
                profiler.current["total_ms"] = (time.perf_counter() - t0) * 1000
                profiles.append(profiler.current)
            for q in mix.complete:
                profiler.current = {"category": "autocomplete", "query": q.text,
                                    "speaker": q.speaker}
                t0 = time.perf_counter()
                await complete_query(services, q.text, complete_request(q))
                profiler.current["total_ms"] = (time.perf_counter() - t0) * 1000
                profiles.append(profiler.current)
            profiler.current = None
        final = memory()
    return {
        "startup_seconds": round(startup, 3),
        "memory": final,
        "memory_after_load": after_load,
        "search": search_records,
        "complete": complete_records,
        "random": random_records,
        "profiles": profiles,
        "vocabulary_terms": len(library.searcher.vocabulary),
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
    }


# ---- child: the naive baseline --------------------------------------------------------------


def baseline_sample(mix: QueryMix) -> list:
    """The misspelled queries the baseline is compared on, plus a few of each other category.

    Speaker-filtered queries are left out: the naive scan has no filter.
    """
    sample = []
    for category in CATEGORIES:
        queries = [q for q in mix.search if q.category == category and q.speaker is None]
        count = BASELINE_MISSPELLED if category == "misspelled" else BASELINE_EXTRA_PER_CATEGORY
        sample += queries[:count]
    return sample


async def _all_texts(db_path: Path | str) -> tuple[list[int], list[str]]:
    from quotebot.store.quotes import QuoteStore

    db = await targets.open_database(db_path)
    try:
        store = QuoteStore(db)
        total = await store.count_quotes()
        ids: list[int] = []
        texts: list[str] = []
        chunk = 20_000
        low = 1
        # Fresh benchmark databases number their quotes 1..n; read until all are found.
        while len(ids) < total:
            batch = await store.texts(list(range(low, low + chunk)))
            for qid in sorted(batch):
                ids.append(qid)
                texts.append(batch[qid])
            low += chunk
            if low > total * 4 + chunk:
                break
        return ids, texts
    finally:
        await db.close()


def baseline(db_path: Path | str, mix_path: Path) -> dict:
    """What a simple bot does: rapidfuzz `process.extract` (WRatio) over every quote's text.

    Texts are lower-cased and stripped of punctuation once, up front (rapidfuzz's
    `default_process`), so the scan compares like with like and pays no per-call cleanup.
    """
    from rapidfuzz import fuzz, process, utils

    from quotebot.bot.tokens import tokenize

    mix = QueryMix.load(mix_path)
    started = time.perf_counter()
    ids, texts = asyncio.run(_all_texts(db_path))
    processed = [utils.default_process(t) for t in texts]
    load = time.perf_counter() - started
    records = []
    for q in baseline_sample(mix):
        t0 = time.perf_counter()
        found = process.extract(utils.default_process(q.text), processed, scorer=fuzz.WRatio,
                                limit=5, processor=None)
        elapsed = time.perf_counter() - t0
        top = [ids[index] for _, _, index in found]
        matches = [
            qid == q.expected_id or contains_run(tokenize(texts[index]), q.phrase)
            for qid, (_, _, index) in zip(top, found, strict=True)
        ]
        records.append({
            "category": q.category, "query": q.text, "seconds": elapsed,
            "hit1": top[:1] == [q.expected_id], "hit5": q.expected_id in top,
            "match1": any(matches[:1]), "match5": any(matches[:5]),
        })
    return {"quotes": len(texts), "load_seconds": round(load, 3), "records": records,
            "memory": memory()}


# ---- parent: putting a run together ----------------------------------------------------------


def cpu_share(records: list[dict]) -> float | None:
    """CPU time over wall time of timed calls: well below 1 means waiting (I/O, other load)."""
    wall = sum(r["seconds"] for r in records)
    return round(sum(r["cpu"] for r in records) / wall, 3) if wall else None


def summarize_serve(raw: dict) -> dict:
    search = raw["search"]
    complete = raw["complete"]
    randoms = raw["random"]
    by_category = {c: [r for r in search if r["category"] == c] for c in CATEGORIES}
    slowest = sorted(raw["profiles"], key=lambda p: -p["total_ms"])[:10] if raw["profiles"] \
        else []
    profile = {}
    if raw["profiles"]:
        groups: dict[str, list[dict]] = {}
        for p in raw["profiles"]:
            groups.setdefault(p["category"], []).append(p)
        for category, items in groups.items():
            profile[category] = {
                key: round(sum(p.get(key, 0.0) for p in items) / len(items), 3)
                for key in ("total_ms", "plan_ms", "frequencies_ms", "corrections_ms",
                            "completions_ms", "fts_ms", "texts_ms", "rerank_ms", "rows_ms",
                            "candidates")
            }
            profile[category]["fts_queries"] = round(
                sum(len(p.get("fts", [])) for p in items) / len(items), 2)
    return {
        "startup_seconds": raw["startup_seconds"],
        "vocabulary_terms": raw["vocabulary_terms"],
        "peak_rss_mb": raw["memory"]["peak_rss_mb"],
        "memory": raw["memory"],
        "memory_after_load": raw["memory_after_load"],
        "load_average": raw["load_average"],
        "cpu_share": {"search": cpu_share(search), "autocomplete": cpu_share(complete),
                      "random": cpu_share(randoms)},
        "search": {
            "overall": latency([r["seconds"] for r in search]),
            "by_category": {c: latency([r["seconds"] for r in rs])
                            for c, rs in by_category.items()},
            "hits": {c: hit_rates(rs) for c, rs in by_category.items()},
            "empty": sum(1 for r in search if not r["results"]),
        },
        "autocomplete": {
            "overall": latency([r["seconds"] for r in complete]),
            "without_speaker": latency([r["seconds"] for r in complete if not r["speaker"]]),
            "with_speaker": latency([r["seconds"] for r in complete if r["speaker"]]),
            "hits": hit_rates(complete),
            "empty": sum(1 for r in complete if not r["results"]),
        },
        "random": {
            "overall": latency([r["seconds"] for r in randoms]),
            "without_speaker": latency([r["seconds"] for r in randoms if not r["speaker"]]),
            "with_speaker": latency([r["seconds"] for r in randoms if r["speaker"]]),
            "failed": sum(1 for r in randoms if not r["ok"]),
        },
        "profile": profile,
        "slowest": [
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in p.items()}
            for p in slowest
        ],
    }


def summarize_baseline(raw: dict, serve_raw: dict) -> dict:
    records = raw["records"]
    by_category = {c: [r for r in records if r["category"] == c] for c in CATEGORIES}
    sampled = {(r["category"], r["query"]) for r in records}
    ours = [r for r in serve_raw["search"] if (r["category"], r["query"]) in sampled]
    return {
        "method": "rapidfuzz.process.extract(query, texts, scorer=WRatio, limit=5) over every "
                  "quote, texts preprocessed once with rapidfuzz.utils.default_process",
        "quotes": raw["quotes"],
        "load_seconds": raw["load_seconds"],
        "peak_rss_mb": raw["memory"]["peak_rss_mb"],
        "latency": latency([r["seconds"] for r in records]),
        "hits": {c: hit_rates(rs) for c, rs in by_category.items() if rs},
        "sample": len(records),
        # Our search on exactly the sampled queries, for a like-for-like comparison.
        "search_same_queries": latency([r["seconds"] for r in ours]),
        "search_same_hits": {
            c: hit_rates([r for r in ours if r["category"] == c])
            for c in CATEGORIES if by_category[c]
        },
    }


def evaluate(run: dict) -> list[dict]:
    """The issue's targets, PASS/FAIL, for one run."""
    serve = run["serve"]
    limits = PG_TARGETS if run["database"].get("engine") == "postgresql" else TARGETS
    rows = []

    def add(name: str, value, target: float, ok: bool | None, unit: str) -> None:
        rows.append({"target": name, "value": value, "limit": target, "unit": unit,
                     "pass": ok})

    def at_most(name, value, limit, unit):
        add(name, value, limit, None if value is None else value <= limit, unit)

    def at_least(name, value, limit, unit):
        add(name, value, limit, None if value is None else value >= limit, unit)

    at_most("search p99", serve["search"]["overall"]["p99_ms"], limits["search_p99_ms"], "ms")
    at_most("autocomplete p99", serve["autocomplete"]["overall"]["p99_ms"],
            limits["autocomplete_p99_ms"], "ms")
    at_most("random p99", serve["random"]["overall"]["p99_ms"], limits["random_p99_ms"], "ms")
    base = run.get("baseline")
    if base:
        at_least("search speed-up vs naive scan (p50)", run["ratio"]["p50"], TARGETS["speedup"],
                 "x")
        ours = base["search_same_hits"].get("misspelled", {})
        theirs = base["hits"].get("misspelled", {})
        for key in ("hit1", "hit5"):
            if theirs.get(key) is not None:
                at_least(f"misspelled {key} vs naive scan", ours[key], theirs[key], "rate")
    if run.get("ingest"):
        at_least("ingest throughput", run["ingest"]["mb_per_s"], TARGETS["ingest_mb_per_s"],
                 "MB/s")
    at_most("serving peak RSS", serve["peak_rss_mb"], TARGETS["peak_rss_mb"], "MB")
    return rows


@dataclass
class Options:
    seed: int = DEFAULT_SEED
    per_category: int = PER_CATEGORY
    baseline: bool = True
    profile: bool = True
    keep: Path | None = None
    db: Path | str | None = None  # a SQLite file to reuse, or a PostgreSQL URL to serve from
    copy_from: Path | None = None  # with a PostgreSQL `db`: the SQLite database to copy


def run_size(quotes: int, options: Options, work: Path, say: Say) -> dict:
    """Generate (or reuse), ingest, build the mix, then measure serving and the baseline."""
    result: dict = {"quotes_target": quotes, "corpus": None, "ingest": None, "copy": None}
    postgres = options.db is not None and targets.is_postgres(str(options.db))
    if postgres and targets.usable(str(options.db), asyncio.run(targets.contents(
            str(options.db))), fill=options.copy_from is not None):
        say(f"reusing the PostgreSQL database {redacted(str(options.db))}")
        db_path = str(options.db)
        result["quotes_target"] = None
    elif postgres and options.copy_from:
        db_path = options.copy_from
        if not db_path.exists():
            raise FileNotFoundError(f"no database at {db_path}")
        result["quotes_target"] = None
    elif options.db and not postgres:
        db_path = Path(options.db)
        if not db_path.exists():
            raise FileNotFoundError(f"no database at {db_path}")
        say(f"reusing the database {db_path}")
        result["quotes_target"] = None
    else:
        corpus_dir = work / "corpus"
        db_path = work / "bench.db"
        if db_path.exists():
            for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
                path.unlink(missing_ok=True)
        if corpus_dir.exists():
            shutil.rmtree(corpus_dir)
        say(f"generating a corpus of about {quotes:,} quotes in {corpus_dir}")
        info = generate(quotes, corpus_dir, seed=options.seed)
        result["corpus"] = info.to_json()
        say(f"  {info.files} files, {info.bytes / 1e6:.1f} MB in {info.seconds:.1f} s")
        say("ingesting with the real ingester into a fresh database")
        result["ingest"] = asyncio.run(ingest(corpus_dir, db_path, say))
        say(f"  {result['ingest']['mb_per_s']:.2f} MB/s ({result['ingest']['seconds']:.1f} s)")
    if postgres and db_path != str(options.db):
        say(f"copying {db_path} into {redacted(str(options.db))} (quotebot copy)")
        result["copy"] = asyncio.run(targets.fill(db_path, str(options.db), say))
        say(f"  {result['copy']['rows']:,} rows in {result['copy']['seconds']:.1f} s")
        db_path = str(options.db)
    mix_path = work / "mix.json"
    say("building the query mix")
    result["database"] = asyncio.run(prepare(db_path, mix_path, options.seed,
                                             options.per_category))
    say(f"  {result['database']['quotes']:,} quotes, {result['database']['terms']:,} terms")
    say("measuring the serving process")
    extra = ["--profile"] if options.profile else []
    serve_raw = child("serve", db_path, mix_path, work / "serve.json", *extra)
    result["serve"] = summarize_serve(serve_raw)
    if options.baseline:
        say("measuring the naive baseline")
        base_raw = child("baseline", db_path, mix_path, work / "baseline.json")
        result["baseline"] = summarize_baseline(base_raw, serve_raw)
        ours_p50 = result["serve"]["search"]["overall"]["p50_ms"]
        base_p50 = result["baseline"]["latency"]["p50_ms"]
        result["ratio"] = {
            "p50": round(base_p50 / ours_p50, 1) if ours_p50 else None,
            "baseline_p50_ms": base_p50,
            "search_p50_ms": ours_p50,
            "same_queries_p50": round(
                base_p50 / result["baseline"]["search_same_queries"]["p50_ms"], 1)
            if result["baseline"]["search_same_queries"]["p50_ms"] else None,
        }
    else:
        result["baseline"] = None
        result["ratio"] = None
    result["targets"] = evaluate(result)
    return result


def run(sizes: list[int], options: Options, say: Say) -> dict:
    """The whole benchmark: one run per size (smallest first); the largest is the result."""
    sizes = sorted(set(sizes))
    if options.db:  # one database: one size
        sizes = sizes[-1:]
    started = time.perf_counter()
    temp = None
    if options.keep:
        base = options.keep
        base.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="quotebot-bench-")
        base = Path(temp)
    runs = []
    try:
        reused = options.db is not None and not targets.is_postgres(str(options.db))
        for quotes in sizes:
            work = base / ("existing-db" if reused else f"q{quotes}")
            work.mkdir(parents=True, exist_ok=True)
            say("== existing database ==" if reused else f"== {quotes:,} quotes ==")
            runs.append(run_size(quotes, options, work, say))
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    largest = runs[-1]
    return {
        "machine": machine(),
        "config": {
            "sizes": sizes, "seed": options.seed, "per_category": options.per_category,
            "categories": list(CATEGORIES), "baseline": options.baseline,
            "db": redacted(str(options.db)) if options.db else None,
            "copy_from": str(options.copy_from) if options.copy_from else None,
            "kept": str(options.keep) if options.keep else None,
            "targets_at_quotes": TARGET_QUOTES,
        },
        "runs": runs,
        "result": largest,
        "targets": largest["targets"],
        "seconds": round(time.perf_counter() - started, 1),
    }


# ---- report ----------------------------------------------------------------------------------


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rate(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(summary: dict) -> str:
    """A readable report of a benchmark summary."""
    out: list[str] = []
    m = summary["machine"]
    out.append(f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, "
               f"Python {m['python']}, SQLite {m['sqlite']}, rapidfuzz {m['rapidfuzz']}")
    for result in summary["runs"]:
        out.append("")
        db = result["database"]
        out.append(f"== {db['quotes']:,} quotes, {db['terms']:,} terms, {db['sources']} sources,"
                   f" {db['speakers']} speakers; {db.get('engine', 'sqlite')} database "
                   f"{db['bytes'] / 1e6:.1f} MB ==")
        if db.get("server"):
            out.append("PostgreSQL " + ", ".join(f"{k} {v}" for k, v in db["server"].items()))
        if result["ingest"]:
            ing = result["ingest"]
            out.append(f"ingest: {ing['bytes'] / 1e6:.1f} MB in {ing['seconds']:.1f} s = "
                       f"{ing['mb_per_s']:.2f} MB/s (terms refresh {ing['terms_refresh_seconds']}"
                       f" s, close {ing['close_seconds']} s)")
        if result.get("copy"):
            copied = result["copy"]
            out.append(f"copy into PostgreSQL: {copied['rows']:,} rows ({copied['quotes']:,} "
                       f"quotes) in {copied['seconds']:.1f} s, indexes, VACUUM and ANALYZE "
                       "included")
        s = result["serve"]
        out.append(f"serving: startup {s['startup_seconds']:.2f} s, peak RSS "
                   f"{s['peak_rss_mb']} MB (anon {s['memory']['rss_anon_mb']} MB, file "
                   f"{s['memory']['rss_file_mb']} MB at the end)")
        share = s["cpu_share"]
        out.append(f"CPU time / wall time of the timed calls: search {share['search']}, "
                   f"autocomplete {share['autocomplete']}, random {share['random']}; load "
                   f"average {s['load_average']['before'][0]} before, "
                   f"{s['load_average']['after'][0]} after (other work on the machine slows "
                   f"the timings)")
        out.append(f"{'':<22}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
                   f"{'hit@1':>7}{'hit@5':>7}{'match@1':>9}{'match@5':>9}")

        def row(name, lat, hits=None):
            hits = hits or {}
            out.append(f"{name:<22}{lat['n']:>5}{_ms(lat['p50_ms']):>9}{_ms(lat['p95_ms']):>9}"
                       f"{_ms(lat['p99_ms']):>9}{_ms(lat['max_ms']):>9}"
                       f"{_rate(hits.get('hit1')):>7}{_rate(hits.get('hit5')):>7}"
                       f"{_rate(hits.get('match1')):>9}{_rate(hits.get('match5')):>9}")

        row("search", s["search"]["overall"])
        for c in CATEGORIES:
            row(f"  {c}", s["search"]["by_category"][c], s["search"]["hits"][c])
        row("autocomplete", s["autocomplete"]["overall"], s["autocomplete"]["hits"])
        row("  without speaker", s["autocomplete"]["without_speaker"])
        row("  with speaker", s["autocomplete"]["with_speaker"])
        row("random", s["random"]["overall"])
        row("  without speaker", s["random"]["without_speaker"])
        row("  with speaker", s["random"]["with_speaker"])
        base = result.get("baseline")
        if base:
            row("naive scan (sample)", base["latency"])
            row("search, same sample", base["search_same_queries"])
            for c, hits in base["hits"].items():
                empty = {"n": hits["n"], "p50_ms": None, "p95_ms": None, "p99_ms": None,
                         "max_ms": None}
                row(f"  {c}: naive", empty, hits)
                row(f"  {c}: search", empty, base["search_same_hits"].get(c))
            out.append(f"speed-up: naive p50 {base['latency']['p50_ms']:.1f} ms / search p50 "
                       f"{result['ratio']['search_p50_ms']:.2f} ms = {result['ratio']['p50']}x")
        if s["slowest"]:
            out.append("slowest searches (instrumented pass):")
            for p in s["slowest"][:5]:
                fts = ", ".join(f"{f['rows']} rows {f['ms']:.1f} ms" for f in p.get("fts", []))
                out.append(f"  {p['total_ms']:.1f} ms {p['category']}: {p['query']!r}"
                           f"{' by ' + p['speaker'] if p.get('speaker') else ''} — plan "
                           f"{p.get('plan_ms', 0):.1f} ms, fts [{fts}], rerank "
                           f"{p.get('rerank_ms', 0):.1f} ms of {p.get('candidates', 0)}")
    out.append("")
    quotes = summary["result"]["database"]["quotes"]
    note = "" if quotes >= TARGET_QUOTES * 0.95 else \
        f" (the targets are set for {TARGET_QUOTES:,} quotes; this run has {quotes:,})"
    out.append(f"targets{note}:")
    for t in summary["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        sign = "≤" if t["target"].endswith(("p99", "RSS")) else "≥"
        out.append(f"  {verdict:<5}{t['target']:<38}{t['value']} {t['unit']} "
                   f"(target {sign} {t['limit']})")
    return "\n".join(out)


def plot(summary: dict, path: Path) -> str:
    """Latency against corpus size as a PNG; returns a message saying what happened."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install matplotlib)"
    runs = summary["runs"]
    sizes = [r["database"]["quotes"] for r in runs]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    series = [
        ("search", lambda r: r["serve"]["search"]["overall"]),
        ("autocomplete", lambda r: r["serve"]["autocomplete"]["overall"]),
        ("random", lambda r: r["serve"]["random"]["overall"]),
    ]
    for name, get in series:
        ax.plot(sizes, [get(r)["p50_ms"] for r in runs], marker="o", label=f"{name} p50")
        ax.plot(sizes, [get(r)["p99_ms"] for r in runs], marker="x", linestyle="--",
                label=f"{name} p99")
    if all(r.get("baseline") for r in runs):
        ax.plot(sizes, [r["baseline"]["latency"]["p50_ms"] for r in runs], marker="s",
                color="black", label="naive scan p50")
    ax.axhline(TARGETS["search_p99_ms"], color="grey", linestyle=":", linewidth=1)
    ax.axhline(TARGETS["random_p99_ms"], color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("quotes")
    ax.set_ylabel("latency (ms)")
    ax.set_title("quotebot latency vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"plot written to {path}"


# ---- child entry point -----------------------------------------------------------------------


def _child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m quotebot.bench.run")
    parser.add_argument("mode", choices=("serve", "baseline"))
    parser.add_argument("--db", required=True)  # a SQLite path or a PostgreSQL URL
    parser.add_argument("--mix", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.mode == "serve":
        data = asyncio.run(serve(args.db, args.mix, args.profile))
    else:
        data = baseline(args.db, args.mix)
    args.out.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
