"""Sources whose files are gone from a re-ingested folder, for `ingest --prune`."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from quotebot.store.quotes import QuoteStore, StoredSource

log = logging.getLogger(__name__)


async def gone_sources(store: QuoteStore, folders: Iterable[Path]) -> list[StoredSource]:
    """Stored sources read from inside `folders` whose file no longer exists.

    A file that still exists but could not be read this time (permissions, a disk error) is
    kept: only a path that is gone from the folder counts.
    """
    gone: dict[int, StoredSource] = {}
    for folder in folders:
        for source in await store.sources_under(str(Path(folder).resolve())):
            if source.path and not os.path.lexists(source.path):
                gone[source.id] = source
    return sorted(gone.values(), key=lambda s: s.slug)
