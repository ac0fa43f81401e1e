"""`quotebot bench --case tenants`: search, autocomplete and random inside one library of many.

A database of `quotes` quotes spread over `quotes / 1000` libraries (Discord servers), each
with its own sources, every one also seeing the shared `bundled` collection. Requests come
from random libraries and are timed whole, as the bot runs them: the library resolved from
the channel (one indexed read), then the search (`search_page`), the autocomplete
(`complete_query`, the half-typed last word completed) or the random draw. Targets (issue
13): search and autocomplete p99 <= 25 ms, random p99 <= 5 ms, at 1M quotes over 1,000
libraries.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from quotebot.bench import target as targets
from quotebot.bench.corpus import base_sentences, invented_term, zipf_rank
from quotebot.bench.run import latency, machine, target_line
from quotebot.bot.app import open_services
from quotebot.bot.commands import complete_query
from quotebot.bot.models import ChannelRef, Request
from quotebot.store.pg_db import redacted
from quotebot.store.quotes import NewHighlight, NewQuote, NewSource, SpeakerInfo

QUOTES_PER_LIBRARY = 1000
SOURCES_PER_LIBRARY = 4
HIGHLIGHT_EVERY = 8  # one quote in 8 is a highlight of its own
TARGETS_MS = {"search": 25.0, "autocomplete": 25.0, "random": 5.0}
PG_TARGETS_MS = {"search": 50.0, "autocomplete": 50.0, "random": 10.0}  # issue 14's
WARMUP = 20


def _texts(rng: random.Random, base: list[str], count: int) -> list[str]:
    """`count` quote texts: bundled sentences with invented terms of Zipf-like frequency
    (so each library has words of its own and words all libraries share)."""
    texts = []
    for _ in range(count):
        words = rng.choice(base).split()[:24]
        for _ in range(2):
            words.insert(rng.randrange(len(words) + 1), invented_term(zipf_rank(rng)))
        texts.append(" ".join(words))
    return texts


async def _build(db_path: Path, quotes: int, seed: int, say) -> dict[int, list[str]]:
    """Fill the database; each library's quote texts, to ask about."""
    rng = random.Random(seed)
    base = [s for s in base_sentences() if 8 <= len(s.split()) <= 40]
    libraries = max(1, quotes // QUOTES_PER_LIBRARY)
    per_source = max(1, quotes // (libraries * SOURCES_PER_LIBRARY))
    asked: dict[int, list[str]] = {}
    started = time.monotonic()
    async with open_services(db_path, bundled=True) as services:
        library = services.library
        async with library.store.bulk_writes(large=True):
            for lib in range(libraries):
                store = await library.writer(library=("discord", str(lib)))
                asked[lib] = []
                for s in range(SOURCES_PER_LIBRARY):
                    people = [SpeakerInfo(f"Host {lib}", "Host", ()),
                              SpeakerInfo(f"Guest {lib}-{s}", None, ())]
                    texts = _texts(rng, base, per_source)
                    rows = [NewQuote(people[i % 2].name, t, float(i), i, 0.3 + 0.7 * rng.random())
                            for i, t in enumerate(texts)]
                    marks = [NewHighlight(q.speaker, q.position, q.position, q.text, q.start,
                                          0.5 + 0.5 * rng.random())
                             for q in rows[::HIGHLIGHT_EVERY]]
                    slug = f"lib{lib}-ep{s}"
                    await store.replace_source(
                        NewSource(slug, f"Episode {s} of server {lib}", None, None, None, None,
                                  "bench", slug, {}), people, rows, marks)
                    asked[lib] += rng.sample(texts, min(3, len(texts)))
                if lib % max(1, libraries // 10) == 0:
                    say(f"  library {lib + 1}/{libraries} "
                        f"({time.monotonic() - started:.0f} s)")
        await library.store.refresh_terms()
    return asked


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


async def _serve(db_path: Path | str, asked: dict[int, list[str]], seed: int, samples: int
                 ) -> dict[str, list[float]]:
    rng = random.Random(seed + 1)
    # Typos go into everyday words (the bundled interviews'), not into the invented terms,
    # which stand for names: people misspell "because", and copy a name they do not know.
    everyday = {w for s in base_sentences() for w in s.split()}
    times: dict[str, list[float]] = {"search": [], "autocomplete": [], "random": []}
    async with open_services(db_path, bundled=False) as services:
        library = services.library
        libs = list(asked)
        for n in range(samples + WARMUP):
            lib = rng.choice(libs)
            channel = ChannelRef("discord", str(lib), "c")
            words = rng.choice(asked[lib]).split()
            start = rng.randrange(max(1, len(words) - 6))
            phrase = words[start:start + rng.randint(3, 6)]
            query = " ".join(_typo(rng, w) if w in everyday and rng.random() < 0.2 else w
                             for w in phrase)
            partial = " ".join(phrase[:-1] + [phrase[-1][: max(2, len(phrase[-1]) // 2)]])

            began = time.perf_counter()
            scope = await library.scope(channel)
            await library.search_page(query, offset=0, limit=1, scope=scope)
            took_search = time.perf_counter() - began

            began = time.perf_counter()
            await complete_query(services, partial, Request("search", {}, None, channel))
            took_complete = time.perf_counter() - began

            began = time.perf_counter()
            scope = await library.scope(channel)
            await library.random(scope=scope, deck=None)
            took_random = time.perf_counter() - began
            if n >= WARMUP:
                times["search"].append(took_search)
                times["autocomplete"].append(took_complete)
                times["random"].append(took_random)
    return times


def run_tenants(work: Path, quotes: int, seed: int, say: Callable[[str], None],
                samples: int = 300, target: str | None = None) -> dict:
    """Build (or reuse, from `work`) the database, then time requests; the summary.

    `target`: a PostgreSQL URL to serve from instead: an empty database is filled from
    the SQLite one with `quotebot copy`, one an earlier run filled is reused.
    """
    db_path = work / f"tenants-{quotes}.db"
    reused = db_path.exists() and (work / f"tenants-{quotes}.asked").exists()
    started = time.monotonic()
    if reused:
        import json

        asked = {int(k): v for k, v in
                 json.loads((work / f"tenants-{quotes}.asked").read_text()).items()}
    else:
        say(f"building {quotes:,} quotes over {max(1, quotes // QUOTES_PER_LIBRARY):,} "
            "libraries…")
        asked = asyncio.run(_build(db_path, quotes, seed, say))
        import json

        (work / f"tenants-{quotes}.asked").write_text(json.dumps(asked))
    built = time.monotonic() - started
    serve_from: Path | str = db_path
    copied = None
    if target is not None:
        serve_from = target
        if not targets.usable(target, asyncio.run(targets.contents(target)), fill=False):
            say(f"copying it into {redacted(target)}…")
            copied = asyncio.run(targets.fill(db_path, target, say))
    say(f"timing {samples} requests of each kind from random libraries…")
    times = asyncio.run(_serve(serve_from, asked, seed, samples))
    results = {kind: latency(seconds) for kind, seconds in times.items()}
    limits = TARGETS_MS if target is None else PG_TARGETS_MS
    return {
        "case": "tenants", "machine": machine(), "load_average": list(os.getloadavg()),
        "quotes": quotes, "libraries": len(asked), "build_s": round(built, 1),
        "reused": reused, "engine": "sqlite" if target is None else "postgresql",
        "copy": copied, "db_bytes": asyncio.run(targets.size_bytes(serve_from)),
        "latency": results,
        "targets": [{"name": f"{kind} p99", "value": results[kind]["p99_ms"],
                     "target": limits[kind], "unit": "ms",
                     "pass": results[kind]["p99_ms"] is not None
                     and results[kind]["p99_ms"] <= limits[kind]}
                    for kind in limits],
    }


def render_tenants(summary: dict) -> str:
    m = summary["machine"]
    lines = [
        f"machine: {m.get('cpus')} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in summary['load_average'])}",
        f"tenants: {summary['quotes']:,} quotes over {summary['libraries']:,} libraries "
        f"(+ bundled); built in {summary['build_s']} s"
        f"{' (reused)' if summary['reused'] else ''}; served from "
        f"{summary.get('engine', 'sqlite')}, {summary['db_bytes'] / 2**20:.0f} MB",
    ]
    if summary.get("copy"):
        lines.append(f"copy into PostgreSQL: {summary['copy']['rows']:,} rows in "
                     f"{summary['copy']['seconds']} s")
    for kind, r in summary["latency"].items():
        lines.append(f"{kind:>12}: p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, "
                     f"p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms (n={r['n']})")
    lines.append("targets:")
    lines += [target_line(t) for t in summary["targets"]]
    return "\n".join(lines)
