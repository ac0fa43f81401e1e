"""Smoke test: decode, parse and segment a few MB of transcript without timing asserts."""

import re
import time
from pathlib import Path

import pytest

from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import build_quotes

SEED = Path(__file__).parents[2] / "data" / "formats" / "sutskever-straddle.txt"
TARGET_BYTES = 3_000_000


def _blocks() -> str:
    seed = SEED.read_text().rstrip("\n") + "\n"
    return seed * (TARGET_BYTES // len(seed) + 1)


def _colon() -> str:
    # The same speech as ``Name: text`` lines: each header folds into its text line.
    return re.sub(r"^(\w+ \w+) \([^)]*\) [\d:.]+\n", r"\1: ", _blocks(), flags=re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("make, layout", [(_blocks, "blocks"), (_colon, "colon")])
def test_a_few_megabytes_go_through(make, layout):
    data = make().encode()
    began = time.perf_counter()
    parsed = parse_transcript(decode(data, f"big-{layout}.txt"), f"big-{layout}.txt")
    quotes = build_quotes(parsed)
    seconds = time.perf_counter() - began
    assert parsed.format == layout
    assert {q.speaker for q in quotes} == {"Dwarkesh Patel", "Ilya Sutskever"}
    assert quotes[-1].position == len(quotes) - 1
    print(
        f"\n{layout}: {len(data) / 1e6:.1f} MB, {len(quotes)} units, "
        f"{len(data) / 1e6 / seconds:.1f} MB/s"
    )
