"""The `quotebot` CLI end to end on a fresh database with the bundled corpus."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner
from PIL import Image

from quotebot.adapters.cli import cli


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "cli.db"

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--db", str(db), *args], input=input,
                                  catch_exceptions=False)

    return invoke


def test_first_search_ingests_the_bundle_and_finds_the_quote(run):
    result = run("search", "execusion is everything", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "execution is everything" in result.stdout
    assert "Ilya Sutskever" in result.stdout
    assert "added" in result.stderr  # progress of the automatic ingest


def test_search_json_has_the_documented_fields(run):
    result = run("search", "control your inputs", "--json", "--limit", "3")
    items = json.loads(result.stdout)
    assert items and {"id", "text", "speaker", "source", "start"} <= set(items[0])
    assert items[0]["speaker"] == "Greg Brockman"
    assert items[0]["start"] is None  # that interview has no timestamps


def test_search_filters_and_no_match(run):
    result = run("search", "compute", "--speaker", "ilya", "--json", "--limit", "5")
    assert {i["speaker"] for i in json.loads(result.stdout)} == {"Ilya Sutskever"}
    result = run("search", "xyzzy plugh")
    assert result.exit_code == 1 and "No quote matches" in result.stderr
    result = run("search", "compute", "--speaker", "nobody-at-all")
    assert result.exit_code == 1 and "nobody-at-all" in result.stderr


def test_random_show_speakers_sources_stats(run):
    result = run("random", "--json")
    quote = json.loads(result.stdout)[0]
    assert result.exit_code == 0 and quote["text"]
    shown = run("show", str(quote["id"]), "--context", "1", "--json")
    items = json.loads(shown.stdout)
    assert [i["id"] for i in items if i["focus"]] == [quote["id"]]
    assert "Greg Brockman" in run("speakers").stdout
    assert "brockman-wang-interview" in run("sources").stdout
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["sources"] == 2 and stats["quotes"] > 300
    assert run("show", "999999").exit_code == 1


def test_ingest_reports_bad_files_and_keeps_going(run, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.txt").write_text("Jane Doe: Simplicity is a prerequisite for reliability.\n"
                                     "John Roe: I could not agree more with that idea.\n")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 50)
    result = run("ingest", str(folder))
    assert result.exit_code == 1
    assert "empty.txt" in result.stderr and "binary.txt" in result.stderr
    assert "1 added" in result.stderr
    found = run("search", "simplicity reliability", "--json")
    assert json.loads(found.stdout)[0]["speaker"] == "Jane Doe"
    again = run("ingest", str(folder / "good.txt"))
    assert "1 unchanged" in again.stderr


def test_chat_runs_the_text_grammar(run):
    result = run("chat", input="/quote ideas are cheap by:ilya\n/quote help\n/quote show abc\n")
    assert result.exit_code == 0
    assert "execution is everything" in result.stdout
    assert "/quote random [by:<speaker>] [in:<source>]" in result.stdout
    assert "whole number" in result.stdout


def test_every_error_line_has_clicks_prefix(run, tmp_path):
    """Errors the core answers, errors the CLI finds and click's own read alike."""
    errors = [
        run("show", "999999"),  # the core's ErrorReply
        run("search", "zzzzqqqq"),  # no match: an ErrorReply with hints
        run("docs", "nope"),  # found by the CLI
        run("sources", "remove", "no-such-source"),
        run("daily", "remove", "4242"),
        run("search", "--limit", "x", "y"),  # click's own usage error
        run("ingest", str(tmp_path / "missing.txt")),
    ]
    for result in errors:
        assert result.exit_code != 0, result.output
        first = next(line for line in result.stderr.splitlines()
                     if "Error" in line or "error" in line)
        assert "Error: " in first and "error: " not in result.stderr, result.stderr


