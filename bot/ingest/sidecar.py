"""Sidecar metadata for a folder of transcripts: which file is which episode, and who speaks.

A folder may hold ``quotebot.yaml`` (or ``episodes.yaml``, ``.yml``) or ``quotebot.csv``
(or ``episodes.csv``). Entries are keyed by a path
relative to the sidecar's folder (``ep-001/transcript.md``), an episode folder
(``ep-001``), a file name or a file stem. YAML::

    defaults:                      # optional: every file below this folder
      speakers: [{name: Jane Host, role: Host}]
    files:                         # or the entries at the top level, or a list with `file:`
      ep-001:
        title: The First One
        date: 2024-01-02
        url: https://example.com/1
        speakers:
          - Mike Maples, Jr. (Guest)
          - {name: Jane Host, role: Host, aliases: [SPEAKER_00]}

CSV: a header row with ``file`` (or ``path``/``folder``), ``title``, ``date``, ``url``,
``slug`` and ``speakers`` (``Name (Role); Name (Role)``, semicolons because names hold
commas), or ``host`` and ``guests`` columns.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
from pathlib import Path

import yaml

from quotebot.bot.ingest.front_matter import slugify
from quotebot.bot.ingest.speakers import people_from
from quotebot.bot.ingest.types import SourceOverrides, TranscriptError
from quotebot.bot.ingest.yaml_loaders import SidecarLoader

log = logging.getLogger(__name__)

SIDECAR_NAMES = tuple(
    f"{stem}.{ext}"
    for stem in ("quotebot", "episodes")
    for ext in ("yaml", "yml", "csv")
)
_ENTRY_KEYS = frozenset({"file", "path", "folder", "title", "date", "url", "link", "slug",
                         "id", "speakers", "participants", "host", "hosts", "guest", "guests"})


class Sidecar:
    """The entries of one sidecar file, looked up by the files they describe.

    Args:
        folder: The folder holding the sidecar; entry keys are relative to it.
        defaults: Overrides for every file below the folder.
        entries: Overrides by key (relative path, folder, file name or stem).
    """

    def __init__(self, folder: Path, defaults: SourceOverrides | None,
                 entries: dict[str, SourceOverrides]) -> None:
        self.folder = folder
        self.defaults = defaults
        self.entries = {_key(k): v for k, v in entries.items()}

    def lookup(self, path: Path) -> SourceOverrides | None:
        """The overrides for a file below this sidecar's folder, or None."""
        try:
            rel = path.resolve().relative_to(self.folder.resolve())
        except ValueError:
            return None
        keys = [rel.as_posix(), rel.with_suffix("").as_posix()]
        if len(rel.parts) > 1:
            keys.append(rel.parent.as_posix())
            keys.append(rel.parts[0])
        keys += [rel.name, rel.name.split(".")[0]]
        found = next((self.entries[_key(k)] for k in keys if _key(k) in self.entries), None)
        if found is None:
            return self.defaults
        return found.over(self.defaults)


def _key(text: str) -> str:
    return text.strip().strip("/").replace("\\", "/").lower()


