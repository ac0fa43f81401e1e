"""The `bench --case folder` collection: 300 transcripts of 40-100 KB in the formats people export.

A real collection is many mid-sized files in mixed formats, not a few 500 KB files of one
layout, so per-file costs (process start-up, reading, hashing, the source's transaction)
weigh more. Files depend only on the seed; sentences come from bench.corpus's Varier (the
bundled interviews, varied). The layouts, by share of files:

    30% `Name: text` paragraphs with YAML front matter (.txt)
    20% `Name (Role) HH:MM:SS` block headers, cut every 20-45 words (.txt)
    15% `Name (HH:MM:SS):` headers over paragraphs, as Rev exports (.txt)
    10% `Name  M:SS` headers, as Otter exports (.txt)
    15% Markdown show notes: a heading, `**Name:**` paragraphs, `[MM:SS]` stamps (.md)
    5% SubRip cues with `Name:` labels (.srt), 5% WebVTT with `<v Name>` voices (.vtt)
"""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from quotebot.bench.corpus import DEFAULT_SEED, Person, Varier, base_sentences, plan_corpus

log = logging.getLogger(__name__)

FILES = 300
MIN_BYTES = 40_000
MAX_BYTES = 100_000
LAYOUTS = (("colon", 30), ("block", 20), ("rev", 15), ("otter", 10), ("markdown", 15),
           ("srt", 5), ("vtt", 5))


@dataclass(frozen=True)
class FolderInfo:
    root: str
    files: int
    bytes: int
    largest: int
    layouts: dict
    seconds: float

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _clock(seconds: int, *, hours: bool = True) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if hours or h else f"{m}:{s:02d}"


