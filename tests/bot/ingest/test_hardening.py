"""Hostile transcripts: YAML bombs, thousands of speakers, long tokens, invisible characters."""

from __future__ import annotations

import itertools
import string
import time

from bot.ingest.formats import parse_transcript
from bot.ingest.sentences import build_quotes


def distinct_names(count: int) -> list[str]:
    """`count` different two-word names that share no word with each other."""
    letters = string.ascii_lowercase
    words = ("".join(p) for p in itertools.product(letters, repeat=4))
    return [f"{next(words).title()} {next(words).title()}" for _ in range(count)]


def test_eight_thousand_speakers_merge_in_near_linear_time():
    names = distinct_names(8000)
    text = "".join(f"{name}: We talked about engine number {i} today.\n"
                   for i, name in enumerate(names))
    began = time.perf_counter()
    parsed = parse_transcript(text, "crowd.txt")
    drafts = build_quotes(parsed)
    elapsed = time.perf_counter() - began
    print(f"8,000 labels ({len(text) // 1024} KB): parsed and segmented in {elapsed:.2f} s")
    assert [p.name for p in parsed.meta.participants] == names
    assert len(drafts) == 8000 and drafts[-1].speaker == names[-1]
    assert elapsed < 10  # was 106 s (a roster built per label); about 0.5 s now


def test_short_forms_still_merge_among_many_speakers():
    names = distinct_names(300)
    lines = [f"{name}: Hello number {i}." for i, name in enumerate(names)]
    first, last = names[0].split()
    lines += [f"{last}: Short form by surname.", f"{first}: Short form by first name."]
    parsed = parse_transcript("\n".join(lines) + "\n", "crowd.txt")
    people = {p.name: p for p in parsed.meta.participants}
    assert len(people) == 300
    assert set(people[names[0]].aliases) == {first, last}
