"""Helpers for the hardening tests: run the ingest driver and check a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def driver_command(db: Path, files, *flags: str) -> list[str]:
    return [sys.executable, "-m", "tests.hardening.driver", str(db), *map(str, files), *flags]


def spawn(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def corpus(tmp_path):
    from tests.hardening.corpus import write_corpus

    return write_corpus(tmp_path / "corpus")