def _cue_time(seconds: float, comma: bool) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def render(layout: str, people: list[Person], varier: Varier, rng: random.Random,
           target: int, title: str) -> str:
    """One transcript of about `target` bytes in `layout`."""
    host, guests = people[0], people[1:]
    out: list[str] = []
    if layout in ("colon", "block"):
        out += ["---", f'title: "{title}"', "participants:"]
        for i, p in enumerate(people):
            out += [f"  - name: {p.name}", f"    role: {'Host' if i == 0 else p.role}",
                    f"    aliases: [{p.first}]"]
        out += ["---", ""]
    elif layout == "markdown":
        out += [f"# {title}", "", "Show notes and links are below the transcript.", "",
                "## Transcript", ""]
    elif layout == "vtt":
        out += ["WEBVTT", ""]
    size = sum(len(line) + 1 for line in out)
    clock = rng.randint(0, 40)
    cue = 1
    turn = 0
    while size < target:
        speaker = host if turn % 2 == 0 else rng.choice(guests)
        turn += 1
        count = rng.choice((1, 2, 2, 3)) if speaker is host else rng.choice((2, 3, 4, 5, 6))
        text = " ".join(varier.sentence(rng) for _ in range(count))
        role = "Host" if speaker is host else speaker.role
        lines: list[str] = []
        if layout == "colon":
            lines += [f"{speaker.name}: {text}", ""]
        elif layout == "block":
            words = text.split()
            while words:
                n = rng.randint(20, 45)
                chunk, words = words[:n], words[n:]
                lines += [f"{speaker.name} ({role}) {_clock(clock)}", " ".join(chunk)]
                clock += max(1, len(chunk) * 2 // 5)
        elif layout == "rev":
            lines += [f"{speaker.name} ({_clock(clock)}):", text, ""]
        elif layout == "otter":
            lines += [f"{speaker.name}  {_clock(clock, hours=False)}", text, ""]
        elif layout == "markdown":
            lines += [f"**{speaker.name}:** [{_clock(clock, hours=False)}] {text}", ""]
        else:
            words = text.split()
            first = True
            while words:
                n = rng.randint(8, 14)
                chunk, words = words[:n], words[n:]
                start, end = clock, clock + max(1, len(chunk) * 2 // 5)
                body = " ".join(chunk)
                if layout == "srt":
                    label = f"{speaker.name}: " if first else ""
                    lines += [str(cue), f"{_cue_time(start, True)} --> {_cue_time(end, True)}",
                              label + body, ""]
                else:
                    lines += [f"{_cue_time(start, False)} --> {_cue_time(end, False)}",
                              f"<v {speaker.name}>{body}", ""]
                cue += 1
                clock = end
                first = False
        clock += len(text.split()) * 2 // 5 + rng.randint(0, 3)
        out += lines
        size += sum(len(line) + 1 for line in lines)
    return "\n".join(out).rstrip("\n") + "\n"


def generate(root: Path, *, seed: int = DEFAULT_SEED, files: int = FILES) -> FolderInfo:
    """Write the collection into `root` (one folder per show, as collections are kept)."""
    started = time.perf_counter()
    plan = plan_corpus(600_000, seed)
    varier = Varier(base_sentences(), plan.people)
    layouts = [name for name, share in LAYOUTS for _ in range(share)]
    suffix = {"markdown": ".md", "srt": ".srt", "vtt": ".vtt"}
    total = largest = 0
    counts: dict[str, int] = {}
    for index in range(files):
        rng = random.Random(f"folder:{seed}:{index}")
        layout = layouts[(index * 37) % len(layouts)]
        counts[layout] = counts.get(layout, 0) + 1
        host_index = rng.randrange(plan.hosts)
        guests = rng.sample(plan.people[plan.hosts:], k=rng.choice((1, 1, 2, 3)))
        show = plan.shows[host_index]
        title = f"{show} #{index + 1}: {' and '.join(g.name for g in guests)}"
        text = render(layout, [plan.people[host_index], *guests], varier, rng,
                      rng.randint(MIN_BYTES, MAX_BYTES), title)
        folder = root / show.lower().replace(" ", "-")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"episode-{index + 1:04d}{suffix.get(layout, '.txt')}"
        data = text.encode("utf-8")
        path.write_bytes(data)
        total += len(data)
        largest = max(largest, len(data))
    return FolderInfo(str(root), files, total, largest, counts,
                      round(time.perf_counter() - started, 2))


TARGET_MB_PER_S = 8.0
TARGET_MEMORY_RATIO = 10.0


async def _ingest(root: Path, db_path: Path) -> dict:
    """Ingest `root` into a fresh database with the real ingester, timed end to end, with
    the time spent writing (the parent's share) apart from waiting for parsed files."""
    import quotebot.bot.ingest.runner as runner
    from quotebot.store.db import Database
    from quotebot.store.quotes import QuoteStore

    writing = [0.0]
    store_prepared = runner.store_prepared

    async def timed(store, prepared):
        started = time.perf_counter()
        try:
            return await store_prepared(store, prepared)
        finally:
            writing[0] += time.perf_counter() - started

    runner.store_prepared = timed
    try:
        started = time.perf_counter()
        db = await Database.open(db_path)
        try:
            report = await runner.ingest_paths(QuoteStore(db), [root])
        finally:
            await db.close()
        seconds = time.perf_counter() - started
    finally:
        runner.store_prepared = store_prepared
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} files failed, e.g. {report.failed[0].error}")
    return {"seconds": seconds, "writing_seconds": writing[0],
            "quotes": sum(f.quotes for f in report.files)}


def parse_memory(path: Path) -> int:
    """Peak bytes Python allocates to read, parse and segment one file (tracemalloc)."""
    import tracemalloc

    from quotebot.bot.highlights import common_words
    from quotebot.bot.ingest.runner import prepare

    # The word list is loaded once per process whatever the file (as the memory test
    # does): counted here, it made a 100 KB file look like 38 MB of parsing.
    common_words()
    tracemalloc.start()
    try:
        prepare(path, frozenset())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_folder(work: Path, seed: int, say, *, files: int = FILES) -> dict:
    """The folder case: generate, ingest, measure. Returns the JSON summary."""
    import asyncio

    from quotebot.bench.run import machine, memory

    root = work / "folder"
    db_path = work / "folder.db"
    for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        path.unlink(missing_ok=True)
    if root.exists():
        import shutil

        shutil.rmtree(root)
    say(f"generating {files} transcripts of 40-100 KB in {root}")
    info = generate(root, seed=seed, files=files)
    say(f"  {info.files} files, {info.bytes / 1e6:.1f} MB (largest {info.largest / 1e3:.0f} KB)"
        f" in {info.seconds:.1f} s")
    before = memory()
    say("ingesting the folder with the real ingester into a fresh database")
    cpu = time.process_time()
    result = asyncio.run(_ingest(root, db_path))
    cpu = time.process_time() - cpu
    after = memory()
    largest = max(root.rglob("*.*"), key=lambda p: p.stat().st_size)
    parse_peak = parse_memory(largest)
    mb_per_s = info.bytes / 1e6 / result["seconds"]
    summary = {
        "case": "folder",
        "machine": {**machine(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "corpus": info.to_json(),
        "ingest": {
            "seconds": round(result["seconds"], 3),
            "mb_per_s": round(mb_per_s, 3),
            "quotes": result["quotes"],
            "writing_seconds": round(result["writing_seconds"], 3),
            "parent_cpu_seconds": round(cpu, 3),
        },
        "memory": {
            "largest_file_bytes": largest.stat().st_size,
            "parse_peak_bytes": parse_peak,
            "parse_peak_ratio": round(parse_peak / largest.stat().st_size, 2),
            "process_rss_growth_mb": round(after["peak_rss_mb"] - before["rss_mb"], 1),
        },
    }
    summary["targets"] = [
        {"name": "folder ingest throughput", "value": round(mb_per_s, 2),
         "target": TARGET_MB_PER_S, "unit": "MB/s", "pass": mb_per_s >= TARGET_MB_PER_S},
        {"name": "parse peak / largest file", "value": summary["memory"]["parse_peak_ratio"],
         "target": TARGET_MEMORY_RATIO, "unit": "x",
         "pass": summary["memory"]["parse_peak_ratio"] <= TARGET_MEMORY_RATIO},
    ]
    return summary


def render_folder(summary: dict) -> str:
    m = summary["machine"]
    i, mem, c = summary["ingest"], summary["memory"], summary["corpus"]
    lines = [
        f"machine: {m.get('cpus')} CPUs, load average {m.get('load_average')}",
        f"folder: {c['files']} files, {c['bytes'] / 1e6:.1f} MB, layouts {c['layouts']}",
        f"ingest: {i['seconds']:.2f} s = {i['mb_per_s']:.2f} MB/s, {i['quotes']:,} quotes; "
        f"writing {i['writing_seconds']:.2f} s, waiting for parsed files or setting up "
        f"{i['seconds'] - i['writing_seconds']:.2f} s; parent CPU {i['parent_cpu_seconds']:.2f} s",
        f"memory: parsing the largest file ({mem['largest_file_bytes'] / 1e3:.0f} KB) peaks at "
        f"{mem['parse_peak_bytes'] / 1e6:.2f} MB ({mem['parse_peak_ratio']}x); the ingesting "
        f"process grew by {mem['process_rss_growth_mb']} MB (SQLite's cache included)",
        "targets:",
    ]
    from quotebot.bench.run import target_line

    lines += [target_line(t, "≥" if t["unit"] == "MB/s" else "≤") for t in summary["targets"]]
    return "\n".join(lines)
