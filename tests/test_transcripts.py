"""Faithfulness checks for the bundled transcript corpus in transcripts/.

The rule these tests enforce: an annotated transcript may add speaker labels, punctuation,
capitalisation and line wrapping, but it must contain exactly the words of the raw seed
transcript (tests/data/seeds/), in the same order. Name misspellings are fixed only through
the `corrections` list in the front matter, never in the body.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "transcripts"
SEEDS = ROOT / "tests" / "data" / "seeds"

BROCKMAN = "brockman-wang-interview.txt"
SUTSKEVER = "sutskever-patel-interview.txt"
BUNDLED = [BROCKMAN, SUTSKEVER]

BROCKMAN_SPEAKERS = ("Greg Brockman", "Alexandr Wang", "Moderator")
MAX_SENTENCE_WORDS = 80
CONTEXT_WORDS = 10


# ---------------------------------------------------------------- helpers


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return (metadata, body) of a file that starts with a `---` YAML block."""
    assert text.startswith("---\n"), "transcript must start with a '---' front matter line"
    end = text.find("\n---\n", 4)
    assert end != -1, "front matter has no closing '---' line"
    meta = yaml.safe_load(text[4 : end + 1])
    assert isinstance(meta, dict), "front matter must be a YAML mapping"
    return meta, text[end + len("\n---\n") :]


def participant_names(meta: dict) -> list[str]:
    return [p["name"] for p in meta.get("participants") or []]