def test_a_url_of_another_database_is_a_usage_error_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--db", "mysql://bot@localhost/quotes", "stats"])
    assert result.exit_code == 2 and "mysql:// databases are not supported" in result.stderr
    assert list(tmp_path.iterdir()) == []  # it once made a folder named "mysql:"


def test_an_unreachable_postgresql_database_is_one_error_line_without_the_password(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql://bot:s3cret@127.0.0.1:{port}/quotes"
    result = CliRunner().invoke(cli, ["--db", url, "search", "scale"])
    assert result.exit_code == 2, result.output
    assert f"Error: cannot connect to postgresql://bot@127.0.0.1:{port}/quotes" \
        in result.stderr
    assert "s3cret" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_postgresql_database_serves_the_commands(postgres_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUOTEBOT_DB", postgres_db)  # the environment names it, as deploys do
    found = CliRunner().invoke(cli, ["search", "--json", "age of scaling"])
    assert found.exit_code == 0, found.output
    first = json.loads(found.stdout)[0]
    assert first["speaker"] == "Ilya Sutskever" and "age of scaling" in first["text"]
    shown = CliRunner().invoke(cli, ["show", str(first["id"])])
    assert shown.exit_code == 0 and "age of scaling" in shown.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written beside it


def test_the_guides_help_points_at_are_readable_from_the_command_line(run):
    listed = run("docs")
    assert listed.exit_code == 0 and "discord" in listed.stdout and "slack" in listed.stdout
    assert run("docs", "discord").stdout.startswith("# quotebot in Discord")
    missing = run("docs", "nope")
    assert missing.exit_code == 2 and "no guide called" in missing.stderr
    assert "quotebot docs discord" in " ".join(run("discord", "--help").stdout.split())


@pytest.mark.slow
def test_ctrl_c_leaves_the_chat_at_once(tmp_path):
    # The line being waited for is read on a daemon thread: a worker thread blocked in
    # input() used to hold the process until Enter was pressed.
    # Ctrl-C as at a terminal, however the tests were started: a test run launched in the
    # background of a script inherits SIGINT ignored, and so would the chat.
    env = {**os.environ, "QUOTEBOT_DB": str(tmp_path / "chat.db")}
    chat = subprocess.Popen([sys.executable, "-m", "quotebot.adapters.cli", "chat"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        chat.stdin.write("/quote ideas are cheap\n")
        chat.stdin.flush()
        assert "execution is everything" in chat.stdout.readline()  # waiting for a line now
        chat.send_signal(signal.SIGINT)
        assert chat.wait(timeout=10) == 130
    finally:
        chat.kill()


def test_unreadable_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database " * 200)
    result = CliRunner().invoke(cli, ["--db", str(bad), "stats"])
    assert result.exit_code == 2
    assert "not a quotebot database" in result.stderr


def test_card_writes_a_png_of_the_quote(run, tmp_path):
    found = json.loads(run("search", "execution is everything", "--json", "--limit", "1").stdout)
    quote = found[0]
    out = tmp_path / "quote.png"
    result = run("card", str(quote["id"]), "-o", str(out), "--theme", "dark")
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout and "— Ilya Sutskever" in result.stdout
    png = out.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(out) as image:
        assert image.size[0] == 1200 and image.size[1] >= 675
        dark = image.convert("RGB").getpixel((5, 5))
    assert sum(dark) < 100  # the dark theme's background
    light = tmp_path / "light.png"
    assert run("card", str(quote["id"]), "-o", str(light)).exit_code == 0
    with Image.open(light) as image:
        assert sum(image.convert("RGB").getpixel((5, 5))) > 600


def test_card_of_an_unknown_quote_is_a_clear_error(run, tmp_path):
    out = tmp_path / "nothing.png"
    result = run("card", "999999", "-o", str(out))
    assert result.exit_code == 1 and "There is no quote #999999." in result.stderr
    assert not out.exists()
    result = run("card", "1", "-o", str(out), "--theme", "sepia")
    assert result.exit_code == 2 and "sepia" in result.output
