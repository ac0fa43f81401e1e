"""Podcast RSS feeds on disk: each episode's title, date, link, people and local transcript.

Transcripts are the Podcasting 2.0 ``<podcast:transcript url=... type=...>`` tags. Nothing
is fetched: a relative or ``file:`` URL is read beside the feed, and a web URL is looked up
by its file name (or its last two path parts) in the feed's folder.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from quotebot.bot.ingest.front_matter import slugify
from quotebot.bot.ingest.markup import unescape_entities
from quotebot.bot.ingest.types import Participant, SourceOverrides, TranscriptError

log = logging.getLogger(__name__)

# Readable transcript types, best first: JSON and WebVTT carry speakers, SRT often does.
_TYPE_RANK = {
    "application/json": 0,
    "text/vtt": 1,
    "application/x-subrip": 2,
    "application/srt": 2,
    "text/srt": 2,
    "text/plain": 3,
}
_SUFFIX_RANK = {".json": 0, ".vtt": 1, ".srt": 2, ".txt": 3, ".md": 3}
MAX_FEED_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class FeedEpisode:
    """An episode of a feed with the local transcript chosen for it (None: none on disk)."""

    title: str
    transcript: Path | None
    overrides: SourceOverrides
    wanted: tuple[str, ...] = ()
    alternates: tuple[Path, ...] = ()  # every local transcript the episode names


def is_feed(data: bytes) -> bool:
    """Whether XML bytes are an RSS feed (its root element is ``<rss>``)."""
    head = data[:4096].lstrip()
    return re.search(rb"<rss[\s>]", head) is not None


def read_feed(path: Path) -> list[FeedEpisode]:
    """Read an RSS file's episodes.

    Args:
        path: The feed file.

    Returns:
        Its episodes in feed order.

    Raises:
        TranscriptError: The file is unreadable, not RSS, or declares XML entities
            (refused: entity expansion is the classic XML bomb).
    """
    name = str(path)
    try:
        if path.stat().st_size > MAX_FEED_BYTES:
            raise TranscriptError(name, f"feed is over {MAX_FEED_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(name, f"cannot read: {exc.strerror or exc}") from None
    if b"<!ENTITY" in data or b"<!entity" in data:
        raise TranscriptError(name, "feed declares XML entities; refused for safety")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise TranscriptError(name, f"not valid XML: {exc}", exc.position[0]) from None
    if _local(root.tag) != "rss":
        raise TranscriptError(name, f"XML but not an RSS feed (root element <{_local(root.tag)}>)")
    channel = next((c for c in root if _local(c.tag) == "channel"), None)
    if channel is None:
        raise TranscriptError(name, "RSS feed without a <channel>")
    hosts = tuple(_people(channel))
    episodes = []
    for item in channel:
        if _local(item.tag) == "item":
            episodes.append(_episode(item, path.parent, hosts))
    return episodes


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(item: ET.Element, name: str) -> str | None:
    for child in item:
        if _local(child.tag) == name and child.text and child.text.strip():
            return unescape_entities(" ".join(child.text.split()))
    return None


def _people(element: ET.Element):
    """``<podcast:person role="host">Name</podcast:person>`` as participants."""
    for child in element:
        if _local(child.tag) == "person" and child.text and child.text.strip():
            role = (child.get("role") or "").strip()
            yield Participant(" ".join(child.text.split()), role.title() or None)


def _episode(item: ET.Element, folder: Path, hosts: tuple[Participant, ...]) -> FeedEpisode:
    title = _child_text(item, "title") or _child_text(item, "guid") or "Untitled episode"
    link = _child_text(item, "link")
    if link is None:
        link = next((c.get("url") for c in item if _local(c.tag) == "enclosure"), None)
    date = None
    published = _child_text(item, "pubDate")
    if published:
        try:
            date = parsedate_to_datetime(published).date().isoformat()
        except (TypeError, ValueError, OverflowError):  # a year past datetime's overflows
            date = published
    people = tuple(_people(item))
    names = {p.name for p in people}
    people += tuple(h for h in hosts if h.name not in names)
    offers = []
    for child in item:
        if _local(child.tag) == "transcript" and child.get("url"):
            url = child.get("url").strip()
            kind = (child.get("type") or "").split(";")[0].strip().lower()
            try:
                suffix = Path(urlparse(url).path).suffix.lower()
            except ValueError:  # "http://[abc/x.vtt": a broken IPv6 host
                continue
            rank = _TYPE_RANK.get(kind, _SUFFIX_RANK.get(suffix, 9))
            if rank < 9:
                offers.append((rank, url))
    offers.sort(key=lambda offer: offer[0])
    local = tuple(p for _, url in offers if (p := local_copy(url, folder)))
    transcript = local[0] if local else None
    guid = _child_text(item, "guid")
    slug = slugify(title)[:80].strip("-") or slugify(guid or "")[:80].strip("-") or None
    overrides = SourceOverrides(
        slug=slug, title=title, date=date, url=link, participants=people,
        extra=(("feed_guid", guid),) if guid else (),
    )
    return FeedEpisode(title, transcript, overrides, tuple(url for _, url in offers), local)


def local_copy(url: str, folder: Path) -> Path | None:
    """The file on disk a transcript URL stands for, or None. Never touches the network."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        raw = unquote(parsed.path)
        candidate = Path(raw) if Path(raw).is_absolute() else folder / raw
        return candidate if candidate.is_file() else None
    parts = [unquote(p) for p in parsed.path.split("/") if p]
    for tail in (parts[-2:], parts[-1:]):
        if tail and ".." not in tail:
            candidate = folder.joinpath(*tail)
            if candidate.is_file():
                return candidate
    return None
