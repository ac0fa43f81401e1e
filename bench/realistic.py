"""Realistic transcript collections with known truth, and the search check run over them.

`generate` writes a podcast collection the way real ones are laid out (issue 10): episode
folders of ``transcript.md`` in two Markdown dialects (``Name (00:00:00):`` blocks with
unnamed continuation headers, ``**Name:** \\[12:34\\]`` with escaped timestamps), a
first-name-label dialogue, a podcast feed with Podcasting 2.0 JSON and SRT transcripts,
Whisper and WhisperX JSON named by a sidecar file; with names carrying suffixes, quoted
nicknames, apostrophes, hyphens, accents and non-Latin scripts, HTML entities, section
markers, stage directions and a host who asks questions. It returns the truth: every
sentence as a person would type it, with who said it. Nothing here reads the ingester's
output to build the truth.

`check` ingests a collection into a fresh database and asks the quote library for sampled
sentences: exact (top 1), half-remembered (two words dropped, two swapped, one typo; top
3) and a 6-word window (top 3), and scans every stored quote for leaked timestamps,
labels, entities and Markdown escapes.

`quotebot bench --case realistic` runs the check on a larger collection (`EPISODES`
episodes, `SAMPLES` sampled sentences) and prints the numbers beside the targets; the
tests run it on a small one. By hand: ``python -m quotebot.bench.realistic --episodes 60``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TARGETS = {"exact@1": 0.98, "half@3": 0.95, "window6@3": 0.9, "speaker": 0.99,
           "stored_speaker": 0.99}
# What each rate means, for the report.
TARGET_NAMES = {
    "exact@1": "exact sentence, top 1",
    "half@3": "half-remembered, top 3",
    "window6@3": "6-word window, top 3",
    "speaker": "speaker right (search)",
    "stored_speaker": "speaker right (stored)",
}
# The larger collection of `quotebot bench --case realistic`: about 300 files, 7.6 MB,
# 15,000 quotes and 21,000 sentences to sample from (the tests use 14 episodes).
EPISODES = 300
TURNS = 16
SAMPLES = 1000
DEFAULT_SEED = 7

# --- people ---------------------------------------------------------------------------

# (canonical name, as written in labels). Canonical is what the library should show.
HOSTS = [
    ("Mike Maples, Jr.", "Mike Maples, Jr."),
    ("Renée D'Souza", "Renée D'Souza"),
    ("Kwame Mensah-Bonsu", "Kwame Mensah-Bonsu"),
]
GUESTS = [
    ("Andrew ‘Boz’ Bosworth", "Andrew ‘Boz’ Bosworth"),
    ('Dana "Dee" Whitfield', 'Dana "Dee" Whitfield'),
    ("Louis Gerstner III", "Louis Gerstner III"),
    ("Priya Raman, PhD", "Priya Raman, PhD"),
    ("Siobhán O'Connell", "Siobhán O'Connell"),
    ("Jean-Luc Marchetti", "Jean-Luc Marchetti"),
    ("J.R. Okonkwo", "J.R. Okonkwo"),
    ("Zoë Martín-López", "Zoë Martín-López"),
    ("王小明", "王小明"),
    ("Олег Петров", "Олег Петров"),
    ("Ana van der Berg", "Ana van der Berg"),
    ("Tomás Ó Briain", "Tomás Ó Briain"),
    ("Hiroshi Tanaka", "Hiroshi Tanaka"),
    ("Fatima Al-Sayed", "Fatima Al-Sayed"),
    ("Greta Lindqvist, Sr.", "Greta Lindqvist, Sr."),
    ("Marcus Webb", "Marcus Webb"),
    ("Joan Park", "Joan Park"),
    ("Chidi Eze", "Chidi Eze"),
]
# First-name dialogues: full names appear only in the introduction.
FIRST_NAME_CAST = [
    ("Sarah Chen", "Sarah"), ("Tom Okafor", "Tom"), ("Lena Brandt", "Lena"),
    ("Omar Haddad", "Omar"), ("Ines Moreau", "Ines"), ("Ravi Menon", "Ravi"),
]

# --- words ----------------------------------------------------------------------------

NOUN_LIST = [
    "supply chain", "hiring plan", "pricing model", "product roadmap", "customer interviews",
    "design review", "sales team", "board meeting", "seed round", "growth curve", "churn rate",
    "onboarding flow", "data pipeline", "search index", "release cycle", "support queue",
    "marketing budget", "open source license", "mobile app", "payment system",
    "warehouse robot", "battery pack", "solar farm", "wind turbine", "river delta",
    "school district", "city council", "hospital ward", "farm cooperative", "bakery chain",
    "shipping port", "rail line", "recording studio", "film crew", "newsroom",
    "library archive", "research lab", "telescope array", "vaccine trial", "climate model",
    "water filter", "soil sensor", "drone fleet", "satellite link", "chess engine",
    "language model", "compiler", "database", "kernel patch", "garden plot", "fishing boat",
    "mountain hut", "bike lane", "night shift", "first prototype", "trade show",
    "tax code", "ferry schedule", "jazz club", "orchard", "glass factory", "textile mill",
    "coffee roaster", "radio tower", "museum wing", "subway map", "paper mill",
    "bridge repair", "fire station", "ski resort", "vineyard", "lighthouse",
]
SUBJECTS = ["most people", "our investors", "the engineers", "my co-founder", "the customers",
            "my mother", "the regulators", "the whole team", "nobody", "everyone I knew",
            "the old guard", "the best teams", "our competitors", "young founders",
            "the neighbours", "my first boss"]
SINGULAR = {"my co-founder", "my mother", "the whole team", "nobody", "everyone I knew",
            "the old guard", "my first boss"}
VERBS = ["underestimate", "ignore", "rebuild", "rethink", "measure", "protect", "question",
         "simplify", "fund", "copy", "misread", "celebrate", "abandon", "document", "test",
         "automate", "explain", "defend", "overbuild", "reinvent", "map", "borrow", "trust",
         "sell"]
VERBS_S = {"underestimate": "underestimates", "ignore": "ignores", "rebuild": "rebuilds",
           "rethink": "rethinks", "measure": "measures", "protect": "protects",
           "question": "questions", "simplify": "simplifies", "fund": "funds", "copy": "copies",
           "misread": "misreads", "celebrate": "celebrates", "abandon": "abandons",
           "document": "documents", "test": "tests", "automate": "automates",
           "explain": "explains", "defend": "defends", "overbuild": "overbuilds",
           "reinvent": "reinvents", "map": "maps", "borrow": "borrows", "trust": "trusts",
           "sell": "sells"}
GERUNDS = ["building", "fixing", "selling", "funding", "running", "measuring", "explaining",
           "rebuilding", "protecting", "simplifying", "testing", "automating", "mapping"]
ADJECTIVES = ["boring", "fragile", "expensive", "quiet", "stubborn", "obvious", "strange",
              "lonely", "generous", "messy", "honest", "slow", "brilliant", "risky", "humble",
              "clumsy", "patient", "ancient", "tiny", "noisy"]
ADVERBS = ["completely", "almost every week", "without telling anyone", "on purpose",
           "for years", "in the end", "by accident", "at night", "every single time",
           "far too early", "too late", "all over again", "in public", "with a spreadsheet"]
COUNTS = ["two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve", "fifteen"]
PLACES = ["in Lagos", "in Ohio", "in Kyoto", "in a garage", "in Lisbon", "at a bus stop",
          "in the basement", "in Nairobi", "on a train", "in Montreal", "at my kitchen table",
          "in Reykjavik", "in a rented office", "in Tromsø", "in São Paulo"]

QUESTIONS = [
    "What made you decide to {verb} the {noun} after {count} years?",
    "How do you think about the {noun} when {subject} {verb_s} it?",
    "Can you tell us about the first time you saw a {adj} {noun} {place}?",
    "Why did the {noun} turn out to be so {adj} for you?",
    "What would you tell someone who wants to {verb} their {noun} {adverb}?",
    "Was there a moment when the {noun} almost broke you?",
    "Where does the {noun} go from here, do you think?",
    "Who taught you to {verb} a {noun} like that?",
]
ANSWERS = [
    "I think the hardest part of {gerund} a {noun} is that {subject} {verb_s} it {adverb}.",
    "We spent {count} years {gerund} the {noun}, and honestly it was {adj} the whole time.",
    "So the thing about a {adj} {noun} is that {subject} {verb_s} it {adverb}.",
    "Honestly, {subject} {verb_s} the {noun}, and that's why we had to {verb} it {adverb}.",
    "I remember sitting {place} with a {adj} {noun} and thinking we should {verb} it.",
    "There's no {adj} way to {verb} a {noun}, you just do it {adverb}.",
    "My advice is to {verb} the {noun} before {subject} {verb_s} it for you.",
    "It wasn't {adj} at all, because {subject} {verb_s} every {noun} {adverb}.",
    "You know, we didn't {verb} the {noun} until {count} people asked us {place}.",
    "The {noun} taught me that {subject} {verb_s} what they can't see {adverb}.",
    "If I could do it again, I'd {verb} the {noun} {adverb} and keep it {adj}.",
    "People assume the {noun} is {adj}, but {subject} {verb_s} it {adverb}.",
    "And so we decided to {verb} the whole {noun} {place}, which sounds {adj} now.",
    "I mean, a {adj} {noun} can survive {count} bad years if {subject} {verb_s} it.",
    "Our first {noun} was {adj}, and {subject} {verb_s} it {adverb}.",
    "That's where the {noun} R&D came from, {place}, with {count} of us and a {adj} plan.",
]
# Talk as people talk: common words around one or two that place it. A person may say
# such a line a few times in a collection, not dozens: each is used at most COMMON_USES.
COMMON = [
    "And I was going to do that, because it's what {subject} {verb_s} when nobody looks.",
    "Yeah, I think that's right, and it's something we talk about with the {noun} a lot.",
    "But you have to be willing to {verb} it, because otherwise the {noun} just doesn't work.",
    "So we said okay, let's just try it and see what happens with the {noun}.",
    "It's not that we didn't know, it's that we didn't want to know about the {noun}.",
    "I don't know if it's going to work, but we have to {verb} the {noun} anyway.",
    "We were going to do that, because it's the only way the {noun} gets better.",
    "It was one of those things where you just kind of have to {verb} it and move on.",
]
COMMON_USES = 3
# Short replies a host makes while listening: real, but not worth searching for.
INTERJECTIONS = ["Yeah.", "Right.", "Wow.", "Mm-hmm.", "Okay, wow.", "Interesting.", "Sure."]
DIRECTIONS = ["(laughs)", "[laughs]", "(crosstalk)", "[inaudible]", "(pause)", "[laughter]"]


def _fill(template: str, rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS)
    verb = rng.choice(VERBS)
    return template.format(
        noun=rng.choice(NOUN_LIST), verb=rng.choice(VERBS),
        verb_s=VERBS_S[verb] if subject in SINGULAR else verb, subject=subject,
        adj=rng.choice(ADJECTIVES), adverb=rng.choice(ADVERBS),
        count=rng.choice(COUNTS), gerund=rng.choice(GERUNDS), place=rng.choice(PLACES),
    )


# --- the truth ------------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """A sentence as a person would type it, who said it, and where it was written."""

    text: str
    speaker: str
    file: str


@dataclass
class Truth:
    """What the generator wrote: sampleable sentences and every label it used."""

    sentences: list[Said] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    files: int = 0
    bytes: int = 0


@dataclass
class Turn:
    speaker: str  # canonical
    label: str  # as written
    sentences: list[str]
    start: float
    sample: bool = True


class _Writer:
    """Keeps the sentence set unique across the collection, and the clock of an episode."""

    def __init__(self, rng: random.Random, truth: Truth) -> None:
        self.rng = rng
        self.truth = truth
        self.seen: set[str] = set()
        self.common: dict[str, int] = {}

    def sentence(self, templates: list[str]) -> str:
        if templates is ANSWERS and self.rng.random() < 0.3:
            left = [t for t in COMMON if self.common.get(t, 0) < COMMON_USES]
            if left:
                template = self.rng.choice(left)
                self.common[template] = self.common.get(template, 0) + 1
                templates = [template]
        for _ in range(200):
            text = _fill(self.rng.choice(templates), self.rng)
            if text not in self.seen:
                self.seen.add(text)
                return text
        raise RuntimeError("word pools too small for this many sentences")

    def episode(self, host: tuple[str, str], guests: list[tuple[str, str]], turns: int,
                intro: list[str] | None = None) -> list[Turn]:
        """A conversation: the host asks, guests answer at length."""
        clock = self.rng.uniform(0, 4)
        out = []
        if intro:
            out.append(Turn(host[0], host[1], intro, clock, sample=False))
            clock += 8 * len(intro)
        for n in range(turns):
            guest = guests[n % len(guests)] if len(guests) > 1 else guests[0]
            question = [self.sentence(QUESTIONS)]
            out.append(Turn(host[0], host[1], question, clock))
            clock += self.rng.uniform(4, 9)
            answer = [self.sentence(ANSWERS) for _ in range(self.rng.randint(2, 5))]
            out.append(Turn(guest[0], guest[1], answer, clock))
            clock += self.rng.uniform(6, 9) * len(answer)
            if self.rng.random() < 0.25:
                reply = [self.rng.choice(INTERJECTIONS)]
                out.append(Turn(host[0], host[1], reply, clock, sample=False))
                clock += 1.5
        return out

    def record(self, turns: list[Turn], file: Path) -> None:
        for turn in turns:
            self.truth.labels.add(turn.label)
            if turn.sample:
                self.truth.sentences += [Said(s, turn.speaker, str(file)) for s in turn.sentences]


def _clock(seconds: float, hours: bool = True) -> str:
    s = int(seconds)
    if hours:
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"


def _entities(text: str, rng: random.Random, rate: float = 0.5) -> str:
    """Write apostrophes and ampersands as HTML entities, as some exporters do."""
    if rng.random() < rate:
        text = text.replace("&", "&amp;").replace("'", rng.choice(["&#39;", "&#x27;", "&rsquo;"]))
    return text


def _say(turn: Turn, rng: random.Random) -> str:
    """A turn's text with a stage direction now and then between sentences."""
    parts = []
    for sentence in turn.sentences:
        parts.append(sentence)
        if rng.random() < 0.12:
            parts.append(rng.choice(DIRECTIONS))
    return " ".join(parts)


