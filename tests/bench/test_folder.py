"""`quotebot bench --case folder`: a deterministic mixed-format folder that ingests cleanly."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from quotebot.bench.folder import LAYOUTS, MAX_BYTES, MIN_BYTES, generate, run_folder

pytestmark = pytest.mark.slow  # the benchmark's cases, at toy sizes


def digest(root) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.*")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_the_folder_is_deterministic_and_mixes_every_layout(tmp_path):
    first = generate(tmp_path / "a", seed=7, files=20)
    second = generate(tmp_path / "b", seed=7, files=20)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert set(first.layouts) == {name for name, _ in LAYOUTS}
    sizes = [p.stat().st_size for p in (tmp_path / "a").rglob("*.*")]
    assert len(sizes) == 20 and all(MIN_BYTES <= s <= MAX_BYTES + 2_000 for s in sizes)
    assert {p.suffix for p in (tmp_path / "a").rglob("*.*")} == {".txt", ".md", ".srt", ".vtt"}
    assert second.bytes == first.bytes


def test_every_file_ingests_with_speakers_and_the_summary_has_its_fields(tmp_path):
    summary = run_folder(tmp_path, 7, lambda message: None, files=14)
    assert summary["ingest"]["quotes"] > 14 * 200
    assert summary["memory"]["parse_peak_bytes"] > summary["memory"]["largest_file_bytes"]
    assert [t["name"] for t in summary["targets"]] == [
        "folder ingest throughput", "parse peak / largest file"]
    import sqlite3

    db = sqlite3.connect(tmp_path / "folder.db")
    unattributed = db.execute("SELECT count(*) FROM quotes WHERE speaker_id IS NULL").fetchone()
    assert unattributed[0] == 0
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 14


def test_the_bench_command_runs_the_folder_case(tmp_path, monkeypatch):
    import quotebot.bench.folder as folder

    monkeypatch.setattr(folder, "FILES", 3)
    real = folder.run_folder
    monkeypatch.setattr(folder, "run_folder",
                        lambda work, seed, say: real(work, seed, say, files=3))
    from quotebot.adapters.cli import cli

    result = CliRunner().invoke(cli, ["bench", "--case", "folder", "--json",
                                      "--keep", str(tmp_path / "kept")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["case"] == "folder" and summary["corpus"]["files"] == 3
    assert "folder ingest throughput" in result.stderr