def find_sidecar(folder: Path) -> Path | None:
    """The sidecar file in a folder, if there is one."""
    for name in SIDECAR_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> Sidecar:
    """Read a sidecar file.

    Raises:
        TranscriptError: The file is unreadable or not laid out as described above.
    """
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise TranscriptError(name, f"sidecar is {size // 2**20} MB; the limit is "
                                        f"{MAX_SIDECAR_BYTES // 2**20} MB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError(name, f"cannot read sidecar: {exc}") from None
    try:
        return _read(text, name, path)
    except RecursionError:
        raise TranscriptError(name, "sidecar is nested too deeply") from None


def _read(text: str, name: str, path: Path) -> Sidecar:
    if path.suffix.lower() == ".csv":
        return Sidecar(path.parent, None, _csv_entries(text, name))
    try:
        data = yaml.load(text, Loader=SidecarLoader)  # a SafeLoader, no aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc
        raise TranscriptError(name, f"sidecar is not valid YAML: {problem}",
                              mark.line + 1 if mark is not None else None) from None
    if data is None:
        return Sidecar(path.parent, None, {})
    if not isinstance(data, dict | list):
        raise TranscriptError(name, "sidecar must be a mapping of files or a list of entries")
    defaults = None
    if isinstance(data, dict) and ("files" in data or "episodes" in data or "defaults" in data):
        if data.get("defaults") is not None:
            defaults = _overrides(data["defaults"], name, "defaults")
        data = data.get("files", data.get("episodes")) or {}
    return Sidecar(path.parent, defaults, _entries(data, name))


def _entries(data: object, name: str) -> dict[str, SourceOverrides]:
    """The per-file entries: a mapping of file -> metadata, or a list of entries with `file`."""
    if isinstance(data, dict):
        return {str(key): _overrides(value, name, str(key)) for key, value in data.items()}
    if not isinstance(data, list):
        raise TranscriptError(name, "sidecar 'files' must be a mapping or a list")
    entries: dict[str, SourceOverrides] = {}
    for item in data:
        if not isinstance(item, dict):
            raise TranscriptError(name, f"sidecar entry is not a mapping: {item!r}")
        key = item.get("file") or item.get("path") or item.get("folder")
        if not key:
            raise TranscriptError(name, f"sidecar entry without 'file': {item!r}")
        entries[str(key)] = _overrides(item, name, str(key))
    return entries


# Bounds, as for front matter: a sidecar is metadata, and aliases nested a few levels deep
# ("billion laughs") turn a few hundred bytes into hundreds of megabytes of titles.
MAX_SIDECAR_BYTES = 4 * 2**20


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip() or None


def _overrides(value: object, name: str, key: str) -> SourceOverrides:
    """One entry: a mapping of title, date, url, slug and speakers (or just a title)."""
    if isinstance(value, str):
        return SourceOverrides(title=value.strip() or None)
    if not isinstance(value, dict):
        raise TranscriptError(name, f"sidecar entry {key!r} must be a mapping")
    unknown = set(map(str, value)) - _ENTRY_KEYS
    if unknown:
        log.warning("%s: entry %r: unknown keys %s ignored", name, key, sorted(unknown))
    people = _people(value.get("speakers") or value.get("participants"), name, key)
    for column, role in (("host", "Host"), ("hosts", "Host"), ("guest", "Guest"),
                         ("guests", "Guest")):
        people += _people(value.get(column), name, key, role)
    slug = _text(value.get("slug")) or _text(value.get("id"))
    slug = slugify(slug) or None if slug else None
    return SourceOverrides(
        slug=slug, title=_text(value.get("title")), date=_text(value.get("date")),
        url=_text(value.get("url")) or _text(value.get("link")), participants=tuple(people),
    )


def _people(value: object, name: str, key: str, role: str | None = None):
    try:
        return people_from(value, role)
    except ValueError as exc:
        raise TranscriptError(name, f"sidecar entry {key!r}: {exc}") from None


def _csv_entries(text: str, name: str) -> dict[str, SourceOverrides]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _csv_rows(reader, name)
    except csv.Error as exc:  # a field over csv's limit (128 KB), a bad quote, ...
        raise TranscriptError(name, f"sidecar CSV is malformed: {exc}") from None


def _csv_rows(reader: csv.DictReader, name: str) -> dict[str, SourceOverrides]:
    if not reader.fieldnames:
        return {}
    columns = {c: (c or "").strip().lower() for c in reader.fieldnames}
    if not {"file", "path", "folder"} & set(columns.values()):
        raise TranscriptError(name, "sidecar CSV needs a 'file' column")
    entries = {}
    for number, row in enumerate(reader, 2):
        item = {columns[k]: v for k, v in row.items() if k in columns and v not in (None, "")}
        key = item.get("file") or item.get("path") or item.get("folder")
        if not key:
            raise TranscriptError(name, "sidecar row without a file", number)
        entries[key] = _overrides(item, name, key)
    return entries
