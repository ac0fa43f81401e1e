"""Tests for strict decoding of transcript bytes."""

import codecs
from pathlib import Path

import pytest

from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.types import TranscriptError

DATA = Path(__file__).parents[2] / "data" / "formats"


def test_utf8_passes_through():
    assert decode("Ana: olá\n".encode(), "a.txt") == "Ana: olá\n"


def test_utf8_bom_is_stripped():
    assert decode(codecs.BOM_UTF8 + b"Ana: hi\n", "a.txt") == "Ana: hi\n"


def test_windows_line_endings_become_newlines():
    data = (DATA / "windows-crlf.txt").read_bytes()
    assert b"\r\n" in data  # the fixture really has CRLF line endings
    text = decode(data, "windows-crlf.txt")
    assert "\r" not in text
    assert text.startswith("Moderator: Good evening")
    assert text.count("\n") == data.count(b"\r\n")


def test_old_mac_line_endings_become_newlines():
    assert decode(b"A: one\rB: two\r", "mac.txt") == "A: one\nB: two\n"


def test_utf16_le_with_bom():
    data = (DATA / "utf16-bom.txt").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    text = decode(data, "utf16-bom.txt")
    assert text.startswith("Jürgen Weiß: Willkommen!")
    assert "“at least a century,”" in text


def test_utf16_be_with_bom():
    data = codecs.BOM_UTF16_BE + "Zoë: hallo\r\n".encode("utf-16-be")
    assert decode(data, "be.txt") == "Zoë: hallo\n"


def test_empty_file_is_refused():
    with pytest.raises(TranscriptError, match="empty") as caught:
        decode((DATA / "empty.txt").read_bytes(), "empty.txt")
    assert caught.value.path == "empty.txt"
    assert str(caught.value).startswith("empty.txt: ")


def test_whitespace_only_file_is_refused():
    with pytest.raises(TranscriptError, match="only whitespace"):
        decode(b" \n\t\r\n  \n", "blank.txt")


def test_whitespace_only_utf16_is_refused():
    with pytest.raises(TranscriptError, match="only whitespace"):
        decode(codecs.BOM_UTF16_LE + "  \n".encode("utf-16-le"), "blank16.txt")


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "cover.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(TranscriptError, match="looks like a binary file, not a transcript") as c:
        decode(path.read_bytes(), str(path))
    assert c.value.path == str(path)


def test_control_bytes_without_nul_are_refused(tmp_path):
    path = tmp_path / "weird.bin"
    path.write_bytes(b"ab\x01\x02\x03cd\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" * 50)
    with pytest.raises(TranscriptError, match="binary"):
        decode(path.read_bytes(), str(path))


def test_a_stray_control_byte_is_tolerated():
    text = decode(b"Ana: one\x0c page later\n" + b"Ana: more text here.\n" * 20, "ff.txt")
    assert text.startswith("Ana: one\x0c")


def test_utf16_without_bom_is_called_binary_with_a_hint():
    with pytest.raises(TranscriptError, match="UTF-16 without a byte-order mark"):
        decode("Ana: hello there\n".encode("utf-16-le"), "nobom.txt")


def test_invalid_utf8_names_line_column_and_expectation():
    with pytest.raises(TranscriptError) as caught:
        decode((DATA / "invalid-utf8.txt").read_bytes(), "invalid-utf8.txt")
    error = caught.value
    assert error.line == 3
    assert str(error).startswith("invalid-utf8.txt:3: ")
    assert "0xE9" in error.reason
    assert "column 24" in error.reason
    assert "expected a continuation byte" in error.reason


def test_invalid_start_byte():
    with pytest.raises(TranscriptError, match="0xFF cannot start a character") as caught:
        decode(b"A: fine\nB: fine\nC: \xff\n", "x.txt")
    assert caught.value.line == 3


def test_truncated_utf8_at_end():
    with pytest.raises(TranscriptError, match="ends inside a multi-byte character") as caught:
        decode(b"A: ok\nB: caf" + b"\xc3", "x.txt")
    assert caught.value.line == 2


def test_broken_utf16_names_its_line():
    data = codecs.BOM_UTF16_LE + "A: one\nB: two\n".encode("utf-16-le") + b"\x00\xd8"
    with pytest.raises(TranscriptError, match="UTF-16-LE") as caught:
        decode(data, "x.txt")
    assert caught.value.line == 3
