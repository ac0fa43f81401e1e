"""A small transcript corpus whose files each hold words found in no other file."""

from __future__ import annotations

import random
from pathlib import Path

COMMON = ("the engine weaves patterns while people argue about music and numbers and "
          "looms and flowers because ideas are cheap but careful execution is everything"
          ).split()
GUESTS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov",
          "Donald Knuth", "Frances Allen", "Niklaus Wirth")
SYLLABLES = ("ka", "zu", "mir", "tol", "vex", "quon", "bri", "dax", "plu", "sen", "gor", "fi")


def invented(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(4))


def write_corpus(folder: Path, files: int = 6, turns: int = 150, seed: int = 7
                 ) -> dict[Path, list[str]]:
    """Write `files` transcripts; return each file's own words (a sample to search for)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    own: dict[Path, list[str]] = {}
    for n in range(files):
        name = GUESTS[n]
        words = [f"{invented(rng)}x{chr(97 + n)}" for _ in range(8)]
        lines = [
            "---",
            f'title: "Talk number {n}"',
            "participants:",
            f"  - name: {name}",
            "    role: Guest",
            "  - name: Host Person",
            "    role: Host",
            "---",
            "",
        ]
        for t in range(turns):
            who = name if t % 2 else "Host Person"
            body = rng.sample(COMMON, 12)
            body.insert(rng.randrange(len(body)), words[t % len(words)])
            lines.append(f"{who}: {' '.join(body).capitalize()}. "
                         f"{' '.join(rng.sample(COMMON, 9)).capitalize()}.")
            lines.append("")
        path = folder / f"talk-{n}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        own[path] = words
    return own
