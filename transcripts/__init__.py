"""The bundled corpus: annotated interview transcripts shipped inside the package."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path


def bundled_files() -> list[Path]:
    """Paths of the bundled transcripts, in name order."""
    root = resources.files(__name__)
    return sorted(
        Path(str(entry)) for entry in root.iterdir()
        if entry.name.endswith(".txt") and entry.is_file()
    )


def bundle_digest() -> str:
    """A hash over every bundled file, to tell whether a database holds this exact bundle."""
    digest = hashlib.sha256()
    for path in bundled_files():
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
