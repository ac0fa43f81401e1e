"""Clean-up shared by every parser: HTML entities, Markdown escapes and stage directions."""

from __future__ import annotations

import html
import logging
import re

log = logging.getLogger(__name__)

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# CommonMark's backslash escapes of ASCII punctuation ("\[12:34\]", "\*", "\_").
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")

# Stage directions: what transcribers write for sounds and non-speech, in any bracket.
_DIRECTION_WORDS = (
    r"(?:both |all |everyone |audience )?(?:laugh(?:s|ing|ter)?|chuckl(?:es?|ing)|giggl(?:es?|ing)"
    r"|crosstalk|cross-talk|cross talk|inaudible|unintelligible|indistinct|applause|applauding"
    r"|music|silence|pause|long pause|sighs?|coughs?|clears throat|clapping|cheering|overlapping"
    r"|background noise|noise|audio cuts out|technical difficulties|phone rings|groans?|smiles?"
    r"|snaps?|whistles?|gasps?|sniffs?|laughs?|beep|bleep|static|break in audio)"
)
_DIRECTION = re.compile(
    r"(?P<open>[\[(*])(?=[ \t]*[A-Za-z])[ \t]*"
    r"(?P<what>" + _DIRECTION_WORDS + r"\b[^\[\]()*\n]{0,40}?)[ \t]*(?P<close>[\])*])",
    re.IGNORECASE,
)
_INNER_TIME = re.compile(r"[ \t]*\b\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?\b")


def unescape_entities(text: str) -> str:
    """Decode HTML entities (``there&#39;s``, ``&amp;``); text without any is returned as is."""
    if "&" in text and _ENTITY.search(text):
        return html.unescape(text)
    return text


def unescape_markdown(text: str) -> str:
    """Drop Markdown backslash escapes: ``\\[12:34\\]`` is ``[12:34]`` as written."""
    if "\\" in text and _MD_ESCAPE.search(text):
        return _MD_ESCAPE.sub(r"\1", text)
    return text  # the same object: callers test `is` to see that nothing changed


def bracket_directions(text: str) -> str:
    """Write stage directions in square brackets, without times: ``(laughs)`` -> ``[laughs]``.

    The words stay in the verbatim record; the square brackets are the one form the
    display layer hides, and a time inside (Rev's ``[crosstalk 00:12:34]``) is not speech.
    """
    if not ("(" in text or "[" in text or "*" in text):
        return text

    def square(match: re.Match) -> str:
        opened, closed = match.group("open"), match.group("close")
        if (opened == "*") != (closed == "*"):
            return match.group()
        what = _INNER_TIME.sub("", match.group("what")).strip()
        return f"[{what}]" if what else ""

    return _DIRECTION.sub(square, text)


def clean_speech(text: str) -> str:
    """Entities decoded and stage directions bracketed: for text from JSON and captions."""
    return bracket_directions(unescape_entities(text))


# A bracketed time not opening a line and not followed by a label's colon; whether it
# sits in speech is decided by what comes before it (see below).
_STAMP_CANDIDATE = re.compile(
    # The look-behind follows the bracket so the search can skip to brackets.
    r"[\[(](?<![\n:*_].)\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?[\])](?=[ \t]+[^\s:]|[ \t]*$)",
    re.MULTILINE,
)
_LINE_END = re.compile(r"[ \t]*(?:\n|\Z)")
_SPEECH_END = frozenset(".?!,;…\"'”’)]")


def strip_inline_stamps(text: str) -> str:
    """Drop timestamps written inside speech ("it is going [00:01:02] great").

    A stamp opening a line, closing a label ("Name (00:12:34):", "**Jane:** [12:34]") or
    ending a line after a name ("Jane Doe [00:12]") is structure, and stays for the parsers.
    """
    if not ("[" in text or "(" in text) or ":" not in text:
        return text
    out: list[str] = []
    pos = 0
    for match in _STAMP_CANDIDATE.finditer(text):
        start, end = match.span()
        begin = start
        while begin > pos and text[begin - 1] in " \t":
            begin -= 1
        before = text[begin - 1] if begin else "\n"
        if before in "\n:*_":
            continue
        at_end = _LINE_END.match(text, end) is not None
        if at_end and before not in _SPEECH_END:
            continue  # "Jane Doe [00:12]": a header
        out.append(text[pos:begin])
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
