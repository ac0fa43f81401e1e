"""Speaker labels as written in a transcript, resolved to canonical full names."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

from quotebot.bot.ingest.types import Participant

log = logging.getLogger(__name__)

_ROLE = re.compile(r"^(?P<name>.*?)\s*\((?P<role>[^()]*)\)\s*$")
_SPACES = re.compile(r"\s+")
_DIARIZED = re.compile(r"(?i:speaker)_(\d+)")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)’(?=\w)")
_QUOTE_CHARS = frozenset("'’‘\"“”")
_NICKNAME = re.compile(r"(?<!\S)(?:‘[^’\s]+’|“[^”]+”|\"[^\"\s]+\"|'[^'\s]+')(?!\S)")
# Honorifics are dropped before comparing words, so "Dr. Smith" finds "Jane Smith".
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame"})


def split_label(label: str) -> tuple[str, str | None]:
    """Split a raw label such as ``"Ilya Sutskever (Chief Scientist):"`` into name and role.

    Args:
        label: The label exactly as written in the file.

    Returns:
        The trimmed name with spaces collapsed, and the parenthesised role or None.
    """
    label = _SPACES.sub(" ", label).strip().rstrip(":").strip()
    match = _ROLE.match(label)
    if match and match.group("name"):
        role = match.group("role").strip()
        return match.group("name"), role or None
    return label, None


def display_name(name: str) -> str:
    """Return the name to show for a label: ALL-CAPS subtitle labels become title case.

    An apostrophe inside a name is written straight ("O’Connell" is "O'Connell"), so
    files that spell it either way give one speaker; quotes around a nickname stay.
    """
    if "’" in name:
        name = _INNER_APOSTROPHE.sub("'", name)
    diarized = _DIARIZED.fullmatch(name)
    if diarized is not None:
        # Speech-to-text tools count from zero ("SPEAKER_00"); people count from one.
        return f"Speaker {int(diarized.group(1)) + 1}"
    if name.isupper() and sum(c.isalpha() for c in name) > 1:
        # str.title() would turn "O'BRIEN" into "O'Brien" and "MCCOY" into "Mccoy";
        # the first is right and the second is the best a machine can do.
        return name.title()
    return name


_WORD_TRIM = ".,'’‘\"“”"
# Curly and straight quotes spell one name: "O’Brien" is "O'Brien".
_STRAIGHT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def fold(name: str) -> str:
    """A name as compared: lower case, quotes straightened."""
    return name.translate(_STRAIGHT).lower()


@lru_cache(maxsize=4096)  # the same few names are compared over and over
def _words(name: str) -> tuple[str, ...]:
    """Lower-cased words of a name without honorifics, commas, quotes or trailing dots."""
    words = (fold(w.strip(_WORD_TRIM)) for w in name.split())
    return tuple(w for w in words if w and w not in _TITLES)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether `needle` occurs in `haystack` as a run of whole words."""
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


class Roster:
    """Resolves labels to canonical participant names, caching each distinct label.

    Args:
        participants: The known participants; names and aliases match case-insensitively.
        default: The speaker for unlabelled text (None for unknown).
    """

    def __init__(self, participants: Iterable[Participant], default: str | None = None) -> None:
        self.participants = tuple(participants)
        self.default = default
        self._exact: dict[str, str] = {}
        for person in self.participants:
            for alias in person.aliases:
                self._exact.setdefault(fold(split_label(alias)[0]), person.name)
        # Names win over aliases that happen to spell another participant's name.
        for person in self.participants:
            self._exact[fold(split_label(person.name)[0])] = person.name
        # Each word of a full name points to the names holding it, so a short form is
        # checked against the few names sharing its rarest word, not against everyone:
        # a file with thousands of speakers would otherwise cost labels x names.
        self._full: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._by_word: dict[str, list[str]] = {}
        for person in self.participants:
            self._index(person.name)
        self._cache: dict[str | None, str | None] = {}

    def _index(self, name: str) -> None:
        if name in self._full:
            return
        variants = [_words(name)]
        # "Andrew Bosworth" names "Andrew ‘Boz’ Bosworth": the nickname may be left out.
        if _QUOTE_CHARS.intersection(name):
            plain = _words(_NICKNAME.sub(" ", name))
            if plain != variants[0]:
                variants.append(plain)
        self._full[name] = tuple(variants)
        for word in dict.fromkeys(w for variant in variants for w in variant):
            self._by_word.setdefault(word, []).append(name)

    def add(self, name: str) -> None:
        """Make `name` a participant (a name wins over an alias spelling it)."""
        self._exact[fold(split_label(name)[0])] = name
        self._index(name)
        self._cache.clear()

    def add_alias(self, name: str, alias: str) -> None:
        """Make `alias` another label of participant `name` (an existing name or alias wins)."""
        self._exact.setdefault(fold(split_label(alias)[0]), name)
        self._cache.clear()

    def match(self, label: str) -> str | None:
        """Return the participant a label names, or None when it names none or several.

        A label matches a name or alias case-insensitively, or is a short form
        ("Ilya", "Sutskever", "Dr. Smith") found as whole words in exactly one name.
        """
        name = split_label(label)[0]
        found = self._exact.get(fold(name))
        if found is not None:
            return found
        words = _words(name)
        if not words:
            return None
        postings = [self._by_word.get(word, ()) for word in dict.fromkeys(words)]
        fewest = min(postings, key=len)
        full = self._full
        candidates = {person for person in fewest
                      if any(_contains(variant, words) for variant in full[person])}
        if len(candidates) == 1:
            return candidates.pop()
        if len(candidates) > 1:
            # Never guess between two people: the label stays its own speaker.
            log.debug("label %r is ambiguous between %s", label, sorted(candidates))
        return None

    def resolve(self, label: str | None) -> str | None:
        """Return the canonical speaker for a raw label.

        Args:
            label: The label as written, or None for unlabelled text.

        Returns:
            The participant's full name; for an unknown or ambiguous label, the label
            itself (cleaned); for unlabelled text, the default speaker.
        """
        try:
            return self._cache[label]
        except KeyError:
            pass
        if label is None:
            result = self.default
        else:
            result = self.match(label) or display_name(split_label(label)[0]) or None
        self._cache[label] = result
        return result