def label_pattern(names: list[str]) -> re.Pattern[str]:
    """`Name:` at the start of a line, for participant names only."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives}):[ \t]*", re.MULTILINE)


def strip_labels(body: str, names: list[str]) -> str:
    if not names:
        return body
    return label_pattern(names).sub("", body)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def first_difference(
    actual: list[str], expected: list[str], context: int = CONTEXT_WORDS
) -> str | None:
    """Describe the first position where two word lists differ, or None if they are equal."""
    if actual == expected:
        return None
    limit = min(len(actual), len(expected))
    pos = next((i for i in range(limit) if actual[i] != expected[i]), limit)

    def window(seq: list[str]) -> str:
        before = " ".join(seq[max(0, pos - context) : pos])
        after = " ".join(seq[pos : pos + context]) or "<end of text>"
        return f"...{before} >>> {after}..."

    return (
        f"word sequences differ at word {pos} "
        f"(annotated has {len(actual)} words, seed has {len(expected)}):\n"
        f"  annotated: {window(actual)}\n"
        f"  seed:      {window(expected)}"
    )


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def whole_word(needle: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")


def load(name: str) -> tuple[dict, str]:
    return split_front_matter(read_text(TRANSCRIPTS / name))


# ---------------------------------------------------------------- helper self-tests


def test_first_difference_reports_position_and_context():
    seed = "one two three four five".split()
    assert first_difference(seed, list(seed)) is None
    message = first_difference("one two THREE four five".split(), seed)
    assert "word 2" in message
    assert "one two >>> THREE four five" in message
    assert "one two >>> three four five" in message
    message = first_difference(seed[:3], seed)
    assert "word 3" in message and "<end of text>" in message


def test_strip_labels_only_strips_participant_labels():
    text = "Greg Brockman: Hello there.\n\nSomeone Else: hi\nnot Greg Brockman: here"
    assert strip_labels(text, ["Greg Brockman"]) == (
        "Hello there.\n\nSomeone Else: hi\nnot Greg Brockman: here"
    )


# ---------------------------------------------------------------- both transcripts


def test_seed_copies_are_present():
    for name in BUNDLED:
        assert (SEEDS / name).is_file(), f"missing raw seed copy tests/data/seeds/{name}"


@pytest.mark.parametrize("name", BUNDLED)
def test_front_matter_shape(name):
    meta, body = load(name)
    assert isinstance(meta.get("title"), str) and meta["title"].strip(), "title missing"
    assert "date" in meta, "date key missing (use null when unknown)"
    date = meta["date"]
    assert date is None or re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(date)), date
    for key in ("venue", "url", "annotations"):
        assert key in meta, f"{key} key missing"
    participants = meta.get("participants")
    assert isinstance(participants, list) and participants, "participants missing"
    for p in participants:
        assert isinstance(p, dict), p
        assert isinstance(p.get("name"), str) and p["name"].strip(), p
        assert "role" in p, f"participant {p['name']} has no role"
        assert isinstance(p.get("aliases"), list), f"participant {p['name']} aliases not a list"
    corrections = meta.get("corrections")
    assert isinstance(corrections, list), "corrections must be a list"
    for c in corrections:
        assert isinstance(c, dict) and set(c) == {"wrong", "right", "note"}, c
        assert isinstance(c["wrong"], str) and c["wrong"], c
        assert isinstance(c["right"], str) and c["right"], c
    assert body.strip(), "empty body"


@pytest.mark.parametrize("name", BUNDLED)
def test_words_are_preserved(name):
    meta, body = load(name)
    annotated = words(strip_labels(body, participant_names(meta)))
    seed = words(read_text(SEEDS / name))
    difference = first_difference(annotated, seed)
    assert difference is None, f"{name}: {difference}"


@pytest.mark.parametrize("name", BUNDLED)
def test_corrections_are_live_and_change_something(name):
    meta, body = load(name)
    for c in meta["corrections"]:
        assert c["right"] != c["wrong"], f"correction {c['wrong']!r} does not change anything"
        assert whole_word(c["wrong"]).search(body), (
            f"{name}: correction {c['wrong']!r} never occurs (as a whole word) in the body"
        )


# ---------------------------------------------------------------- Sutskever / Patel


def test_sutskever_body_is_byte_identical_to_seed():
    raw = (TRANSCRIPTS / SUTSKEVER).read_bytes()
    assert raw.startswith(b"---\n")
    end = raw.find(b"\n---\n", 4)
    assert end != -1
    body = raw[end + len(b"\n---\n") :]
    assert body == (SEEDS / SUTSKEVER).read_bytes()


# ---------------------------------------------------------------- Brockman / Wang


def test_brockman_participants_are_the_three_speakers():
    meta, _ = load(BROCKMAN)
    assert set(participant_names(meta)) == set(BROCKMAN_SPEAKERS)


def test_brockman_every_paragraph_is_a_labelled_turn():
    meta, body = load(BROCKMAN)
    label = re.compile(rf"^({'|'.join(map(re.escape, BROCKMAN_SPEAKERS))}): \S")
    counts = dict.fromkeys(BROCKMAN_SPEAKERS, 0)
    for para in paragraphs(body):
        match = label.match(para)
        assert match, f"paragraph without a speaker label: {para[:80]!r}"
        speaker = match.group(1)
        counts[speaker] += len(words(para[match.end() - 1 :]))
        continuation = para.split("\n")[1:]
        for line in continuation:
            assert not label.match(line), f"continuation line starts with a label: {line[:80]!r}"
    assert all(counts.values()), f"a speaker never appears: {counts}"
    assert max(counts, key=counts.get) == "Greg Brockman", counts


def test_brockman_turns_end_with_sentence_punctuation():
    _, body = load(BROCKMAN)
    for para in paragraphs(body):
        assert para.rstrip()[-1] in '.?!"', f"turn does not end a sentence: {para[-80:]!r}"


def test_brockman_punctuation_restored():
    meta, body = load(BROCKMAN)
    text = strip_labels(body, participant_names(meta))
    sentences = [s for s in re.split(r"[.?!]", text) if words(s)]
    longest = max(sentences, key=lambda s: len(words(s)))
    assert len(words(longest)) <= MAX_SENTENCE_WORDS, (
        f"sentence of {len(words(longest))} words: {' '.join(longest.split())[:200]!r}"
    )
    # A restored text has many sentences, not a handful of run-ons.
    assert len(sentences) > len(words(text)) / 40
