"""Strict decoding of transcript files from bytes to text with `\\n` newlines."""

from __future__ import annotations

import codecs
import logging

from quotebot.bot.ingest.types import TranscriptError
from quotebot.bot.tokens import strip_invisible

log = logging.getLogger(__name__)

# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# C0 control bytes that never occur in text, plus DEL; tab, newlines, form feed and
# vertical tab are text. Deleting every *other* byte with bytes.translate counts them in C.
_CONTROL = bytes([*range(0x00, 0x09), 0x0E, 0x0F, *range(0x10, 0x20), 0x7F])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
# Text files have next to no control bytes; a few stray ones (a pasted ESC, a form feed)
# are tolerated, a sprinkling across the sample is not.
_MAX_CONTROL_SHARE = 0.01
_SAMPLE = 64 * 1024
# A whole three-hour interview pasted as one paragraph is about 200,000 characters; a line
# five times longer than that is data, and one huge line costs more memory than many.
MAX_LINE_CHARS = 1_000_000


def decode(data: bytes, path: str) -> str:
    """Decode a transcript file strictly, refusing anything that is not text.

    UTF-8 (with or without a byte-order mark) and UTF-16 or UTF-32 with a byte-order
    mark are accepted; newlines are normalised to ``\\n`` and invisible formatting
    characters (soft hyphens, zero-width and bidi marks) removed.

    Args:
        data: The raw bytes of the file.
        path: The file's path, used in error messages.

    Returns:
        The decoded text.

    Raises:
        TranscriptError: The file is empty or whitespace only, looks binary, holds
            bytes that are not valid in its encoding, or has a line over
            `MAX_LINE_CHARS` characters (except a ``.json`` file).
    """
    if not data:
        raise TranscriptError(path, "file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                _reject_binary(body, path)
            text = _decode_as(body, encoding, path)
            if encoding != "utf-8" and "\x00" in text:
                raise TranscriptError(path, "looks like a binary file, not a transcript")
            break
    else:
        _reject_binary(data, path)
        text = _decode_as(data, "utf-8", path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Soft hyphens, zero-width and bidi marks would split words for the index; queries
    # drop them the same way (bot.tokens.fold).
    text = strip_invisible(text)
    if not text or text.isspace():  # (text.strip() would copy a large file)
        raise TranscriptError(path, "file contains only whitespace")
    if not path.lower().endswith(".json"):
        # JSON is written on one line (json.dump, Whisper) and only ever parsed as JSON,
        # never line by line; the file size limit bounds it.
        _check_line_lengths(text, path)
    return text


def _check_line_lengths(text: str, path: str) -> None:
    """Raise for the first line longer than `MAX_LINE_CHARS` characters.

    Each step looks for the last newline within the next `MAX_LINE_CHARS` + 1 characters
    (found at once, searching backwards), so a file costs a handful of steps per MB.
    """
    limit = MAX_LINE_CHARS
    pos = 0
    while len(text) - pos > limit:
        newline = text.rfind("\n", pos, pos + limit + 1)
        if newline < 0:
            end = text.find("\n", pos)
            length = (len(text) if end < 0 else end) - pos
            raise TranscriptError(
                path,
                f"line is {length:,} characters long; the limit is {limit:,} "
                "(a transcript has line breaks at least between paragraphs)",
                text.count("\n", 0, pos) + 1,
            )
        pos = newline + 1


def _reject_binary(data: bytes, path: str) -> None:
    """Raise when byte-oriented content holds NULs or too many control bytes."""
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = ""
        # Every other byte NUL is UTF-16 saved without its byte-order mark.
        sample = data[:_SAMPLE]
        if sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4:
            hint = " (UTF-16 without a byte-order mark? re-save it as UTF-8)"
        raise TranscriptError(
            path, f"looks like a binary file, not a transcript{hint}", _line_of(data, nul)
        )
    sample = data[:_SAMPLE]
    controls = len(sample.translate(None, _NOT_CONTROL))
    if controls > max(2, len(sample) * _MAX_CONTROL_SHARE):
        raise TranscriptError(
            path,
            f"looks like a binary file, not a transcript ({controls} control bytes "
            f"in the first {len(sample)} bytes)",
        )


def _decode_as(data: bytes, encoding: str, path: str) -> str:
    """Decode strictly, naming the line and the nature of the first bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            line = _line_of(data, exc.start)
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            message = f"not valid UTF-8 at column {column}: {_describe(data, exc)}"
        else:
            line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
            message = f"not valid {encoding.upper()}: {exc.reason} at byte {exc.start}"
        raise TranscriptError(path, message, line) from None


def _describe(data: bytes, exc: UnicodeDecodeError) -> str:
    """Say what was wrong with the first bad byte and what UTF-8 expected there."""
    byte = data[exc.start]
    if exc.reason == "invalid continuation byte":
        after = data[exc.end : exc.end + 1]
        found = f"0x{after[0]:02X}" if after else "the end of the file"
        what = (
            f"byte 0x{byte:02X} starts a multi-byte character but is followed by {found}; "
            "expected a continuation byte (0x80-0xBF)"
        )
    elif exc.reason == "unexpected end of data":
        what = f"the file ends inside a multi-byte character (0x{byte:02X}...)"
    else:
        what = f"byte 0x{byte:02X} cannot start a character; expected ASCII or a lead byte"
    return f"{what} (saved as Latin-1 or Windows-1252? re-save it as UTF-8)"


def _line_of(data: bytes, offset: int) -> int:
    """Return the 1-based line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1