def build_participants(
    declared: Iterable[Participant], labels: Iterable[str]
) -> tuple[Participant, ...]:
    """Merge the front matter's participants with the labels a file uses.

    Every label ends up as a participant or as an alias of one: a short form that
    names exactly one longer label (or declared person) becomes that person's alias,
    a role written as ``Name (Role)`` fills in a role the front matter does not give.

    Args:
        declared: Participants from the front matter, kept first and in order.
        labels: Raw labels in order of first appearance.

    Returns:
        The declared participants (with aliases and roles completed), then the
        people only the file names, in order of first appearance.
    """
    people: dict[str, dict] = {}
    for person in declared:
        people[person.name] = {
            "role": person.role,
            "aliases": list(person.aliases),
            "declared": True,
        }
    seen: dict[str, tuple[str, str | None, int]] = {}
    for order, label in enumerate(labels):
        name, role = split_label(label)
        key = fold(name)
        if name and key not in seen:
            seen[key] = (name, role, order)
        elif name and role and seen[key][1] is None:
            seen[key] = (seen[key][0], role, seen[key][2])
    order_of: dict[str, int] = {}
    # One roster, grown as people and aliases are found: the merge stays near-linear in
    # the number of labels (a roster per label made 8,000 labels take 106 s).
    roster = Roster(
        Participant(full, None, tuple(info["aliases"])) for full, info in people.items()
    )
    # Longest labels first, so full names exist before their short forms are tried.
    pending = sorted(seen.values(), key=lambda item: (-len(_words(item[0])), item[2]))
    for name, role, order in pending:
        full = roster.match(name)
        if full is None:
            full = display_name(name)
            if full not in people:
                people[full] = {"role": None, "aliases": [], "declared": False}
                roster.add(full)
        info = people[full]
        order_of.setdefault(full, order)
        order_of[full] = min(order_of[full], order)
        if role and not info["role"]:
            info["role"] = role
        known = info.setdefault("keys", {fold(a) for a in info["aliases"]})
        if fold(name) != fold(full) and fold(name) not in known:
            known.add(fold(name))
            info["aliases"].append(name)
            roster.add_alias(full, name)
    declared_names = [name for name, info in people.items() if info["declared"]]
    found = sorted(
        (name for name, info in people.items() if not info["declared"]),
        key=lambda name: order_of[name],
    )
    return tuple(
        Participant(name, people[name]["role"], tuple(people[name]["aliases"]))
        for name in declared_names + found
    )


def merge_participants(
    given: Iterable[Participant], found: Iterable[Participant]
) -> tuple[Participant, ...]:
    """Merge speakers given from outside the file (sidecar, command line) with its own.

    A speaker the file names that matches a given one (by name, alias or short form)
    becomes that person: the given name and role win, the file's spelling becomes an
    alias. Speakers only the file names follow the given ones.

    Args:
        given: Participants from a sidecar file or the command line.
        found: Participants after `build_participants`.

    Returns:
        The given participants (aliases completed), then the file's other speakers.
    """
    found = tuple(found)
    fuller = Roster(found)
    merged: dict[str, list] = {}
    for person in given:
        # A short given name ("Ode") for a fuller one the file uses ("Ben Ode").
        name = fuller.match(person.name)
        if name is None or len(_words(name)) <= len(_words(person.name)):
            name = person.name
        aliases = [*person.aliases, *([person.name] if name != person.name else [])]
        info = merged.setdefault(name, [None, []])
        info[0] = info[0] or person.role
        info[1] += [a for a in aliases if a.lower() not in map(str.lower, info[1])]
    roster = Roster(Participant(n, r, tuple(a)) for n, (r, a) in merged.items())
    rest = []
    for person in found:
        full = roster.match(person.name)
        if full is None:
            full = next((m for a in person.aliases if (m := roster.match(a))), None)
        if full is None:
            rest.append(person)
            continue
        info = merged[full]
        info[0] = info[0] or person.role
        for alias in (person.name, *person.aliases):
            if alias.lower() != full.lower() and alias.lower() not in map(str.lower, info[1]):
                info[1].append(alias)
    return tuple(Participant(n, r, tuple(a)) for n, (r, a) in merged.items()) + tuple(rest)


