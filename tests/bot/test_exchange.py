"""Library export and import: lossless round trips, quote lists, and hostile files."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

from quotebot.bot.all_commands import build_registry
from quotebot.bot.exchange import (
    FORMAT,
    LISTED_SCORE,
    MAX_IMPORT_BYTES,
    MAX_QUOTE_CHARS,
    ExchangeError,
    apply_import,
    detect_format,
    export_document,
    parse_import,
    write_csv,
    write_json,
)
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, QuoteReply, Request
from quotebot.bot.registry import Services
from quotebot.store.db import Database
from quotebot.store.quotes import NewQuote, NewSource, QuoteStore, SourceRecords, SpeakerInfo
from tests.conftest import open_any, share_operator_library

pytestmark = pytest.mark.both_engines(postgresql="slow")

NADEKO = Path(__file__).resolve().parents[1] / "data" / "exchange" / "quote-export.yml"
CHANNEL = ChannelRef("discord", "g1", "c1")

# Every column of the library's tables, and what the round trip compares it by. A column
# added later (a hidden flag, a saved-from link) fails here until the export carries it.
COLUMNS = {
    "sources": {"id", "slug", "title", "date", "venue", "url", "path", "format",
                "content_hash", "meta_json", "ingested_at", "collection_id"},
    "speakers": {"id", "name", "role"},
    "speaker_aliases": {"alias", "speaker_id"},
    "quotes": {"id", "source_id", "speaker_id", "position", "start", "text", "quotability",
               "rand_key", "tags", "hidden", "collection_id"},
    "highlights": {"id", "source_id", "speaker_id", "first_position", "last_position",
                   "start", "text", "score", "reasons", "rand_key", "collection_id"},
}
# Not carried, on purpose: ids are the new database's own (rows are compared by natural
# keys), rand_key is drawn afresh (it only orders random draws), tags hold ids and the
# collection is where the import is told to put the rows.


async def table_columns(db: Database, table: str) -> set[str]:
    if db.engine == "postgresql":  # less `quotes.words`: the index's view of `text`
        rows = await db.fetchall("SELECT column_name FROM information_schema.columns "
                                 "WHERE table_name = ? AND column_name != 'words'", (table,))
        return {r[0] for r in rows}
    return {r[1] for r in await db.fetchall(f"PRAGMA table_info({table})")}


async def library_rows(db: Database) -> dict[str, list[tuple]]:
    """Every row of the library by natural keys (slug, speaker name), ids left out."""
    for table, columns in COLUMNS.items():
        found = await table_columns(db, table)
        assert found == columns, f"{table} has columns the round trip does not know"
    queries = {
        "sources": "SELECT slug, title, date, venue, url, path, format, content_hash, "
                   "meta_json, ingested_at FROM sources",
        "speakers": "SELECT name, role FROM speakers",
        "speaker_aliases": "SELECT sp.name, a.alias FROM speaker_aliases a "
                           "JOIN speakers sp ON sp.id = a.speaker_id",
        "quotes": "SELECT so.slug, sp.name, q.position, q.start, q.text, q.quotability, "
                  "q.hidden "
                  "FROM quotes q JOIN sources so ON so.id = q.source_id "
                  "LEFT JOIN speakers sp ON sp.id = q.speaker_id",
        "highlights": "SELECT so.slug, sp.name, h.first_position, h.last_position, h.start, "
                      "h.text, h.score, h.reasons FROM highlights h "
                      "JOIN sources so ON so.id = h.source_id "
                      "LEFT JOIN speakers sp ON sp.id = h.speaker_id",
    }
    return {table: sorted((tuple(r) for r in await db.fetchall(sql)), key=repr)
            for table, sql in queries.items()}


@pytest.fixture
async def bundled_db(bundled_target):
    database = await open_any(bundled_target)
    yield database
    await database.close()


@pytest.fixture
async def fresh_db(db_target):
    database = await open_any(db_target)
    await share_operator_library(database)  # CHANNEL's server sees what is imported
    yield database
    await database.close()


def as_json_bytes(document: dict) -> bytes:
    out = io.StringIO()
    write_json(document, out)
    return out.getvalue().encode()


async def exported(db: Database) -> bytes:
    return as_json_bytes(await export_document(QuoteStore(db)))


async def count(db: Database, table: str) -> int:
    return int(await db.scalar(f"SELECT count(*) FROM {table}"))


# ---- round trips -----------------------------------------------------------------------


async def hide_some(db: Database, count: int = 3) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE quotes SET hidden = 1 WHERE id IN "
                           "(SELECT id FROM quotes ORDER BY id DESC LIMIT ?)", (count,))


async def test_json_round_trip_reproduces_every_row_of_the_bundled_library(bundled_db,
                                                                            fresh_db):
    await hide_some(bundled_db)  # `/quote hide` flags travel too
    data = await exported(bundled_db)
    plan = parse_import(data, "library.json")
    report = await apply_import(QuoteStore(fresh_db), plan)

    before, after = await library_rows(bundled_db), await library_rows(fresh_db)
    assert before["quotes"] and before["highlights"] and before["speaker_aliases"]
    assert sum(row[-1] for row in before["quotes"]) == 3
    for table in COLUMNS:
        assert after[table] == before[table], table
    assert report.replaced == ()
    assert (report.sources, report.quotes, report.highlights) == (
        len(before["sources"]), len(before["quotes"]), len(before["highlights"]))
    # And the copy exports to the same document, but for the time of the export.
    again = json.loads(await exported(fresh_db))
    first = json.loads(data)
    again.pop("exported_at"), first.pop("exported_at")
    assert again == first


async def test_after_an_import_search_finds_and_random_draws_highlights(bundled_db,
                                                                         fresh_db):
    await apply_import(QuoteStore(fresh_db), parse_import(await exported(bundled_db), "l.json"))
    assert not await QuoteStore(fresh_db).terms_stale()
    library = QuoteLibrary(fresh_db)
    await library.load()
    services, registry = Services(library=library), build_registry()

    found = await registry.dispatch(
        Request("search", {"query": "execusion is everything"}, channel=CHANNEL), services)
    assert isinstance(found, QuoteReply)
    assert "execution is everything" in found.quotes[0].text
    drawn = await registry.dispatch(Request("random", {}, channel=CHANNEL), services)
    assert isinstance(drawn, QuoteReply) and drawn.quotes[0].highlight_id is not None


async def test_importing_a_library_over_itself_replaces_its_sources_and_says_so(bundled_db):
    store = QuoteStore(bundled_db)
    ids = {r[0] for r in await bundled_db.fetchall("SELECT id FROM quotes")}
    before = await library_rows(bundled_db)
    report = await apply_import(store, parse_import(await exported(bundled_db), "l.json"))
    assert sorted(report.replaced) == ["brockman-wang-interview", "sutskever-patel-interview"]
    assert await library_rows(bundled_db) == before
    # Replaced like a re-ingest: unchanged quotes keep the ids people have seen.
    assert {r[0] for r in await bundled_db.fetchall("SELECT id FROM quotes")} == ids


async def test_an_import_sets_hidden_flags_as_the_file_says(bundled_db):
    data = await exported(bundled_db)  # nothing hidden in the file
    await hide_some(bundled_db, 5)
    await apply_import(QuoteStore(bundled_db), parse_import(data, "l.json"))
    assert await count_hidden(bundled_db) == 0
    document = json.loads(data)
    document["quotes"][0]["hidden"] = True
    await apply_import(QuoteStore(bundled_db),
                       parse_import(json.dumps(document).encode(), "l.json"))
    assert await count_hidden(bundled_db) == 1
    document["quotes"][0]["hidden"] = "yes"
    with pytest.raises(ExchangeError, match=r"quotes\[0\]\.hidden: must be true or false"):
        parse_import(json.dumps(document).encode(), "l.json")


async def count_hidden(db: Database) -> int:
    return int(await db.scalar("SELECT count(*) FROM quotes WHERE hidden = 1"))


async def test_csv_round_trip_keeps_the_fields_it_carries(bundled_db, fresh_db):
    document = await export_document(QuoteStore(bundled_db))
    out = io.StringIO()
    write_csv(document, out)
    header = out.getvalue().splitlines()[0]
    assert header == "id,text,speaker,source_slug,source_title,start,position"

    plan = parse_import(out.getvalue().encode(), "library.csv")
    await apply_import(QuoteStore(fresh_db), plan)
    before, after = await library_rows(bundled_db), await library_rows(fresh_db)
    carried = [q[:5] for q in before["quotes"]]  # slug, speaker, position, start, text
    assert [q[:5] for q in after["quotes"]] == carried
    assert sorted(s[:2] for s in after["sources"]) == sorted(s[:2] for s in before["sources"])
    assert {s[0] for s in after["speakers"]} == {q[1] for q in before["quotes"]}


async def test_a_firebot_style_csv_becomes_a_source_named_after_the_file(fresh_db):
    data = (b"Author,Text,Game\n"
            b"streamer_jo,\"GG, \"\"no re\"\"\",Chess\n"
            b"modbot,Chat is this real?,Chess\n"
            b",An unattributed line,\n")
    plan = parse_import(data, "firebot-quotes.csv")
    await apply_import(QuoteStore(fresh_db), plan)
    rows = await library_rows(fresh_db)
    assert [s[:2] for s in rows["sources"]] == [("firebot-quotes", "firebot-quotes")]
    assert sorted((q[1:5] for q in rows["quotes"]), key=repr) == sorted([
        ("streamer_jo", 0, None, 'GG, "no re"'), ("modbot", 1, None, "Chat is this real?"),
        (None, 2, None, "An unattributed line")], key=repr)
    # Every listed line stands alone: its own highlight, so random and daily draw it.
    assert sorted((h[2], h[3], h[5], h[6]) for h in rows["highlights"]) == [
        (0, 0, 'GG, "no re"', LISTED_SCORE), (1, 1, "Chat is this real?", LISTED_SCORE),
        (2, 2, "An unattributed line", LISTED_SCORE)]


async def test_csv_source_column_splits_rows_into_sources(fresh_db):
    data = b"text,speaker,source\nOne,A,Standup\nTwo,B,Retro\nThree,A,Standup\n"
    await apply_import(QuoteStore(fresh_db), parse_import(data, "q.csv"))
    rows = await library_rows(fresh_db)
    assert sorted(s[:2] for s in rows["sources"]) == [("retro", "Retro"), ("standup", "Standup")]
    assert sorted((q[0], q[2], q[4]) for q in rows["quotes"]) == [
        ("retro", 0, "Two"), ("standup", 0, "One"), ("standup", 1, "Three")]


# ---- NadekoBot ---------------------------------------------------------------------------


async def test_a_nadeko_quote_export_imports_every_quote_exactly(fresh_db):
    plan = parse_import(NADEKO.read_bytes(), NADEKO.name)
    assert plan.format == "nadeko"
    report = await apply_import(QuoteStore(fresh_db), plan)
    rows = await library_rows(fresh_db)

    assert sorted((s[0], s[1]) for s in rows["sources"]) == [
        ("nadeko-deploy", "DEPLOY"), ("nadeko-monday", "MONDAY"), ("nadeko-wisdom", "WISDOM")]
    quotes = sorted((q[0], q[2], q[1], q[4]) for q in rows["quotes"])
    assert quotes == [
        ("nadeko-deploy", 0, "Linus",
         "Never deploy on a Friday \U0001F469\u200D\U0001F4BB — unless it's Friday 13th #yolo"),
        ("nadeko-deploy", 1, "grace_h", "It works on my machine, ship the machine."),
        ("nadeko-deploy", 2, "Ada Lovelace", "1.0"),  # a number-looking text stays text
        ("nadeko-monday", 0, "Ada Lovelace",
         "Mondays are a state of mind, and my mind is elsewhere."),
        ("nadeko-monday", 1, "grace_h", "yes"),  # not YAML 1.1's boolean
        ("nadeko-monday", 2, "Ada Lovelace",
         "First line of a long one.\nSecond line, with   three spaces and a trailing colon:"),
        ("nadeko-wisdom", 0, "Linus", "Talk is cheap. Show me the code."),
    ]  # the blank quote is skipped, as NadekoBot's own import does
    assert sorted(s[0] for s in rows["speakers"]) == ["Ada Lovelace", "Linus", "grace_h"]
    assert report.quotes == 7 and report.highlights == 7 and report.speakers == 3
    meta = {s[0]: json.loads(s[8]) for s in rows["sources"]}
    assert meta["nadeko-monday"]["nadeko_keyword"] == "MONDAY"
    assert meta["nadeko-monday"]["author_ids"] == {"Ada Lovelace": "105635576866156544",
                                                   "grace_h": "216898612867629057"}


def test_formats_are_detected_by_extension_then_content():
    assert detect_format("x.yml", b"") == "nadeko"
    assert detect_format("x.json", b"") == "json"
    assert detect_format("x.csv", b"") == "csv"
    assert detect_format("export", b'\xef\xbb\xbf {"format": 1}') == "json"
    assert detect_format("export", NADEKO.read_bytes()) == "nadeko"
    assert detect_format("export", b"MONDAY:\n  - txt: hi\n") == "nadeko"
    assert detect_format("export", b"text,speaker\nhi,me\n") == "csv"


# ---- hostile input ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_document() -> dict:
    return {
        "format": FORMAT, "version": 1,
        "sources": [{"slug": "talk", "title": "A talk", "date": None, "venue": None,
                     "url": None, "path": None, "format": "txt", "content_hash": "h",
                     "meta": {}, "ingested_at": "2024-01-01T00:00:00+00:00"}],
        "speakers": [{"name": "Jane Doe", "role": "Host", "aliases": ["Jane"]}],
        "quotes": [{"source": "talk", "speaker": "Jane Doe", "position": i, "start": 1.5 * i,
                    "text": f"Sentence number {i} is here.", "quotability": 0.8}
                   for i in range(5)],
        "highlights": [{"source": "talk", "speaker": "Jane Doe", "first_position": 1,
                        "last_position": 2, "start": 1.5, "text": "Sentence number 1 is here.",
                        "score": 0.7, "reasons": []}],
    }


def broken(document: dict, path: tuple, value) -> bytes:
    document = copy.deepcopy(document)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(("path", "value", "named"), [
    (("quotes", 3, "quotability"), 1.5, "quotes[3].quotability"),
    (("quotes", 3, "quotability"), True, "quotes[3].quotability"),
    (("quotes", 4, "text"), "x" * (MAX_QUOTE_CHARS + 1), "quotes[4].text"),
    (("quotes", 4, "text"), "   ", "quotes[4].text"),
    (("quotes", 4, "text"), "nul\x00", "quotes[4].text"),
    (("quotes", 4, "text"), "half a pair \ud800", "quotes[4].text"),
    (("sources", 0, "title"), "escape \x1b[31m", "sources[0].title"),
    (("quotes", 2, "position"), 1, "quotes[2].position"),  # two quotes at one position
    (("quotes", 2, "position"), -1, "quotes[2].position"),
    (("quotes", 2, "start"), "soon", "quotes[2].start"),
    (("quotes", 1, "speaker"), "Nobody", "quotes[1].speaker"),
    (("quotes", 1, "source"), "elsewhere", "quotes[1].source"),
    (("quotes", 1), "a string", "quotes[1]"),
    (("sources", 0, "title"), "t" * 301, "sources[0].title"),
    (("sources", 0, "slug"), "Not A Slug", "sources[0].slug"),
    (("sources", 0, "meta"), {"x": "y" * 140_000}, "sources[0].meta"),
    (("speakers", 0, "aliases"), [1], "speakers[0].aliases[0]"),
    (("highlights", 0, "first_position"), 9, "highlights[0].first_position"),
    (("highlights", 0, "last_position"), 0, "highlights[0].last_position"),
    (("quotes",), {"not": "a list"}, "quotes"),
    (("quotes", 0, "saved_from"), "a link", "quotes[0].saved_from"),
    (("quotes", 0, "saved_from"), {"platform": "discord", "saved_by_id": "7"},
     "quotes[0].saved_from.saved_at"),
    (("quotes", 0, "saved_from"), {"platform": "discord", "saved_by_id": "7",
                                   "saved_at": "2026-12-01", "link": 5},
     "quotes[0].saved_from.link"),
])
async def test_a_bad_row_anywhere_is_named_and_nothing_is_written(
        good_document, fresh_db, path, value, named):
    parse_import(json.dumps(good_document).encode(), "good.json")  # the baseline is fine
    with pytest.raises(ExchangeError) as caught:
        parse_import(broken(good_document, path, value), "bad.json")
    assert named in str(caught.value)
    assert await count(fresh_db, "sources") == 0 and await count(fresh_db, "quotes") == 0


async def test_what_an_ingest_can_store_imports_again(good_document, fresh_db):
    """A stray form feed the ingest kept, empty optional fields, a long participant list in
    meta: a library the ingest made must import again."""
    document = copy.deepcopy(good_document)
    document["quotes"][0]["text"] = "Page one ends\x0cand page two begins."
    document["sources"][0].update(venue="", meta={"participants": ["x" * 100] * 900})
    document["speakers"][0]["role"] = ""
    await apply_import(QuoteStore(fresh_db), parse_import(json.dumps(document).encode(), "x"))
    rows = await library_rows(fresh_db)
    assert ("talk", "Jane Doe", 0, 0.0, "Page one ends\x0cand page two begins.", 0.8,
            0) in rows["quotes"]
    assert rows["speakers"] == [("Jane Doe", "")]


def test_a_speaker_or_source_listed_twice_is_refused(good_document):
    twice = copy.deepcopy(good_document)
    twice["speakers"].append({"name": "JANE DOE", "role": None, "aliases": []})
    with pytest.raises(ExchangeError, match=r"speakers\[1\]\.name.*twice"):
        parse_import(json.dumps(twice).encode(), "x.json")
    twice = copy.deepcopy(good_document)
    twice["sources"].append(twice["sources"][0])
    with pytest.raises(ExchangeError, match=r"sources\[1\]\.slug.*twice"):
        parse_import(json.dumps(twice).encode(), "x.json")


@pytest.mark.parametrize(("data", "message"), [
    (b'{"format": "quotebot-library", "version": 2, "sources": []}',
     "version 2 is not supported"),
    (b'{"format": "something-else", "version": 1}', "not a quotebot library export"),
    (b'{"format": "quotebot-library", "version": 1, "sources": [', "not valid JSON"),
    (b"[" * 100_000, "not valid JSON|nested too deeply"),
    (b'{"format": "quotebot-library", "version": 1, "quotes": [{"start": NaN}]}',
     r"quotes\[0\]\.source: must be a string"),
    (b'{"format": "quotebot-library", "version": 1}', "nothing to import"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
])
def test_unreadable_documents_get_a_clear_error(data, message):
    with pytest.raises(ExchangeError, match=message):
        parse_import(data, "x.json", "json")


def test_nan_and_infinity_are_refused(good_document):
    data = broken(good_document, ("quotes", 0, "start"), 0)
    data = data.replace(b'"start": 0,', b'"start": NaN,', 1)
    with pytest.raises(ExchangeError, match=r"quotes\[0\]\.start.*out of range"):
        parse_import(data, "x.json")


def test_files_over_the_size_cap_are_refused_before_parsing():
    with pytest.raises(ExchangeError, match="limit is 64 MB"):
        parse_import(b" " * (MAX_IMPORT_BYTES + 1), "huge.json")


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("A: &x [{txt: hi}]\nB: *x\n", "anchors and aliases"),
    ("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "anchors and aliases"),
    ("A:\n  - txt: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "not a NadekoBot quote export"),
    ("A: 12\n", "keyword 'A': must be a list"),
    ("A:\n  - an: x\n    aid: 12ab\n    txt: hi\n", r"keyword 'A'\[0\]\.aid"),
    ("A:\n  - txt: !!python/object/apply:os.system [echo pwned]\n", r"'A'\[0\]\.txt"),
    ("Hi there:\n  - txt: a\nHI THERE:\n  - txt: b\n", "gives the slug 'nadeko-hi-there'"),
    ("A: " + "[" * 50_000, "nested too deeply"),
])
def test_hostile_yaml_is_refused(yaml_text, message):
    with pytest.raises(ExchangeError, match=message):
        parse_import(yaml_text.encode(), "quote-export.yml")


@pytest.mark.parametrize(("csv_text", "message"), [
    ("quote,who\nhi,me\n", "row 1: no speaker column"),
    ("text,speaker\nfine,me\n,me\n", "row 3: text: is empty"),
    ("text,speaker,start\nfine,me,\nfine,me,later\n", "row 3: start"),
    ("text,speaker\n" + "fine,me\n" * 3 + "x" * (MAX_QUOTE_CHARS + 1) + ",me\n",
     "row 5: text: is 4,001 characters"),
    ("text,speaker,position\na,me,0\nb,me,0\n", "row 3: position"),
    ("text,speaker\n", "nothing to import"),
    ("", "empty"),
])
def test_bad_csv_rows_are_named(csv_text, message):
    with pytest.raises(ExchangeError, match=message):
        parse_import(csv_text.encode(), "list.csv")


async def test_replace_sources_is_one_transaction(fresh_db):
    """A failure while writing the second source leaves the first unwritten too."""
    store = QuoteStore(fresh_db)
    good = SourceRecords(NewSource("a", "A", None, None, None, None, "t", "h1", {}),
                         [NewQuote("X", "Fine words here.", None, 0, 0.9)])
    bad = SourceRecords(NewSource("b", "B", None, None, None, None, "t", "h2", {}),
                        [NewQuote("X", None, None, 0, 0.9)])  # text NOT NULL
    with pytest.raises(Exception, match="(?i)not[ -]null"):  # each engine says it its way
        await store.replace_sources([SpeakerInfo("X", None, ())], [good, bad])
    assert await count(fresh_db, "sources") == 0
    assert await count(fresh_db, "speakers") == 0
