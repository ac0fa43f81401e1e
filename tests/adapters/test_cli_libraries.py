"""`quotebot --library NAME ...`, `ingest --collection`, `quotebot library ...` and the
per-library export and audit, end to end through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli

ZEBRA = "Zed: The zebra plan was the first thing we built with the whole team, and it held.\n"
NARWHAL = "Nora: A narwhal tusk is a tooth that keeps growing for years and years.\n"


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "cli.db"

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--db", str(db), *args], input=input,
                                  catch_exceptions=False)

    return invoke


@pytest.fixture
def files(tmp_path):
    (tmp_path / "zebra.txt").write_text(ZEBRA)
    (tmp_path / "narwhal.txt").write_text(NARWHAL)
    return tmp_path


def found(result) -> bool:
    return result.exit_code == 0 and bool(json.loads(result.stdout))


def test_ingest_into_a_library_is_seen_there_only(run, files):
    assert run("--library", "discord:1", "ingest", str(files / "zebra.txt")).exit_code == 0
    assert found(run("--library", "discord:1", "search", "zebra plan", "--json"))
    assert not found(run("--library", "discord:2", "search", "zebra plan", "--json"))
    assert not found(run("search", "zebra plan", "--json"))  # the operator's own: not there
    stats = json.loads(run("--library", "discord:1", "stats", "--json").stdout)
    assert stats["library"] == "discord:1" and stats["sources"] == 3  # its own + bundled
    assert json.loads(run("--library", "discord:2", "stats", "--json").stdout)["sources"] == 2


def test_a_collection_is_seen_where_enabled_and_new_libraries_take_the_defaults(run, files):
    result = run("ingest", "--collection", "podcasts", str(files / "narwhal.txt"))
    assert result.exit_code == 0, result.output
    assert not found(run("--library", "slack:T1", "search", "narwhal tusk", "--json"))
    assert "podcasts is on in slack:T1" in run("--library", "slack:T1", "library", "enable",
                                               "podcasts").stdout
    assert found(run("--library", "slack:T1", "search", "narwhal tusk", "--json"))
    assert not found(run("--library", "slack:T2", "search", "narwhal tusk", "--json"))
    listed = run("library").stdout
    assert "podcasts" in listed and "slack:T1                         + bundled, podcasts" \
        in listed
    assert "bundled, podcasts" in run("library", "default-collections", "bundled",
                                      "podcasts").stdout
    assert found(run("--library", "slack:T3", "search", "narwhal tusk", "--json"))
    assert run("library", "default-collections", "nope").exit_code == 1
    assert run("ingest", "--collection", "Bad Name!", str(files / "narwhal.txt")).exit_code == 2


def test_a_slug_another_collection_holds_is_refused_not_moved(run, files):
    assert run("--library", "discord:1", "ingest", str(files / "zebra.txt")).exit_code == 0
    (files / "other").mkdir()
    (files / "other" / "zebra.txt").write_text("Zed: A different zebra story entirely, told "
                                               "at length for the record today.\n")
    result = run("--library", "discord:2", "ingest", str(files / "other" / "zebra.txt"))
    assert result.exit_code == 1
    assert "already belongs to collection 'discord:1'" in result.stderr
    assert found(run("--library", "discord:1", "search", "zebra plan", "--json"))


def test_export_and_audit_of_one_library(run, files):
    run("--library", "discord:1", "ingest", str(files / "zebra.txt"))
    run("--library", "discord:2", "ingest", str(files / "narwhal.txt"))
    document = json.loads(run("--library", "discord:1", "export").stdout)
    assert [s["slug"] for s in document["sources"]] == ["zebra"]
    assert {q["speaker"] for q in document["quotes"]} == {"Zed"}
    everything = json.loads(run("export").stdout)
    assert {"zebra", "narwhal", "brockman-wang-interview"} <= {
        s["slug"] for s in everything["sources"]}
    (narwhal,) = json.loads(run("--library", "discord:2", "search", "narwhal", "--json",
                                "--limit", "1").stdout)
    hidden = run("--library", "discord:2", "chat", input=f"/quote hide {narwhal['id']}\n")
    assert f"Hid quote #{narwhal['id']}" in hidden.stdout
    assert f"quote #{narwhal['id']}" in run("--library", "discord:2", "audit").stdout
    assert "No changes recorded yet." in run("--library", "discord:1", "audit").stdout
    assert f"quote #{narwhal['id']}" in run("audit").stdout


def test_an_unknown_library_name_is_a_usage_error(run):
    result = run("--library", "nowhere", "search", "x")
    assert result.exit_code == 2 and "no library called" in result.output


def test_sources_remove_in_a_library_removes_only_its_own(run, files):
    run("--library", "discord:1", "ingest", str(files / "zebra.txt"))
    result = run("--library", "discord:2", "sources", "remove", "zebra")
    assert result.exit_code == 1 and "no source with the slug 'zebra'" in result.stderr
    assert found(run("--library", "discord:1", "search", "zebra plan", "--json"))
    assert run("--library", "discord:1", "sources", "remove", "zebra").exit_code == 0
    assert not found(run("--library", "discord:1", "search", "zebra plan", "--json"))


def test_a_daily_quote_of_an_org_wide_install_draws_from_the_org_library(run, files):
    run("--library", "slack:E1", "ingest", str(files / "narwhal.txt"))
    result = run("daily", "add", "--platform", "slack", "--workspace", "T1", "--channel",
                 "C1", "--time", "09:00", "--org", "E1", "--speaker", "Nora")
    assert result.exit_code == 0, result.output
    refused = run("daily", "add", "--platform", "slack", "--workspace", "T1", "--channel",
                  "C2", "--time", "09:00", "--speaker", "Nora")
    assert refused.exit_code == 1 and "No speaker called" in refused.stderr
