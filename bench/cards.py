"""`quotebot bench --case card`: how long drawing a quote card takes (target: 50 ms a card).

The quotes are the bundled corpus's highlights and a seeded sample of its quotes (lengths
from a few words to long answers), plus a few right-to-left, CJK and symbol quotes; each is
drawn in both themes with `quotebot.bot.cards.render`, the function the bot runs in a worker
thread, timed alone (layout, drawing and PNG encoding).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from quotebot.bench.run import latency, machine, target_line
from quotebot.bot import cards
from quotebot.bot.app import open_services
from quotebot.bot.models import Card, Quote

TARGET_MS = 50.0  # per card, p99 (issue 15)
SAMPLES = 200
WARMUP = 5  # the first cards load the fonts and their character maps
EXTRA = (
    ("הרעיונות זולים, הביצוע הוא הכול. מי שלא מנסה לא טועה, אבל גם לא לומד.", "דנה כהן"),
    ("الأفكار رخيصة، والتنفيذ هو كل شيء.", "سارة"),
    ("想法很便宜，执行才是一切。我们每天都在进步，一年以后产品已经完全不同了。", "李明"),
    ("アイデアは安い。実行がすべてだ。", "田中"),
    ("I ❤ this team ☕ and we ship ★ every day ✓ 😀", "Ada"),
)


async def _quotes(work: Path, seed: int, samples: int) -> list[Quote]:
    async with open_services(work / "cards.db", bundled=True) as services:
        library = services.library
        rows = await library.db.fetchall("SELECT id FROM highlights ORDER BY id")
        found = [await library.get_highlight(int(r["id"])) for r in rows]
        ids = [int(r["id"]) for r in await library.db.fetchall("SELECT id FROM quotes")]
        rng = random.Random(seed)
        for quote_id in rng.sample(ids, max(0, min(len(ids), samples - len(found)))):
            found.append(await library.get(quote_id))
    quotes = [q for q in found if q is not None][:samples]
    base = quotes[0]
    for i, (text, speaker) in enumerate(EXTRA):
        quotes.append(Quote(-(i + 1), text, speaker, base.source, base.source_slug, 61.0, 0,
                            0.9))
    return quotes


def run_cards(work: Path, seed: int, say: Callable[[str], None],
              samples: int = SAMPLES) -> dict:
    """Draw every sampled quote in both themes; the summary with latency and the target."""
    say("loading the bundled corpus…")
    quotes = asyncio.run(_quotes(work, seed, samples))
    for quote in quotes[:WARMUP]:
        cards.render(quote)
    seconds: list[float] = []
    drawn = refused = png_bytes = 0
    reasons: dict[str, int] = {}
    say(f"drawing {len(quotes)} quotes in {len(cards.THEMES)} themes…")
    for quote in quotes:
        for theme in cards.THEMES:
            started = time.perf_counter()
            result = cards.render(quote, theme)
            seconds.append(time.perf_counter() - started)
            if isinstance(result, Card):
                drawn += 1
                png_bytes += len(result.png)
            else:
                refused += 1
                kind = result.reason.split("(")[0].strip()
                reasons[kind] = reasons.get(kind, 0) + 1
    timing = latency(seconds)
    return {
        "case": "card", "machine": machine(), "load_average": list(os.getloadavg()),
        "raqm": cards.raqm(),
        "quotes": len(quotes), "cards": drawn, "no_card": refused, "no_card_reasons": reasons,
        "mean_png_bytes": round(png_bytes / drawn) if drawn else None,
        "render": timing,
        "targets": [{"name": "card render p99", "value": timing["p99_ms"],
                     "target": TARGET_MS, "unit": "ms",
                     "pass": timing["p99_ms"] is not None and timing["p99_ms"] <= TARGET_MS}],
    }


def render_cards(summary: dict) -> str:
    """The report: what was drawn, the render times, and the target."""
    m, r = summary["machine"], summary["render"]
    lines = [
        f"machine: {m.get('cpus')} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in summary['load_average'])}; "
        f"raqm (RTL shaping) {'available' if summary['raqm'] else 'missing'}",
        f"cards: {summary['quotes']} quotes x 2 themes = {summary['cards']} cards drawn, "
        f"{summary['no_card']} refused {summary['no_card_reasons'] or ''}; "
        f"PNG {summary['mean_png_bytes']:,} bytes on average",
        f"render: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
        f"max {r['max_ms']:.1f} ms",
        "targets:",
    ]
    lines += [target_line(t) for t in summary["targets"]]
    return "\n".join(lines)
