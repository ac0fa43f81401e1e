"""docs/deploy.md names only options and commands that exist, as they are spelled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text()


def quotebot_lines() -> list[list[str]]:
    """Each `quotebot …` command line of the guide's code, as words (options only)."""
    lines = []
    for line in re.findall(r"quotebot (?:--db \S+ )?((?:discord|slack|migrate|copy)\b[^\n`]*)",
                           GUIDE):
        lines.append(line.split())
    return lines


@pytest.mark.parametrize("words", quotebot_lines(), ids=" ".join)
def test_every_command_line_in_the_guide_parses(words):
    command, options = words[0], [w for w in words[1:] if w.startswith("--")]
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option.split("=")[0] in result.output, f"{command} has no {option}"


def test_the_global_options_and_environment_it_names_exist():
    helped = CliRunner().invoke(cli, ["--help"]).output
    for name in ("--db-pool", "QUOTEBOT_DB_POOL", "QUOTEBOT_DB"):
        assert name in GUIDE and name in helped
    discord = CliRunner().invoke(cli, ["discord", "--help"]).output
    assert "QUOTEBOT_HEALTH_PORT" in GUIDE and "QUOTEBOT_HEALTH_PORT" in discord
