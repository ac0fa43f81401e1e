"""A deterministic synthetic transcript corpus of a given size, derived from the bundled interviews.

Sentences of the bundled transcripts are varied (synonyms from a fixed list, recombination,
inserted names and numbers, invented terms with Zipf-like frequencies) and written as
transcript files in the formats the ingester reads: YAML front matter with `Name: text`
paragraphs for most files, `Name (Role) HH:MM:SS` block headers for the rest. The same seed
and size always give byte-identical files; every file has its own seeded generator, so the
corpus does not depend on the order files are written in.

The invented vocabulary grows with the corpus as real vocabularies do: term ranks are drawn
from a truncated power law, so the first thousands recur across the corpus while ever rarer
ones keep appearing as it grows.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240601
BLOCK_SHARE = 0.2  # share of files in the timestamped block-header format
MAX_RANK = 20_000_000  # the invented vocabulary's size: far more than any corpus uses
ZIPF_S = 1.05  # exponent of the invented terms' frequency law (a little above Zipf's 1)
INVENTED_PER_SENTENCE = 0.9  # mean invented terms per sentence
# Quotes the ingester makes of one generated turn, measured once with bot.ingest.sentences
# (2.2 in November 2026). A constant, not a live measurement, so the corpus bytes depend only
# on the seed, the size and the bundled transcripts, and runs stay comparable across commits;
# the actual quote count is reported by the benchmark.
QUOTES_PER_TURN = 2.2

# Interchangeable words; a listed word may become any other word of its group.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("think", "believe", "feel", "guess", "reckon", "suspect"),
    ("really", "truly", "genuinely", "honestly", "seriously"),
    ("big", "large", "huge", "massive", "enormous", "vast"),
    ("small", "little", "tiny", "modest", "minor"),
    ("people", "folks", "everyone", "humans", "individuals"),
    ("company", "firm", "startup", "organization", "lab", "business"),
    ("important", "crucial", "essential", "critical", "vital", "key"),
    ("interesting", "fascinating", "intriguing", "curious", "compelling"),
    ("problem", "issue", "challenge", "difficulty", "obstacle"),
    ("problems", "issues", "challenges", "difficulties", "obstacles"),
    ("idea", "notion", "concept", "insight", "hunch"),
    ("ideas", "notions", "concepts", "insights", "hunches"),
    ("build", "create", "make", "construct", "assemble", "craft"),
    ("building", "creating", "making", "constructing", "assembling"),
    ("start", "begin", "launch", "initiate"),
    ("started", "began", "launched", "initiated"),
    ("fast", "quick", "rapid", "speedy", "swift"),
    ("good", "great", "solid", "decent", "strong", "fine"),
    ("bad", "poor", "weak", "terrible", "awful"),
    ("model", "system", "network", "engine"),
    ("models", "systems", "networks", "engines"),
    ("understand", "grasp", "comprehend", "appreciate"),
    ("say", "claim", "argue", "suggest", "state"),
    ("said", "claimed", "argued", "noted", "remarked"),
    ("maybe", "perhaps", "possibly", "conceivably"),
    ("actually", "in fact", "in reality", "frankly"),
    ("world", "planet", "society", "economy"),
    ("time", "period", "moment", "era", "stretch"),
    ("year", "season", "cycle"),
    ("years", "seasons", "cycles"),
    ("way", "approach", "method", "path", "route"),
    ("thing", "matter", "aspect", "piece", "element"),
    ("things", "matters", "aspects", "pieces", "elements"),
    ("kind", "sort", "type", "form"),
    ("research", "science", "study", "inquiry", "exploration"),
    ("compute", "hardware", "computation", "processing"),
    ("data", "information", "examples", "records"),
    ("question", "query", "puzzle", "riddle"),
    ("answer", "response", "reply", "solution"),
    ("team", "group", "crew", "squad", "unit"),
    ("hard", "difficult", "tough", "tricky", "demanding"),
    ("easy", "simple", "straightforward", "effortless"),
    ("new", "novel", "fresh", "recent", "modern"),
    ("change", "shift", "transformation", "transition"),
    ("see", "notice", "observe", "spot", "witness"),
    ("want", "wish", "hope", "aim", "intend"),
    ("need", "require", "demand"),
    ("use", "employ", "apply", "leverage", "harness"),
    ("help", "assist", "support", "aid"),
    ("try", "attempt", "strive", "endeavor"),
    ("learn", "discover", "uncover", "realize"),
    ("happen", "occur", "unfold", "arise"),
    ("happened", "occurred", "unfolded", "arose"),
    ("clear", "obvious", "evident", "plain", "apparent"),
    ("exciting", "thrilling", "inspiring", "energizing"),
    ("amazing", "incredible", "remarkable", "astonishing", "stunning"),
    ("goal", "objective", "target", "ambition"),
    ("mission", "purpose", "calling", "vocation"),
    ("product", "service", "offering", "tool"),
    ("products", "services", "offerings", "tools"),
    ("customer", "user", "client", "buyer"),
    ("customers", "users", "clients", "buyers"),
    ("engineer", "developer", "builder", "programmer"),
    ("engineers", "developers", "builders", "programmers"),
    ("scale", "size", "magnitude", "scope"),
    ("progress", "advances", "momentum", "headway"),
    ("technology", "tech", "tooling", "machinery"),
    ("computer", "machine", "device", "computer system"),
    ("computers", "machines", "devices", "processors"),
    ("money", "capital", "funding", "cash", "resources"),
    ("risk", "danger", "hazard", "threat"),
    ("job", "role", "position", "post"),
    ("talk", "speak", "chat", "converse"),
    ("story", "tale", "account", "narrative"),
    ("example", "instance", "case", "illustration"),
    ("experience", "background", "history", "track record"),
    ("today", "nowadays", "these days", "right now"),
    ("always", "constantly", "forever", "invariably"),
    ("often", "frequently", "regularly", "routinely"),
    ("sometimes", "occasionally", "at times", "now and then"),
    ("very", "extremely", "incredibly", "super", "remarkably"),
    ("pretty", "fairly", "quite", "rather", "reasonably"),
    ("almost", "nearly", "practically", "virtually"),
    ("basically", "essentially", "fundamentally", "effectively"),
    ("probably", "likely", "presumably", "plausibly"),
    ("definitely", "certainly", "absolutely", "surely"),
    ("everything", "all of it", "the whole thing", "every bit"),
    ("something", "a thing", "some aspect", "a piece"),
    ("field", "domain", "area", "discipline"),
    ("future", "years ahead", "decades ahead", "long run"),
    ("possible", "feasible", "doable", "achievable"),
    ("different", "distinct", "separate", "other"),
    ("whole", "entire", "complete", "full"),
    ("feeling", "sense", "impression", "intuition"),
    ("moment", "instant", "second", "point"),
)

FIRST_NAMES = (
    "Ada", "Aditi", "Ahmed", "Aiko", "Alan", "Alejandro", "Alice", "Amara", "Ana", "Andrei",
    "Anika", "Arjun", "Astrid", "Aylin", "Beatriz", "Ben", "Bianca", "Boris", "Camila",
    "Carlos", "Chen", "Chiara", "Chloe", "Daniel", "Dara", "David", "Diego", "Dmitri", "Elena",
    "Elif", "Emeka", "Emil", "Erik", "Esther", "Fatima", "Felix", "Femi", "Freya", "Gabriel",
    "Grace", "Hana", "Hannah", "Hassan", "Helena", "Hiro", "Ines", "Ingrid", "Isaac", "Ivan",
    "Jamal", "Javier", "Jin", "Jonas", "Julia", "Kai", "Kamala", "Karim", "Kenji", "Kofi",
    "Lars", "Leila", "Lena", "Liam", "Lucia", "Luis", "Maja", "Malik", "Marco", "Maria",
    "Marta", "Mateo", "Maya", "Mei", "Mila", "Nadia", "Naveen", "Nia", "Nikolai", "Noor",
    "Olga", "Omar", "Oscar", "Paulo", "Priya", "Rafael", "Rahul", "Rania", "Rosa", "Ruth",
    "Sami", "Sara", "Sean", "Sofia", "Sunil", "Tariq", "Tessa", "Theo", "Tomas", "Uma",
    "Valentina", "Vikram", "Wei", "Yara", "Yusuf", "Zara", "Zoe",
)
SURNAMES = (
    "Abara", "Achterberg", "Adeyemi", "Almeida", "Andersson", "Aoki", "Baptiste", "Barros",
    "Becker", "Bergstrom", "Bhatt", "Bianchi", "Bondarenko", "Castillo", "Chandra", "Chaudhry",
    "Costa", "Dalgaard", "Delacroix", "Demir", "Dimitrov", "Dubois", "Eklund", "Esposito",
    "Falk", "Ferreira", "Fischer", "Fonseca", "Fujita", "Gallagher", "Garcia", "Gasparyan",
    "Haddad", "Halvorsen", "Hashemi", "Herrera", "Holm", "Ibrahim", "Ito", "Iversen",
    "Jaramillo", "Jensen", "Kahale", "Kapoor", "Karlsson", "Kaur", "Keller", "Kim", "Kowalski",
    "Kuznetsov", "Lambert", "Larsen", "Laurent", "Lindqvist", "Lombardi", "Lopez", "Mahmoud",
    "Marchetti", "Mbeki", "Mendoza", "Moreau", "Murakami", "Nakamura", "Navarro", "Nguyen",
    "Novak", "Nwosu", "Obi", "Okafor", "Oliveira", "Olsen", "Ortega", "Osei", "Ozturk",
    "Pacheco", "Park", "Patil", "Pereira", "Petrov", "Quintero", "Rahman", "Ramirez", "Rao",
    "Reyes", "Romano", "Rossi", "Saito", "Salazar", "Santos", "Schmidt", "Sharma", "Silva",
    "Sokolov", "Suzuki", "Tanaka", "Teixeira", "Torres", "Usman", "Valdez", "Varga",
    "Vasquez", "Verma", "Volkov", "Wagner", "Weber", "Yamamoto", "Yilmaz", "Zhang", "Zielinski",
)
ROLES = (
    "Founder", "Chief Scientist", "Research Lead", "Engineer", "Professor", "Investor",
    "Product Manager", "Author", "Economist", "Designer", "CEO", "Policy Advisor", "Physician",
)
SHOW_WORDS = (
    "Signal", "Frontier", "Open", "Deep", "Second", "Long", "Quiet", "Bright", "Curious",
    "Future", "Practical", "Hidden", "Modern", "Honest", "Early",
)
SHOW_NOUNS = (
    "Hour", "Conversations", "Podcast", "Interviews", "Sessions", "Talks", "Hour",
    "Briefing", "Dialogues", "Show", "Tapes", "Notes",
)

# Invented terms are built from these syllables: pronounceable, rarely English.
_ONSETS = (
    "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l",
    "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "st", "t", "th", "tr", "v",
    "w", "z",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y")
_CODAS = ("", "n", "r", "l", "s", "x", "m", "nd", "rt", "st", "ck", "v")
_SUFFIXES = ("", "", "", "ium", "ex", "ora", "ix", "on", "ate", "ism", "ware", "net", "ia", "ol")
_SYLLABLES = tuple(o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS)
_PRIME = 2_147_483_647  # scrambles ranks so neighbouring ranks do not look alike

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“A-Z0-9])")
_LABEL = re.compile(r"^[A-Z][\w.'’ -]{0,60}:\s+", re.MULTILINE)
_BLOCK_HEADER = re.compile(r"^[^\n:]{1,80}\s\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\s*$", re.MULTILINE)
_WORD_CORE = re.compile(r"^([^\w]*)([\w’']+)([^\w]*)$")


def invented_term(rank: int) -> str:
    """The invented word of a rank: distinct ranks give (almost always) distinct words."""
    x = (rank * 1_103_515_245 + 12_345) % _PRIME
    n = len(_SYLLABLES)
    first, rest = divmod(x, n)
    second, rest = divmod(rest, n)
    word = _SYLLABLES[x % n] + _SYLLABLES[first % n]
    if rank > 5000:
        word += _SYLLABLES[second % n] if rank % 3 else ""
    return word + _SUFFIXES[(rank // 7) % len(_SUFFIXES)]


def zipf_rank(rng: random.Random, s: float = ZIPF_S, cap: int = MAX_RANK) -> int:
    """A rank from a truncated power law p(r) ~ r^-s over [1, cap] (inverse transform)."""
    u = rng.random()
    a = 1.0 - s
    return max(1, int((1.0 + u * (cap**a - 1.0)) ** (1.0 / a)))


def base_sentences(files: list[Path] | None = None) -> list[str]:
    """Sentences of the bundled transcripts (labels, headers and front matter removed)."""
    if files is None:
        from quotebot.transcripts import bundled_files

        files = bundled_files()
    sentences: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            end = text.find("\n---\n", 4)
            if end != -1:
                text = text[end + 5 :]
        text = _BLOCK_HEADER.sub(" ", text)
        text = _LABEL.sub(" ", text)
        for sentence in _SENTENCE_END.split(" ".join(text.split())):
            words = sentence.split()
            if 4 <= len(words) <= 60:
                sentences.append(" ".join(words))
    if not sentences:
        raise RuntimeError("no sentences found in the bundled transcripts")
    return sentences


@dataclass(frozen=True)
class Person:
    name: str
    role: str

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


@dataclass(frozen=True)
class CorpusPlan:
    """How a corpus of a given size is laid out: files, turns per file, people and shows."""

    quotes: int
    seed: int
    files: int
    turns_per_file: int
    people: tuple[Person, ...]
    hosts: int
    shows: tuple[str, ...]


@dataclass(frozen=True)
class CorpusInfo:
    """What was generated: where, how much, and how long it took."""

    root: str
    files: int
    bytes: int
    turns: int
    sentences: int
    speakers: int
    shows: int
    estimated_quotes: int
    base_sentences: int
    base_digest: str  # of the bundled sentences: corpora are comparable only when it matches
    seconds: float

    def to_json(self) -> dict:
        return dict(self.__dict__)


class Varier:
    """Turns base sentences into varied ones; all randomness comes from the given generator."""

    def __init__(self, sentences: list[str], people: tuple[Person, ...]) -> None:
        self.sentences = sentences
        self.people = people
        self.synonyms: dict[str, tuple[str, ...]] = {}
        for group in SYNONYM_GROUPS:
            for word in group:
                if " " not in word:
                    self.synonyms.setdefault(word, group)

    def sentence(self, rng: random.Random) -> str:
        words = rng.choice(self.sentences).split()
        if rng.random() < 0.45:
            # Recombination: the head of one sentence with the tail of another.
            other = rng.choice(self.sentences).split()
            cut = rng.randint(2, max(2, len(words) - 1))
            tail = rng.randint(1, max(1, len(other) - 2))
            words = words[:cut] + other[tail:]
        out: list[str] = []
        for word in words:
            match = _WORD_CORE.match(word)
            if match and rng.random() < 0.45:
                lead, core, trail = match.groups()
                group = self.synonyms.get(core.lower())
                if group:
                    new = rng.choice(group)
                    if core[0].isupper():
                        new = new[0].upper() + new[1:]
                    word = lead + new + trail
            out.append(word)
        invented = _poisson(rng, INVENTED_PER_SENTENCE)
        for _ in range(invented):
            term = invented_term(zipf_rank(rng))
            if rng.random() < 0.15:
                term = term.capitalize()
            phrase = rng.choice(_INVENTED_FRAMES).format(term)
            out.insert(rng.randint(1, len(out)), phrase)
        roll = rng.random()
        if roll < 0.10:
            out.insert(rng.randint(1, len(out)), rng.choice(_NUMBER_FRAMES).format(
                n=rng.randint(2, 999), y=rng.randint(1950, 2030), k=rng.randint(1, 99)))
        elif roll < 0.16:
            person = rng.choice(self.people)
            name = person.first if rng.random() < 0.5 else person.name
            out.insert(rng.randint(1, len(out)), rng.choice(_NAME_FRAMES).format(name))
        text = " ".join(out)
        text = text[0].upper() + text[1:]
        if text[-1] not in ".?!\"”":
            text += "."
        return text


_INVENTED_FRAMES = (
    "{}", "{}", "{}", "the {}", "with {}", "like {}", "the {} thing", "on {}", "{} work",
)
_NUMBER_FRAMES = (
    "in {y}", "about {k} percent", "{n} times", "after {k} years", "around {n} people",
    "{n} thousand", "back in {y}",
)
_NAME_FRAMES = ("as {} said", "and {} agreed", "like {} told me", "{} would say", "with {}")


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def plan_corpus(
    quotes: int, seed: int = DEFAULT_SEED, quotes_per_turn: float = QUOTES_PER_TURN
) -> CorpusPlan:
    """Lay out a corpus of about `quotes` quotes, given how many quotes a turn makes."""
    per_file = min(3000, max(100, quotes // 100))
    turns = max(10, round(per_file / max(quotes_per_turn, 0.1)))
    files = max(2, round(quotes / (turns * quotes_per_turn)))
    rng = random.Random(f"people:{seed}")
    count = min(len(FIRST_NAMES) * len(SURNAMES), max(12, min(600, quotes // 2000)))
    pairs = rng.sample(range(len(FIRST_NAMES) * len(SURNAMES)), count)
    people = tuple(
        Person(f"{FIRST_NAMES[p // len(SURNAMES)]} {SURNAMES[p % len(SURNAMES)]}",
               rng.choice(ROLES))
        for p in pairs
    )
    hosts = max(2, count // 12)
    shows = tuple(
        f"The {SHOW_WORDS[i % len(SHOW_WORDS)]} {SHOW_NOUNS[(i * 7 + 3) % len(SHOW_NOUNS)]}"
        + (f" {i // len(SHOW_WORDS) + 1}" if i >= len(SHOW_WORDS) else "")
        for i in range(hosts)
    )
    return CorpusPlan(quotes, seed, files, turns, people, hosts, shows)


def render_file(plan: CorpusPlan, varier: Varier, index: int) -> tuple[str, int, int]:
    """The text of file `index`, with its turn and sentence counts."""
    rng = random.Random(f"file:{plan.seed}:{index}")
    host_index = rng.randrange(plan.hosts)
    host = plan.people[host_index]
    show = plan.shows[host_index]
    guests_pool = plan.people[plan.hosts :] or plan.people
    guests = rng.sample(guests_pool, k=min(len(guests_pool), rng.choice((1, 1, 1, 2, 2, 3))))
    people = [host, *guests]
    block = rng.random() < BLOCK_SHARE
    year, month, day = rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)
    topic = invented_term(zipf_rank(rng)).capitalize()
    title = f"{show} #{index + 1}: {' and '.join(g.name for g in guests)} on {topic}"
    lines = [
        "---",
        f'title: "{title}"',
        f'date: "{year:04d}-{month:02d}-{day:02d}"',
        f'venue: "{show}"',
        "url: null",
        "participants:",
    ]
    for i, person in enumerate(people):
        role = "Host" if i == 0 else person.role
        lines += [
            f"  - name: {person.name}",
            f"    role: {role}",
            f"    aliases: [{person.first}, {person.surname}]",
        ]
    lines += [
        "corrections: []",
        "annotations: |",
        f"  Synthetic benchmark transcript {index + 1} generated by quotebot bench",
        f"  (seed {plan.seed}) from the bundled interviews; not real speech.",
        "---",
        "",
    ]
    sentences = 0
    clock = rng.randint(0, 30)
    for turn in range(plan.turns_per_file):
        if turn % 2 == 0:
            speaker = host
            count = rng.choice((1, 1, 2, 2, 3))
        else:
            speaker = rng.choice(guests)
            count = rng.choice((1, 2, 3, 3, 4, 5, 6))
        text = " ".join(varier.sentence(rng) for _ in range(count))
        sentences += count
        role = "Host" if speaker is host else speaker.role
        if block:
            # Timestamped blocks cut the turn every 20-45 words, as speech recognisers do.
            words = text.split()
            while words:
                size = rng.randint(20, 45)
                chunk, words = words[:size], words[size:]
                lines.append(f"{speaker.name} ({role}) {_clock(clock)}")
                lines.append(" ".join(chunk))
                clock += max(1, len(chunk) * 2 // 5) + rng.randint(0, 2)
        else:
            lines.append(f"{speaker.name}: {text}")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n", plan.turns_per_file, sentences


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def file_name(plan: CorpusPlan, index: int) -> str:
    return f"bench-{plan.seed}-{index + 1:05d}.txt"


def generate(
    quotes: int,
    root: Path,
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> CorpusInfo:
    """Write a corpus of about `quotes` quotes into the folder `root`.

    Args:
        quotes: The number of quotes wanted; the ingester's segmentation decides the actual
            number (within a few percent of it while QUOTES_PER_TURN is up to date).
        root: The folder to write into (created if needed).
        seed: Every byte of the corpus follows from the seed and `quotes`.
        progress: Called with (files written, files in all).

    Returns:
        What was written.
    """
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    sentences = base_sentences()
    plan = plan_corpus(quotes, seed)
    varier = Varier(sentences, plan.people)
    total_bytes = total_turns = total_sentences = 0
    for index in range(plan.files):
        text, turns, count = render_file(plan, varier, index)
        data = text.encode("utf-8")
        (root / file_name(plan, index)).write_bytes(data)
        total_bytes += len(data)
        total_turns += turns
        total_sentences += count
        if progress:
            progress(index + 1, plan.files)
    return CorpusInfo(
        root=str(root), files=plan.files, bytes=total_bytes, turns=total_turns,
        sentences=total_sentences, speakers=len(plan.people), shows=len(plan.shows),
        estimated_quotes=round(total_turns * QUOTES_PER_TURN),
        base_sentences=len(sentences),
        base_digest=hashlib.sha256("\n".join(sentences).encode("utf-8")).hexdigest()[:16],
        seconds=round(time.perf_counter() - started, 3),
    )
