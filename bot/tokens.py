"""Word tokens exactly as the FTS5 index sees them (unicode61, remove_diacritics 2)."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lowercase and strip diacritics, as the index does."""
    text = text.lower()
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def tokenize(text: str) -> list[str]:
    """The index's tokens of `text`, in order."""
    return _TOKEN.findall(fold(text))


def fts_term(term: str) -> str:
    """One term as an FTS5 string literal: whatever it contains, it is never syntax."""
    return '"' + term.replace('"', '""') + '"'
