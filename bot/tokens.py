"""Word tokens exactly as the FTS5 index sees them (unicode61, remove_diacritics 2)."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Characters that change no word but split one for the index: the soft hyphen, zero-width
# space, non-joiner and joiner, left-to-right and right-to-left marks, bidi embeddings,
# overrides and isolates, the word joiner and invisible operators, and the BOM (a
# zero-width no-break space inside text).
_INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def strip_invisible(text: str) -> str:
    """Remove invisible formatting characters, so "sca\\u00adling" is the word "scaling".

    Transcripts (at ingest) and queries go through this alike.
    """
    if text.isascii() or _INVISIBLE.search(text) is None:
        return text
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """Lowercase and strip diacritics, as the index does."""
    text = text.lower()
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", strip_invisible(text)))


def tokenize(text: str) -> list[str]:
    """The index's tokens of `text`, in order."""
    return _TOKEN.findall(fold(text))
