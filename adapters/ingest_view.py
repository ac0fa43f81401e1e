"""What `quotebot ingest` shows: a progress bar over bytes on a terminal, errors once, a summary."""

from __future__ import annotations

import logging
import time
from typing import IO

import click

from quotebot.adapters.text import ERROR_PREFIX
from quotebot.bot.ingest.discovery import Plan
from quotebot.bot.ingest.runner import FileResult, IngestReport
from quotebot.store.quotes import StoredSource

log = logging.getLogger(__name__)

LISTED = 10  # unsupported files named one by one; the rest are counted


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and `word`, pluralised: "1 quote", "2 quotes", "1,234 quotes"."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def describe(result: FileResult) -> str:
    """One line for a file that did not fail: what happened and how many quotes."""
    if result.status == "unchanged":
        return f"unchanged: {result.path} (no change)"
    return f"{result.status}: {result.path} ({plural(result.quotes, 'quote')})"


class IngestView:
    """Shows one batch: a click progress bar over the batch's bytes, with an ETA, when `out`
    is a terminal; on anything else only the errors and the summary (no per-file noise in
    logs and pipes). Every error is printed once, with its path and reason."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.bar = None
        self.began = time.perf_counter()

    def started(self, found: Plan) -> None:
        self.began = time.perf_counter()
        if self.tty and found.files:
            self.bar = click.progressbar(
                length=max(found.total_bytes, 1), file=self.out, show_eta=True,
                show_percent=True, label=f"Ingesting {plural(len(found.files), 'file')}",
                item_show_func=lambda name: name, width=24,
            )
            self.bar.__enter__()

    def progress(self, i: int, total: int, result: FileResult) -> None:
        if result.status == "failed":
            self._line(ERROR_PREFIX + result.error)
        if self.bar is not None:
            self.bar.update(result.bytes, current_item=click.format_filename(
                result.path, shorten=True))

    def _line(self, text: str) -> None:
        if self.bar is not None:
            # Clear the bar's line, print, and let the next update draw the bar again.
            click.echo("\r\033[K" + text, file=self.out)
        else:
            click.echo(text, file=self.out)

    def finished(self, report: IngestReport) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        seconds = time.perf_counter() - self.began
        counts: dict[str, int] = {}
        quotes = 0
        read = 0
        for f in report.files:
            counts[f.status] = counts.get(f.status, 0) + 1
            quotes += f.quotes if f.status in ("added", "replaced") else 0
            read += f.bytes
        parts = []
        for status in ("added", "replaced", "unchanged", "failed"):
            if counts.get(status):
                parts.append(f"{counts[status]:,} {status}")
        if quotes:
            parts.append(plural(quotes, "quote") + " stored")
        summary = ", ".join(parts) or "nothing to do"
        rate = (f" in {seconds:.1f} s ({read / 1e6 / seconds:.1f} MB/s)"
                if read >= 1e6 and seconds else "")
        click.echo(f"ingest: {summary}{rate}", file=self.out)
        unsupported = report.found.unsupported if report.found else []
        if unsupported:
            suffixes = sorted({p.suffix.lower() or "(no suffix)" for p in unsupported})
            click.echo(
                f"skipped {plural(len(unsupported), 'file')} of types quotebot does not read "
                f"({', '.join(suffixes)}):", file=self.out,
            )
            for path in unsupported[:LISTED]:
                click.echo(f"  {path}", file=self.out)
            if len(unsupported) > LISTED:
                click.echo(f"  … and {len(unsupported) - LISTED:,} more", file=self.out)

    def removing(self, sources: list[StoredSource], why: str) -> None:
        click.echo(f"{why}: removing {plural(len(sources), 'source')}:", file=self.out)
        for s in sources:
            click.echo(f"  {s.slug} ({plural(s.quotes, 'quote')}) — {s.path or s.title}",
                       file=self.out)
