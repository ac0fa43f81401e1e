"""Speaker labels as written in a transcript, resolved to canonical full names."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from bot.ingest.types import Participant

log = logging.getLogger(__name__)

_ROLE = re.compile(r"^(?P<name>.*?)\s*\((?P<role>[^()]*)\)\s*$")
_SPACES = re.compile(r"\s+")
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
    """Return the name to show for a label: ALL-CAPS subtitle labels become title case."""
    if name.isupper() and sum(c.isalpha() for c in name) > 1:
        # str.title() would turn "O'BRIEN" into "O'Brien" and "MCCOY" into "Mccoy";
        # the first is right and the second is the best a machine can do.
        return name.title()
    return name


def _words(name: str) -> tuple[str, ...]:
    """Lower-cased words of a name without honorifics or trailing dots."""
    words = (w.rstrip(".").lower() for w in name.split())
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
                self._exact.setdefault(split_label(alias)[0].lower(), person.name)
        # Names win over aliases that happen to spell another participant's name.
        for person in self.participants:
            self._exact[split_label(person.name)[0].lower()] = person.name
        # Each word of a full name points to the names holding it, so a short form is
        # checked against the few names sharing its rarest word, not against everyone:
        # a file with thousands of speakers would otherwise cost labels x names.
        self._full: dict[str, tuple[str, ...]] = {}
        self._by_word: dict[str, list[str]] = {}
        for person in self.participants:
            self._index(person.name)
        self._cache: dict[str | None, str | None] = {}

    def _index(self, name: str) -> None:
        if name in self._full:
            return
        words = _words(name)
        self._full[name] = words
        for word in dict.fromkeys(words):
            self._by_word.setdefault(word, []).append(name)

    def add(self, name: str) -> None:
        """Make `name` a participant (a name wins over an alias spelling it)."""
        self._exact[split_label(name)[0].lower()] = name
        self._index(name)
        self._cache.clear()

    def add_alias(self, name: str, alias: str) -> None:
        """Make `alias` another label of participant `name` (an existing name or alias wins)."""
        self._exact.setdefault(split_label(alias)[0].lower(), name)
        self._cache.clear()

    def match(self, label: str) -> str | None:
        """Return the participant a label names, or None when it names none or several.

        A label matches a name or alias case-insensitively, or is a short form
        ("Ilya", "Sutskever", "Dr. Smith") found as whole words in exactly one name.
        """
        name = split_label(label)[0]
        found = self._exact.get(name.lower())
        if found is not None:
            return found
        words = _words(name)
        if not words:
            return None
        postings = [self._by_word.get(word, ()) for word in dict.fromkeys(words)]
        fewest = min(postings, key=len)
        full = self._full
        candidates = {person for person in fewest if _contains(full[person], words)}
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
        key = name.lower()
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
        known = info.setdefault("keys", {a.lower() for a in info["aliases"]})
        if name.lower() != full.lower() and name.lower() not in known:
            known.add(name.lower())
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
