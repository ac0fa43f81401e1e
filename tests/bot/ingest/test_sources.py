"""Source identity: episode folders, titles, sidecar metadata and command-line overrides
(issue 10, item 1)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.front_matter import path_identity, readable_title
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.ingest.types import Participant, SourceOverrides
from quotebot.store.quotes import QuoteStore

DIALOGUE = """Ana Ruiz: Episode {n} is about {topic}, and nothing else today.
Ben Ode: Then let us talk about {topic} for a while, shall we?
Ana Ruiz: Gladly, because {topic} deserves the time we give it.
"""


def write_episodes(root, count, name="transcript.md"):
    for n in range(1, count + 1):
        folder = root / f"ep-{n:03d}"
        folder.mkdir(parents=True)
        (folder / name).write_text(DIALOGUE.format(n=n, topic=f"topic number {n}"))
    return root


async def sources(db):
    rows = await db.fetchall("SELECT slug, title, date, url FROM sources ORDER BY slug")
    return [tuple(r) for r in rows]


async def test_episode_folders_of_transcript_md_are_separate_stable_sources(db, tmp_path):
    root = write_episodes(tmp_path / "show", 3)
    store = QuoteStore(db)
    report = await ingest_paths(store, [root])
    assert [f.status for f in report.files] == ["added"] * 3
    first = await sources(db)
    assert first == [("ep-001", "Episode 1", None, None), ("ep-002", "Episode 2", None, None),
                     ("ep-003", "Episode 3", None, None)]
    ids = await db.fetchall("SELECT id, slug FROM sources ORDER BY id")
    report = await ingest_paths(store, [root], force=True)
    assert [f.status for f in report.files] == ["replaced"] * 3
    assert await db.fetchall("SELECT id, slug FROM sources ORDER BY id") == ids


@pytest.mark.parametrize("path, slug, title", [
    ("/c/ep-007/transcript.md", "ep-007", "Episode 7"),
    ("/c/Practical AI 132/captions.en.vtt", "practical-ai-132", "Practical AI 132"),
    ("/c/practical-ai-132.md", "practical-ai-132", "Practical AI 132"),
    ("/c/3/3.md", "3", "3"),
    ("/c/season-2/3.srt", "season-2-3", "Season 2 3"),
    ("/c/episode-3/3.srt", "episode-3", "Episode 3"),
    ("/c/1-1.txt", "1-1", "1"),
    ("/c/interviews/index.md", "interviews", "Interviews"),
    ("/srv/in/My_Talk--with Ana.txt", "my-talk-with-ana", "My Talk With Ana"),
])
def test_identity_from_the_path(path, slug, title):
    assert path_identity(path) == (slug, title)


def test_titles_read_well():
    assert readable_title("the-ceo-and-the-llm-ep12") == "The CEO And The LLM Episode 12"
    assert readable_title("3-3") == "3"


def test_title_from_front_matter_then_heading_then_path():
    body = "Ana Ruiz: Hello there, friend.\nBen Ode: Hello back to you.\n"
    front = parse_transcript(f"---\ntitle: From Front\nid: Custom ID\n---\n# Heading\n{body}",
                             "/c/ep-1/transcript.md")
    assert (front.meta.slug, front.meta.title) == ("custom-id", "From Front")
    heading = parse_transcript(f"# The *Real* Title\n\n{body}", "/c/ep-1/transcript.md")
    assert (heading.meta.slug, heading.meta.title) == ("ep-1", "The Real Title")
    assert all("Title" not in s.text for s in heading.segments)
    generic = parse_transcript(f"# Full Episode Transcript\n\n{body}", "/c/ep-1/transcript.md")
    assert generic.meta.title == "Episode 1"
    bare = parse_transcript(body, "/c/ep-1/transcript.md")
    assert (bare.meta.slug, bare.meta.title) == ("ep-1", "Episode 1")


async def test_yaml_sidecar_gives_titles_dates_urls_and_speakers(db, tmp_path):
    root = write_episodes(tmp_path / "show", 2)
    (root / "quotebot.yaml").write_text(
        "defaults:\n"
        "  speakers: [{name: Ana Ruiz, role: Host}]\n"
        "files:\n"
        "  ep-001:\n"
        "    title: Soil, Seeds and Patience\n"
        "    date: 2024-03-01\n"
        "    url: https://example.com/1\n"
        "    speakers:\n"
        "      - Ode (Guest)\n"
        "      - {name: Ana Ruiz, role: Host}\n"
    )
    await ingest_paths(QuoteStore(db), [root])
    assert await sources(db) == [
        ("ep-001", "Soil, Seeds and Patience", "2024-03-01", "https://example.com/1"),
        ("ep-002", "Episode 2", None, None),
    ]
    rows = await db.fetchall(
        "SELECT s.name, s.role, count(*) FROM quotes q JOIN speakers s ON s.id = q.speaker_id "
        "GROUP BY s.id ORDER BY s.name")
    # The sidecar's short "Ode" is the file's "Ben Ode": one speaker, with the role given.
    assert [tuple(r) for r in rows] == [("Ana Ruiz", "Host", 4), ("Ben Ode", "Guest", 2)]


async def test_csv_sidecar_and_a_changed_sidecar_re_ingests(db, tmp_path):
    root = write_episodes(tmp_path / "show", 2)
    sidecar = root / "episodes.csv"
    sidecar.write_text('file,title,date,speakers\n'
                       'ep-002/transcript.md,"Topic Two, Revisited",2024-02-02,'
                       '"Ana Ruiz (Host); Ben Ode (Guest)"\n')
    store = QuoteStore(db)
    await ingest_paths(store, [root])
    assert ("ep-002", "Topic Two, Revisited", "2024-02-02", None) in await sources(db)
    roles = dict(tuple(r) for r in await db.fetchall("SELECT name, role FROM speakers"))
    assert roles == {"Ana Ruiz": "Host", "Ben Ode": "Guest"}
    sidecar.write_text("file,title\nep-002,Second Title\n")
    report = await ingest_paths(store, [root])
    assert sorted(f.status for f in report.files) == ["replaced", "unchanged"]
    assert ("ep-002", "Second Title", None, None) in await sources(db)


async def test_a_broken_sidecar_is_reported_and_the_files_still_ingest(db, tmp_path):
    root = write_episodes(tmp_path / "show", 1)
    (root / "quotebot.yaml").write_text("files: [unclosed\n")
    report = await ingest_paths(QuoteStore(db), [root])
    assert [f.status for f in report.files] == ["failed", "added"]
    assert "quotebot.yaml" in report.files[0].error


def test_cli_title_date_url_and_speakers_for_one_file(tmp_path):
    talk = tmp_path / "talk.txt"
    talk.write_text(DIALOGUE.format(n=1, topic="gardens"))
    db = tmp_path / "q.db"
    runner = CliRunner()
    result = runner.invoke(cli, [
        "--db", str(db), "--no-bundled", "ingest", str(talk), "--title", "Gardens at Dusk",
        "--date", "2023-09-09", "--url", "https://example.com/g",
        "--speaker", "Ana Ruiz (Host)", "--speaker", "Ben Ode (Gardener)",
    ])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["--db", str(db), "--no-bundled", "sources"])
    assert "Gardens at Dusk (2023-09-09) [talk]" in listed.output
    people = runner.invoke(cli, ["--db", str(db), "--no-bundled", "speakers"])
    assert "Ana Ruiz (Host)" in people.output and "Ben Ode (Gardener)" in people.output
    refused = runner.invoke(cli, ["--db", str(db), "--no-bundled", "ingest", str(tmp_path),
                                  "--title", "X"])
    assert refused.exit_code == 2 and "one transcript file" in refused.output


async def test_a_sidecar_above_a_named_episode_folder_or_file_applies(db, tmp_path):
    root = write_episodes(tmp_path / "show", 2)
    (root / "episodes.yaml").write_text("ep-001: The One Title\nep-002: The Two Title\n")
    store = QuoteStore(db)
    await ingest_paths(store, [root / "ep-001", root / "ep-002" / "transcript.md"])
    assert [r[:2] for r in await sources(db)] == [("ep-001", "The One Title"),
                                                  ("ep-002", "The Two Title")]


async def test_sidecar_defaults_and_entries_and_the_command_line_merge_speakers(db, tmp_path):
    root = write_episodes(tmp_path / "show", 1)
    (root / "quotebot.yaml").write_text(
        "defaults: {speakers: [Ana Ruiz (Host)]}\nfiles: {ep-001: {guests: Ben Ode}}\n")
    await ingest_paths(QuoteStore(db), [root], overrides=SourceOverrides(
        participants=(Participant("Cy Ng", "Producer"),)))
    roles = dict(tuple(r) for r in await db.fetchall("SELECT name, role FROM speakers"))
    assert roles == {"Cy Ng": "Producer", "Ben Ode": "Guest", "Ana Ruiz": "Host"}


@pytest.mark.slow
async def test_overrides_reach_worker_processes(db, tmp_path, monkeypatch):
    import quotebot.bot.ingest.runner as runner

    monkeypatch.setattr(runner, "PROCESS_POOL_BYTES", 1)
    root = write_episodes(tmp_path / "show", 2)
    (root / "episodes.csv").write_text("file,title,guests\nep-001,Worker Title,Ben Ode\n")
    report = await ingest_paths(QuoteStore(db), [root])
    assert [f.status for f in report.files] == ["added", "added"]
    assert ("ep-001", "Worker Title", None, None) in await sources(db)