# --- the formats ------------------------------------------------------------------------


def _write_blocks(path: Path, title: str, turns: list[Turn], rng: random.Random,
                  guest: str | None = None) -> None:
    """Rev/Descript-like Markdown: ``Name (00:00:00):`` headers, ``(00:12:34):`` pauses;
    with a `guest`, front matter naming them as such collections do."""
    lines = [f"# {title}", ""]
    if guest is not None:
        lines = ["---", f"title: {json.dumps(title)}", f"guest: {json.dumps(guest)}",
                 "youtube_url: https://www.youtube.com/watch?v=abc123", "---", ""]
    for n, turn in enumerate(turns):
        if n == len(turns) // 2:
            lines += [f"Break ({_clock(turn.start - 1)}):", ""]
        # Exporters escape the labels too: "Siobhán O&#39;Connell", "O&rsquo;Connell".
        lines += [_entities(f"{turn.label} ({_clock(turn.start)}):", rng, 0.3)]
        if len(turn.sentences) > 2 and rng.random() < 0.6:
            cut = rng.randint(1, len(turn.sentences) - 1)
            first = Turn(turn.speaker, turn.label, turn.sentences[:cut], turn.start)
            rest = Turn(turn.speaker, turn.label, turn.sentences[cut:], turn.start + 6 * cut)
            lines += [_entities(_say(first, rng), rng), "", f"({_clock(rest.start)}):",
                      _entities(_say(rest, rng), rng), ""]
        else:
            lines += [_entities(_say(turn, rng), rng), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_markdown(path: Path, turns: list[Turn], rng: random.Random) -> None:
    """Show-notes Markdown: ``**Name:** \\[12:34\\] text``, escaped-stamp paragraphs."""
    lines = ["Show notes: links and chapters are below the transcript.", ""]
    for n, turn in enumerate(turns):
        if n == len(turns) // 2:
            lines += [f"**Break:** \\[{_clock(turn.start - 2, hours=False)}\\]", ""]
        if n == 1:
            lines += ["**Sponsor:** This part of the show is supported by listeners like you.",
                      ""]
        sentences = turn.sentences
        cut = rng.randint(1, len(sentences) - 1) if len(sentences) > 2 else len(sentences)
        head = Turn(turn.speaker, turn.label, sentences[:cut], turn.start)
        said = _say(head, rng)
        if rng.random() < 0.2 and ". " in said:
            # A time written inside the speech, between two sentences.
            said = said.replace(". ", f". \\[{_clock(turn.start + 5, hours=False)}\\] ", 1)
        lines += [f"**{turn.label}:** \\[{_clock(turn.start, hours=False)}\\] "
                  + _entities(said, rng)]
        if cut < len(sentences):
            tail = Turn(turn.speaker, turn.label, sentences[cut:], turn.start + 6 * cut)
            if rng.random() < 0.5:
                lines.append("")  # the stamped paragraph follows a blank line, or not
            lines.append(f"\\[{_clock(tail.start, hours=False)}\\] "
                         + _entities(_say(tail, rng), rng))
        lines.append("")
    lines += ["---", "", "*Transcript edited for clarity.*", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_first_names(path: Path, turns: list[Turn], rng: random.Random) -> None:
    """``Sarah: text`` dialogue whose full names only the introduction gives."""
    lines = []
    for turn in turns:
        lines.append(f"{turn.label}: {_entities(_say(turn, rng), rng, 0.3)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _cues(turns: list[Turn], rng: random.Random) -> list[tuple[float, float, str]]:
    """Subtitle cues of 6-11 words cut across sentences; a turn's label opens its first
    cue, and now and then the previous sentence's full stop lands before it (``. Joan:``)."""
    cues: list[tuple[float, float, str]] = []
    for turn in turns:
        words = _say(turn, rng).split()
        clock = turn.start
        first = True
        while words:
            take = rng.randint(6, 11)
            chunk, words = words[:take], words[take:]
            text = " ".join(chunk)
            if first:
                text = f"{turn.label}: {text}"
                if cues and cues[-1][2].endswith((".", "?")) and rng.random() < 0.3:
                    start, end, previous = cues[-1]
                    cues[-1] = (start, end, previous[:-1])
                    text = previous[-1] + " " + text
                first = False
            cues.append((clock, clock + 0.5 * len(chunk), text))
            clock += 0.5 * len(chunk) + 0.1
    return cues


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _write_srt(path: Path, turns: list[Turn], rng: random.Random) -> None:
    blocks = []
    for n, (start, end, text) in enumerate(_cues(turns, rng), 1):
        blocks.append(f"{n}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")


def _write_podcast_json(path: Path, turns: list[Turn], rng: random.Random) -> None:
    segments = []
    for turn in turns:
        words = _say(turn, rng).split()
        clock = turn.start
        while words:
            take = rng.randint(4, 10)
            chunk, words = words[:take], words[take:]
            segments.append({"speaker": turn.label, "startTime": round(clock, 3),
                             "endTime": round(clock + 0.4 * len(chunk), 3),
                             "body": _entities(" ".join(chunk), rng, 0.3)})
            clock += 0.4 * len(chunk) + 0.05
    path.write_text(json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False,
                               indent=1), encoding="utf-8")


def _write_whisper(path: Path, turns: list[Turn], labels: dict[str, str], rng: random.Random,
                   *, words_only: bool) -> None:
    """Whisper segments (one per sentence) or a WhisperX diarized word list."""
    segments, word_list = [], []
    for turn in turns:
        clock = turn.start
        for sentence in turn.sentences:
            entry = {"start": round(clock, 3), "end": round(clock + 3, 3),
                     "text": " " + sentence}
            if labels:
                entry["speaker"] = labels[turn.speaker]
            segments.append(entry)
            for word in sentence.split():
                item = {"word": word, "start": round(clock, 3), "end": round(clock + 0.3, 3),
                        "score": 0.9}
                if labels:
                    item["speaker"] = labels[turn.speaker]
                word_list.append(item)
                clock += 0.35
    data = {"word_segments": word_list} if words_only else {
        "text": " ".join(s["text"] for s in segments), "segments": segments, "language": "en"}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# --- the collection ---------------------------------------------------------------------

_FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
<title>Harbour Lights</title>
<podcast:person role="host">{host}</podcast:person>
"""
_FEED_ITEM = """<item>
<title>{title}</title>
<link>https://example.org/harbour/{n}</link>
<guid>harbour-{n}</guid>
<pubDate>{date}</pubDate>
<podcast:transcript url="https://cdn.example.org/harbour/{file}" type="{kind}"/>
</item>
"""


def generate(root: Path, episodes: int = 12, seed: int = 7, turns: int = 8) -> Truth:
    """Write a collection of about `episodes` episodes under `root` and return its truth.

    The episodes rotate through the layouts described in the module docstring.
    """
    rng = random.Random(seed)
    truth = Truth()
    writer = _Writer(rng, truth)
    kinds = ["blocks", "markdown", "first-names", "feed-json", "feed-srt", "whisper",
             "whisperx"]
    feed_items = []
    feed_host = HOSTS[1]
    whisper_entries = {}
    markdown_entries = {}
    root.mkdir(parents=True, exist_ok=True)
    # Guests come round in turn, so even a small collection holds every kind of name.
    order = rng.sample(GUESTS, len(GUESTS))
    cast_order = rng.sample(FIRST_NAME_CAST, len(FIRST_NAME_CAST))
    turn_of = 0
    for n in range(1, episodes + 1):
        kind = kinds[(n - 1) % len(kinds)]
        host = HOSTS[(n - 1) // len(kinds) % len(HOSTS)]
        guests = []
        for _ in range(2 if turn_of < len(order) else rng.choice([1, 1, 2])):
            guests.append(order[turn_of % len(order)])
            turn_of += 1
        title = f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUN_LIST).title()} Stories"
        if kind == "blocks":
            folder = root / "conversations" / f"ep-{n:03d}"
            folder.mkdir(parents=True)
            path = folder / "transcript.md"
            if (n // len(kinds)) % 2:
                # The host labelled by first name, full names in the intro and front matter.
                guest = re.sub(r" [‘'\"“][^ ]+[’'\"”]", "", guests[0][0])
                intro = [f"Welcome back, I'm {host[0]}, and today my guest is {guest}."]
                convo = writer.episode((host[0], host[0].split()[0]), guests, turns,
                                       intro=intro)
                _write_blocks(path, title, convo, rng, guest=guest)
            else:
                convo = writer.episode(host, guests, turns)
                _write_blocks(path, title, convo, rng)
        elif kind == "markdown":
            folder = root / "show-notes" / f"episode-{n}"
            folder.mkdir(parents=True)
            path = folder / "transcript.md"
            convo = writer.episode(host, guests, turns)
            _write_markdown(path, convo, rng)
            markdown_entries[f"episode-{n}"] = {
                "title": title, "date": f"2024-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
                "url": f"https://example.org/notes/{n}",
                "speakers": [f"{host[0]} (Host)"] + [f"{g[0]} (Guest)" for g in guests]}
        elif kind == "first-names":
            (full_host, short_host), (full_guest, short_guest) = cast_order[:2]
            cast_order = cast_order[2:] + cast_order[:2]
            intro = [f"Hi, I'm {full_host}, and this is the show about {rng.choice(NOUN_LIST)}s.",
                     f"My guest today is {full_guest}, who knows more than anyone about it."]
            folder = root / "dialogues"
            folder.mkdir(exist_ok=True)
            path = folder / f"dialogue-{n}.txt"
            convo = writer.episode((full_host, short_host), [(full_guest, short_guest)], turns,
                                   intro=intro)
            _write_first_names(path, convo, rng)
        elif kind in ("feed-json", "feed-srt"):
            folder = root / "harbour-lights"
            folder.mkdir(exist_ok=True)
            suffix, mime = (".json", "application/json") if kind == "feed-json" else (
                ".srt", "application/x-subrip")
            path = folder / f"harbour-{n}{suffix}"
            convo = writer.episode(feed_host, guests, turns)
            (_write_podcast_json if kind == "feed-json" else _write_srt)(path, convo, rng)
            feed_items.append(_FEED_ITEM.format(
                title=title.replace("&", "&amp;") + f" (part {n})", n=n, file=path.name,
                kind=mime, date=f"Tue, {n % 27 + 1:02d} Feb 2024 10:00:00 GMT"))
        else:
            folder = root / "recordings"
            folder.mkdir(exist_ok=True)
            path = folder / f"session-{n}.json"
            convo = writer.episode(host, guests, turns)
            people = [host, *guests]
            labels = {p[0]: f"SPEAKER_{i:02d}" for i, p in enumerate(people)}
            _write_whisper(path, convo, labels, rng, words_only=kind == "whisperx")
            whisper_entries[path.name] = {"title": title, "speakers": [
                {"name": p[0], "aliases": [f"Speaker {i + 1}"]} for i, p in enumerate(people)]}
            truth.labels |= set(labels.values())
        writer.record(convo, path)
    if feed_items:
        feed = root / "harbour-lights" / "feed.xml"
        feed.write_text(_FEED_HEAD.format(host=feed_host[0]) + "".join(feed_items)
                        + "</channel>\n</rss>\n", encoding="utf-8")
    import yaml

    if markdown_entries:
        (root / "show-notes" / "quotebot.yaml").write_text(
            yaml.safe_dump({"files": markdown_entries}, allow_unicode=True), encoding="utf-8")
    if whisper_entries:
        (root / "recordings" / "episodes.yaml").write_text(
            yaml.safe_dump({"files": whisper_entries}, allow_unicode=True), encoding="utf-8")
    files = [p for p in root.rglob("*") if p.is_file()]
    truth.files = len(files)
    truth.bytes = sum(p.stat().st_size for p in files)
    truth.labels |= {"Break", "Sponsor"}
    return truth


# --- the check --------------------------------------------------------------------------

_NORM_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_DIRECTION = re.compile(r"\[[^\]]*\]")
_NON_WORD = re.compile(r"[^\w']+")


def normalise(text: str) -> str:
    """Lower-case words without punctuation, stage directions or curly quotes."""
    text = _DIRECTION.sub(" ", text.translate(_NORM_QUOTES)).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def _holds(quote_text: str, sentence: str) -> bool:
    """Whether a stored quote is where a sentence lives (it holds it, or a piece of it)."""
    q, s = normalise(quote_text), normalise(sentence)
    return bool(q) and (s in q or (len(q.split()) >= 6 and q in s))


def half_remembered(sentence: str, rng: random.Random) -> str:
    """Two words dropped, two neighbours swapped and one typo."""
    words = sentence.rstrip(".?!").split()
    for _ in range(2):
        if len(words) > 6:
            del words[rng.randrange(1, len(words) - 1)]
    i = rng.randrange(0, len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    long = [k for k, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if long:
        k = rng.choice(long)
        w = words[k]
        j = rng.randrange(1, len(w) - 2)
        words[k] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def window(sentence: str, rng: random.Random, size: int = 6,
           unique: set | None = None) -> str | None:
    """`size` consecutive words that appear in no other sentence (any run without
    `unique`), or None when every run of the sentence is said elsewhere too."""
    words = [w.strip(".,?!") for w in sentence.split()]
    starts = list(range(0, max(1, len(words) - size + 1)))
    rng.shuffle(starts)
    for start in starts:
        run = " ".join(words[start:start + size])
        if unique is None or normalise(run) in unique:
            return run
    return None


_LEAKS = {
    "timestamp": re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)"),
    "entity": re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE),
    "markdown": re.compile(r"\\[\[\]*_#\\]|\*\*|__"),
}


async def check(root: Path, truth: Truth, db_path: Path | str, *, samples: int = 150,
                seed: int = 11) -> dict:
    """Ingest `root` into a new database at `db_path` (a SQLite path, or the URL of an empty
    PostgreSQL database) and measure search over it.

    Returns:
        Rates (exact@1, half@3, window6@3, speaker), leak counts with examples, and
        the ingest time and size.
    """
    from quotebot.bench import target as targets
    from quotebot.bot.ingest.runner import ingest_paths
    from quotebot.bot.library import QuoteLibrary

    if targets.is_postgres(str(db_path)):
        targets.usable(str(db_path), await targets.contents(str(db_path)), fill=True)
    db = await targets.open_database(db_path)
    try:
        library = QuoteLibrary(db)
        began = time.perf_counter()
        report = await ingest_paths(library.store, [root])
        ingest_seconds = time.perf_counter() - began
        await library.load()
        failed = [f.error for f in report.files if f.status in ("failed", "skipped")]
        rng = random.Random(seed)
        pool = truth.sentences
        chosen = rng.sample(pool, min(samples, len(pool)))
        runs: dict[str, int] = {}
        for said in pool:
            words = normalise(said.text).split()
            for i in range(len(words) - 5):
                key = " ".join(words[i:i + 6])
                runs[key] = runs.get(key, 0) + 1
        unique = {k for k, v in runs.items() if v == 1}
        hits = {"exact@1": 0, "half@3": 0, "window6@3": 0}
        asked = {"exact@1": 0, "half@3": 0, "window6@3": 0}
        speaker_right = speaker_checked = 0
        misses: dict[str, list] = {k: [] for k in hits}
        for said in chosen:
            top = await library.search(said.text, limit=1)
            if top and _holds(top[0].verbatim, said.text):
                hits["exact@1"] += 1
                speaker_checked += 1
                if normalise(top[0].speaker or "") == normalise(said.speaker):
                    speaker_right += 1
                else:
                    misses.setdefault("speaker", []).append(
                        (said.text, said.speaker, top[0].speaker))
            else:
                misses["exact@1"].append((said.text, top[0].text if top else None))
            asked["exact@1"] += 1
            for name, query in (("half@3", half_remembered(said.text, rng)),
                                ("window6@3", window(said.text, rng, unique=unique))):
                if query is None:
                    continue  # no run of six words is this sentence's alone: unanswerable
                asked[name] += 1
                found = await library.search(query, limit=3)
                if any(_holds(q.verbatim, said.text) for q in found):
                    hits[name] += 1
                else:
                    misses[name].append((query, said.text))
        leaks: dict[str, list[str]] = {k: [] for k in (*_LEAKS, "label")}
        label_marks = [f"{label}:" for label in truth.labels]
        total = 0
        everything: list[tuple[str, str | None]] = []
        for source in library.sources:
            rows = await library.store.neighbours(source.id, 0, 0, source.quotes + 1)
            for row in rows:
                text = row.text
                everything.append((text, row.speaker))
                total += 1
                for name, pattern in _LEAKS.items():
                    if pattern.search(text):
                        leaks[name].append(text)
                if any(mark in text for mark in label_marks):
                    leaks["label"].append(text)
        # Who the library says spoke each sampled sentence, found without search: the
        # stored quote that holds it (or the first piece of it).
        stored = [(normalise(text), speaker) for text, speaker in everything]
        attributed = wrong = 0
        for said in chosen:
            needle = normalise(said.text)
            owner = next((who for text, who in stored if needle in text), None)
            if owner is None:
                owner = next((who for text, who in stored
                              if len(text.split()) >= 6 and text in needle), None)
            if owner is not None:
                attributed += 1
                if normalise(owner or "") != normalise(said.speaker):
                    wrong += 1
                    misses.setdefault("stored_speaker", []).append(
                        (said.text, said.speaker, owner))
        n = len(chosen) or 1
        asked["speaker"] = speaker_checked
        asked["stored_speaker"] = attributed
        result = {
            "files": truth.files, "bytes": truth.bytes, "sentences": len(pool),
            "samples": len(chosen), "quotes": total, "ingest_seconds": round(ingest_seconds, 2),
            "ingest_problems": failed,
            **{k: round(v / (asked[k] or 1), 4) for k, v in hits.items()},
            "asked": asked,
            "speaker": round(speaker_right / (speaker_checked or 1), 4),
            "stored_speaker": round((attributed - wrong) / (attributed or 1), 4),
            "stored_found": round(attributed / n, 4),
            "leaks": {k: len(v) for k, v in leaks.items()},
            "leak_examples": {k: v[:3] for k, v in leaks.items() if v},
            "misses": {k: v[:5] for k, v in misses.items() if v},
        }
        result["passed"] = (
            all(result[k] >= target for k, target in TARGETS.items())
            and not any(result["leaks"].values())
        )
        return result
    finally:
        await db.close()


def run_realistic(work: Path, seed: int, say, *, episodes: int | None = None,
                  samples: int | None = None, turns: int | None = None,
                  database: str | None = None) -> dict:
    """The realistic case of `quotebot bench`: generate, ingest, check. Returns the summary.

    Args:
        work: A folder for the collection and the database (emptied first).
        seed: Seeds the collection and the sampling.
        say: Called with progress messages.
        episodes: Episodes to write [default: `EPISODES`].
        samples: Sentences to sample [default: `SAMPLES`].
        turns: Questions per episode [default: `TURNS`].
        database: The URL of an empty PostgreSQL database to ingest into [default: a SQLite
            database in `work`].
    """
    import shutil

    from quotebot.bench.run import machine

    episodes = EPISODES if episodes is None else episodes
    samples = SAMPLES if samples is None else samples
    turns = TURNS if turns is None else turns
    root = work / "collection"
    db_path = work / "realistic.db"
    for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        path.unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    say(f"generating a realistic collection of {episodes} episodes in {root}")
    truth = generate(root, episodes=episodes, seed=seed, turns=turns)
    say(f"  {truth.files} files, {truth.bytes / 1e6:.1f} MB, "
        f"{len(truth.sentences):,} sentences with their speakers")
    say(f"ingesting it and asking for {samples} sampled sentences three ways")
    result = asyncio.run(check(root, truth, database or db_path, samples=samples,
                               seed=seed + 4))
    leaks = sum(result["leaks"].values())
    targets = [
        {"name": TARGET_NAMES[key], "key": key, "value": result[key], "target": target,
         "unit": "rate", "asked": result["asked"].get(key, result["samples"]),
         "pass": result[key] >= target}
        for key, target in TARGETS.items()
    ]
    targets.append({"name": "quotes leaking markup", "key": "leaks", "value": leaks,
                    "target": 0, "unit": "quotes", "asked": result["quotes"],
                    "pass": leaks == 0})
    targets.append({"name": "files that failed to ingest", "key": "ingest_problems",
                    "value": len(result["ingest_problems"]), "target": 0, "unit": "files",
                    "asked": truth.files, "pass": not result["ingest_problems"]})
    return {
        "case": "realistic",
        "engine": "postgresql" if database else "sqlite",
        "machine": machine(),
        "collection": {"episodes": episodes, "turns": turns, "seed": seed,
                       "files": truth.files, "bytes": truth.bytes,
                       "sentences": len(truth.sentences)},
        **result,
        "passed": all(t["pass"] for t in targets),
        "targets": targets,
    }


def render_realistic(summary: dict) -> str:
    """The report: each number beside its target, then what was missed."""
    c = summary["collection"]
    lines = [
        f"collection: {c['files']} files, {c['bytes'] / 1e6:.1f} MB, {c['episodes']} episodes, "
        f"{c['sentences']:,} sentences; {summary['quotes']:,} quotes stored "
        f"(ingest {summary['ingest_seconds']:.1f} s, into {summary.get('engine', 'sqlite')})",
        f"sampled {summary['samples']} sentences (seed {c['seed']})",
        "targets:",
    ]
    for t in summary["targets"]:
        if t["unit"] == "rate":
            value, target = f"{t['value']:.4f}", f">= {t['target']:.2f}"
        else:
            value, target = f"{t['value']}", f"= {t['target']}"
        lines.append(f"  {'PASS' if t['pass'] else 'FAIL'} {t['name']:<28} {value:>7} "
                     f"(target {target}; of {t['asked']:,})")
    if summary["leaks"] and any(summary["leaks"].values()):
        lines.append("leaks: " + ", ".join(f"{k} {v}" for k, v in summary["leaks"].items()))
        for kind, examples in summary["leak_examples"].items():
            lines += [f"  {kind}: {text[:120]!r}" for text in examples]
    for problem in summary["ingest_problems"][:5]:
        lines.append(f"ingest problem: {problem}")
    if summary["misses"]:
        lines.append("misses (first few of each):")
        for kind, rows in summary["misses"].items():
            for row in rows:
                lines.append(f"  {kind}: " + " | ".join(repr(part) for part in row))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--turns", type=int, default=8,
                        help="Questions per episode (8 makes ~12 KB files, 40 ~60 KB).")
    parser.add_argument("--keep", type=Path, help="Write the collection here and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "collection"
        truth = generate(root, args.episodes, args.seed, args.turns)
        result = asyncio.run(check(root, truth, Path(tmp) / "check.db", samples=args.samples))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
