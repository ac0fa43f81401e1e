"""`quotebot ingest` of episode folders that share a name in different seasons or shows:
distinct sources, readable slugs and titles, and the same slugs on every re-ingest."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.bot.ingest.front_matter import readable_title

DIALOGUE = """Ana Ruiz: This is {where}, and today we talk about {topic} at length.
Ben Ode: Then let us give {topic} the whole hour, because it deserves it.
"""


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "cli.db"

    def invoke(*args):
        return CliRunner().invoke(cli, ["--db", str(db), "--no-bundled", *args],
                                  catch_exceptions=False)

    invoke.db = db
    return invoke


def write(root: Path, relative: list[str]) -> Path:
    for i, name in enumerate(relative):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DIALOGUE.format(where=name, topic=f"subject {i}"))
    return root


def stored(db: Path) -> dict[str, tuple[int, str, int]]:
    """slug -> (source id, title, quotes) as the database holds them."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT s.id, s.slug, s.title, count(q.id) FROM sources s "
            "LEFT JOIN quotes q ON q.source_id = s.id GROUP BY s.id").fetchall()
    return {slug: (sid, title, n) for sid, slug, title, n in rows}


def listed(run) -> dict[str, str]:
    """slug -> title as `quotebot sources` shows them."""
    out = run("sources").output
    return {m["slug"]: m["title"]
            for m in re.finditer(r"^\s*(?P<title>.+?) \[(?P<slug>[\w-]+)\]", out, re.MULTILINE)}


@pytest.mark.parametrize("layout, expected", [
    (["Season 1/Episode 3/transcript.md", "Season 2/Episode 3/transcript.md",
      "Season 1/Episode 4/transcript.md"],
     {"season-1-episode-3": "Season 1, Episode 3", "season-2-episode-3": "Season 2, Episode 3",
      "season-1-episode-4": "Season 1, Episode 4"}),
    (["s01/ep03/transcript.md", "s02/ep03/transcript.md"],
     {"s01-ep03": "Season 1, Episode 3", "s02-ep03": "Season 2, Episode 3"}),
    (["The Garden Show/episode-1/transcript.md", "Practical AI/episode-1/transcript.md"],
     {"the-garden-show-episode-1": "The Garden Show, Episode 1",
      "practical-ai-episode-1": "Practical AI, Episode 1"}),
])
def test_same_named_episode_folders_are_distinct_sources_with_stable_slugs(
        run, tmp_path, layout, expected):
    root = write(tmp_path / "collection", layout)
    first = run("ingest", str(root))
    assert first.exit_code == 0, first.output
    assert f"ingest: {len(layout)} added" in first.stderr
    assert listed(run) == expected
    before = stored(run.db)
    assert {slug: title for slug, (_, title, _) in before.items()} == expected
    assert all(n == 2 for _, _, n in before.values())  # every file's own quotes, none lost

    # Re-ingested (one file edited, the rest forced): the same sources keep their ids.
    edited = root / layout[0]
    edited.write_text(edited.read_text() + "Ana Ruiz: One more remark, added later on.\n")
    again = run("ingest", "--force", str(root))
    assert again.exit_code == 0, again.output
    assert f"{len(layout)} replaced" in again.stderr
    after = stored(run.db)
    assert {s: (i, t) for s, (i, t, _) in after.items()} == {
        s: (i, t) for s, (i, t, _) in before.items()}


def test_shows_named_as_separate_paths_are_told_apart(run, tmp_path):
    write(tmp_path / "shows", ["alpha/episode-1/transcript.md", "beta/episode-1/transcript.md"])
    result = run("ingest", str(tmp_path / "shows" / "alpha"), str(tmp_path / "shows" / "beta"))
    assert result.exit_code == 0, result.output
    assert set(listed(run)) == {"alpha-episode-1", "beta-episode-1"}


def test_a_single_folder_collection_keeps_its_one_folder_slugs(run, tmp_path):
    # Episode folders that never collide keep the slugs they always had (links depend on
    # them), even beside a differently named file and deeper than one level.
    root = write(tmp_path / "show", ["2023/ep-001/transcript.md", "2024/ep-002/transcript.md",
                                     "ep-003/captions.srt", "bonus-interview.md"])
    (root / "ep-003" / "captions.srt").write_text(
        "1\n00:00:01,000 --> 00:00:04,000\nAna Ruiz: Captions carry this third episode.\n")
    result = run("ingest", str(root))
    assert result.exit_code == 0, result.output
    assert listed(run) == {"ep-001": "Episode 1", "ep-002": "Episode 2", "ep-003": "Episode 3",
                           "bonus-interview": "Bonus Interview"}


def test_front_matter_and_sidecar_slugs_still_win_over_the_folders(run, tmp_path):
    root = write(tmp_path / "show", ["Season 1/Episode 3/transcript.md",
                                     "Season 2/Episode 3/transcript.md",
                                     "Season 3/Episode 3/transcript.md"])
    fixed = root / "Season 3" / "Episode 3" / "transcript.md"
    fixed.write_text("---\nslug: the-finale\ntitle: The Finale\n---\n" + fixed.read_text())
    (root / "episodes.csv").write_text("file,slug,title\nSeason 1/Episode 3,pilot,Pilot\n")
    result = run("ingest", str(root))
    assert result.exit_code == 0, result.output
    assert listed(run) == {"pilot": "Pilot", "season-2-episode-3": "Season 2, Episode 3",
                           "the-finale": "The Finale"}


def test_season_and_episode_words_in_folder_names_read_as_words():
    assert readable_title("s01") == "Season 1"
    assert readable_title("S2E14") == "Season 2 Episode 14"
    assert readable_title("aws-s3-deep-dive") == "AWS S3 Deep Dive"  # not a season


def test_a_new_season_renames_the_old_episode_and_prune_drops_its_old_copy(run, tmp_path):
    root = write(tmp_path / "show", ["Season 1/Episode 3/transcript.md",
                                     "Season 1/Episode 4/transcript.md"])
    assert run("ingest", str(root)).exit_code == 0
    assert set(listed(run)) == {"episode-3", "episode-4"}
    write(root, ["Season 2/Episode 3/transcript.md"])
    result = run("ingest", "--prune", str(root))
    assert result.exit_code == 0, result.output
    # Both seasons' episode 3 are told apart now, so the whole batch takes two folders;
    # the one-folder sources left from the same files are removed, not kept as copies.
    assert "prune: removing 2 sources" in result.stderr
    assert listed(run) == {"season-1-episode-3": "Season 1, Episode 3",
                           "season-1-episode-4": "Season 1, Episode 4",
                           "season-2-episode-3": "Season 2, Episode 3"}
    assert sum(n for _, _, n in stored(run.db).values()) == 6  # each file's 2 quotes, once
    again = run("ingest", "--prune", str(root))
    assert "every source from these folders is still there" in again.stderr
    assert set(listed(run)) == {"season-1-episode-3", "season-1-episode-4",
                                "season-2-episode-3"}
