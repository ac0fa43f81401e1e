"""Sources whose files are gone from a re-ingested folder, for `ingest --prune`."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from quotebot.bot.ingest.discovery import plan
from quotebot.bot.ingest.front_matter import path_identity
from quotebot.store.quotes import QuoteStore, StoredSource

log = logging.getLogger(__name__)


async def gone_sources(store: QuoteStore, folders: Iterable[Path]) -> list[StoredSource]:
    """Stored sources read from inside `folders` whose file no longer exists, or whose
    file is now named by more (or fewer) of its folders.

    A file that still exists but could not be read this time (permissions, a disk error) is
    kept: only a path that is gone from the folder counts. An episode folder that was
    ``episode-3`` until a second season's ``Episode 3`` arrived is now
    ``season-1-episode-3`` (see `quotebot.bot.ingest.discovery`); the ``episode-3`` left from the
    same file holds the same quotes a second time, and goes too.
    """
    folders = list(folders)
    gone: dict[int, StoredSource] = {}
    named: dict[str, tuple[str, set[str]]] | None = None
    for folder in folders:
        for source in await store.sources_under(str(Path(folder).resolve())):
            if source.path and not os.path.lexists(source.path):
                gone[source.id] = source
                continue
            if named is None:
                named = _folder_names(folders)
            current, others = named.get(source.path or "", ("", set()))
            if source.slug != current and source.slug in others:
                gone[source.id] = source
    return sorted(gone.values(), key=lambda s: s.slug)


def _folder_names(folders: list[Path]) -> dict[str, tuple[str, set[str]]]:
    """For each file named by its folders: its slug now, and the slugs other depths give."""
    found = plan(folders)
    names: dict[str, tuple[str, set[str]]] = {}
    for file in found.files:
        given = found.overrides.get(file)
        if given is not None and given.slug:
            continue
        depth = given.folders if given is not None and given.folders else 1
        slugs = {path_identity(str(file), d)[0] for d in range(1, len(file.parts))}
        current = path_identity(str(file), depth)[0]
        names[str(file.resolve())] = (current, slugs - {current})
    return names