# Capitalised words that follow a first name without being a surname ("Sarah And I").
_NOT_SURNAMES = frozenset(
    """i i'm i've i'll and but so the a an to of in on at for with is was it that this
    yes no yeah okay ok oh well now then thanks thank said says asked who what when where
    why how we you he she they my our your his her their mr mrs ms dr""".split()
)
_CAPITALISED = r"[^\W\d_a-zß-ÿ][\w'’-]+"
_SUFFIXES = frozenset({"Jr", "Sr", "II", "III", "IV"})
_SURNAMES = re.compile(
    rf"((?:[ \t]+{_CAPITALISED}){{1,2}})(?P<suffix>,?[ \t]+(?:Jr|Sr|II|III|IV)\b\.?)?"
)


def _mentions(text: str, name: str):
    """Matches of the capitalised words after each whole-word mention of `name`.

    str.find then a match at the spot: a pattern opening with a look-behind would be
    tried at every character of the text.
    """
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_'’-"):
            match = _SURNAMES.match(text, end)
            if match is not None:
                yield match
        at = text.find(name, end)


def complete_first_names(
    people: tuple[Participant, ...], texts: Iterable[str | None]
) -> tuple[Participant, ...]:
    """Give a first-name-only speaker the full name the same source introduces.

    "Sarah:" labels in a source whose title or text says "my guest is Sarah Chen"
    become Sarah Chen, with "Sarah" as an alias. A name followed by two different
    surnames equally often, or one another speaker already has, is left alone.

    Args:
        people: The source's participants.
        texts: The title and the segment texts, searched for full names.

    Returns:
        The participants, completed where the text allows.
    """
    singles = [
        p for p in people
        if len(p.name.split()) == 1 and p.name[:1].isupper() and not p.name.isupper()
        and p.name.isalpha()
    ]
    if not singles:
        return people
    text = "\n".join(t for t in texts if t)
    taken = {p.name.lower() for p in people}
    renamed: dict[str, str] = {}
    for person in singles:
        full = _introduced_as(person.name, text)
        if full and full.lower() not in taken and full.split()[1].lower() not in taken:
            renamed[person.name] = full
            taken.add(full.lower())
    if not renamed:
        return people
    log.debug("first names completed: %s", renamed)
    return tuple(
        Participant(renamed[p.name], p.role, (p.name, *p.aliases)) if p.name in renamed else p
        for p in people
    )


def _introduced_as(first: str, text: str) -> str | None:
    """The full name `text` most often gives `first` ("Sarah Chen"), or None when it gives
    none or two equally often."""
    counts: dict[str, int] = {}
    for match in _mentions(text, first):
        if full := _full_name(first, match):
            counts[full] = counts.get(full, 0) + 1
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def _full_name(first: str, match: re.Match[str]) -> str | None:
    """The name one mention gives: the first surname word, and a suffix if one follows."""
    words = match.group(1).split()
    kept = []
    for word in words:
        if word.lower().strip("'’") in _NOT_SURNAMES:
            break
        kept.append(word.rstrip("'’").removesuffix("'s").removesuffix("’s"))
    if not kept:
        return None
    # Only the first surname word: "Sarah Chen Today" must count as "Sarah Chen".
    full = f"{first} {kept[0]}"
    if len(kept) > 1 and kept[1].rstrip(".") in _SUFFIXES:
        full += f" {kept[1]}"  # "Louis Gerstner III"
    elif len(kept) == len(words) == 1 and match.group("suffix"):
        full += match.group("suffix")  # "Mike Maples, Jr."
    return full


def people_from(value: object, role: str | None = None) -> list[Participant]:
    """Speakers written in metadata: "Name (Role)" strings (one string may hold several,
    split by semicolons), {name, role, aliases} mappings, or one {Name: Role} mapping.

    Args:
        value: The metadata value.
        role: The role for people whose entry gives none (a `guests:` key gives "Guest").

    Raises:
        ValueError: An entry without a name, or a value of another shape.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(";") if part.strip()]
    if isinstance(value, dict) and "name" not in value:
        value = [{"name": k, "role": v} for k, v in value.items()]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"speakers must be a list, not {value!r}")
    people = []
    for item in value:
        if isinstance(item, str):
            name, own = split_label(item)
            if name:
                people.append(Participant(name, own or role))
        elif isinstance(item, dict) and str(item.get("name") or "").strip():
            aliases = item.get("aliases") or ()
            if isinstance(aliases, str):
                aliases = (aliases,)
            own = item.get("role")
            people.append(Participant(
                str(item["name"]).strip(), str(own).strip() if own else role,
                tuple(str(a).strip() for a in aliases if str(a).strip()),
            ))
        else:
            raise ValueError(f"speaker without a name: {item!r}")
    return people
