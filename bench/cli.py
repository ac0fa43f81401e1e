"""The `quotebot bench` command: the million-quote benchmark and its targets (docs/bench.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import click

# The bench extra (pip install 'quotebot[bench]'): without psutil this import fails, and
# the CLI, which finds this command through the `quotebot.commands` entry point, leaves
# `quotebot bench` out of its help.
import psutil  # noqa: F401

log = logging.getLogger(__name__)


def _sizes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            "give quote counts separated by commas, e.g. 10000,100000"
        ) from None
    if not sizes or min(sizes) < 200:
        raise click.BadParameter("each size must be at least 200 quotes")
    return sizes


def _database(ctx: click.Context, param: click.Parameter, value: str | None
              ) -> str | Path | None:
    """`--db`: a PostgreSQL URL as given, else an existing SQLite file."""
    from quotebot.store.engine import is_postgres

    if value is None or is_postgres(value):
        return value
    path = Path(value.removeprefix("sqlite:///"))
    if not path.is_file():
        raise click.BadParameter(f"no database file at {path} (give a SQLite file built with "
                                 "--keep, or a postgresql:// URL)")
    return path


@click.command("bench", short_help="Benchmark ingest and serving at scale.")
@click.option("--quotes", "-n", type=click.IntRange(min=200), default=1_000_000,
              show_default=True, help="Approximate corpus size in quotes.")
@click.option("--sizes", callback=_sizes, metavar="N,N,...",
              help="Run several sizes (e.g. 10000,100000,1000000) and plot latency against "
                   "size; the largest is the result.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the JSON summary on stdout (the report goes to stderr).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the corpus, database and raw results in this folder.")
@click.option("--db", "db", callback=_database, metavar="FILE|URL",
              help="A SQLite database built earlier (with --keep): reuse it, skipping generation "
                   "and ingest. Or a postgresql:// URL: serve from that PostgreSQL database; "
                   "when it is empty the bench builds the corpus in SQLite as usual (or takes "
                   "--copy-from) and moves it in with `quotebot copy`, and a database an "
                   "earlier run filled is reused as it is. With --case realistic: a new, "
                   "empty PostgreSQL database to ingest the collection into. With --case "
                   "tenants: a PostgreSQL database to serve from, filled from the SQLite "
                   "one the case builds when empty.")
@click.option("--copy-from", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="With a PostgreSQL --db: copy this SQLite database (e.g. a kept bench.db) "
                   "into it instead of generating and ingesting a new corpus.")
@click.option("--seed", type=int, default=None, help="Corpus and query seed.")
@click.option("--queries", "per_category", type=click.IntRange(min=2), default=None,
              help="Search queries per category [default: 50].")
@click.option("--no-baseline", is_flag=True, help="Skip the naive full-scan baseline.")
@click.option("--no-profile", is_flag=True, help="Skip the instrumented profiling pass.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the latency-vs-size plot here [default with --sizes: "
                   "bench-latency.png]. Needs matplotlib.")
@click.option("--check", is_flag=True, help="Exit with status 1 when a target fails.")
@click.option("--case", type=click.Choice(["quotes", "folder", "realistic", "card",
                                               "tenants"]),
              default="quotes", show_default=True,
              help="quotes: the million-quote serving benchmark; folder: ingest of a folder "
                   "of 300 transcripts of 40-100 KB in mixed formats (speed and memory); "
                   "realistic: search on a realistic 300-episode collection (exact, "
                   "half-remembered and 6-word queries, speakers, leaked markup; --queries "
                   "sets the sentences sampled [default: 1000]); card: drawing quote cards "
                   "(p50/p99 per card; --queries sets the quotes drawn [default: 200]); "
                   "tenants: search, autocomplete and random inside one of many libraries "
                   "(-n quotes over n/1000 libraries; --queries sets the requests of each "
                   "kind [default: 300]; --keep reuses the database).")
def bench(quotes, sizes, as_json, keep, db, copy_from, seed, per_category, no_baseline,
          no_profile, plot_path, check, case) -> None:
    """Benchmark ingest, search, autocomplete and random on a generated corpus."""
    from quotebot.store.engine import is_postgres

    if copy_from and not (db and is_postgres(str(db))):
        raise click.UsageError("--copy-from needs --db postgresql://… (the database to fill)")
    if db and (case in ("folder", "card") or case == "tenants" and not is_postgres(str(db))):
        raise click.UsageError(f"--db is not used by --case {case}"
                               + (" (but a postgresql:// URL is)" if case == "tenants" else ""))
    if case == "folder":
        _folder_case(keep, seed, as_json, check)
        return
    if case == "realistic":
        if db and not is_postgres(str(db)):
            raise click.UsageError("--case realistic ingests its own collection: --db takes "
                                   "only a new, empty postgresql:// database there")
        _realistic_case(keep, seed, per_category, as_json, check, db)
        return
    if case == "card":
        _card_case(keep, seed, per_category, as_json, check)
        return
    if case == "tenants":
        _tenants_case(keep, quotes, seed, per_category, as_json, check,
                      str(db) if db else None)
        return
    from quotebot.bench.corpus import DEFAULT_SEED
    from quotebot.bench.queries import PER_CATEGORY
    from quotebot.bench.run import Options, plot, render, run

    options = Options(
        seed=DEFAULT_SEED if seed is None else seed,
        per_category=PER_CATEGORY if per_category is None else per_category,
        baseline=not no_baseline, profile=not no_profile, keep=keep, db=db,
        copy_from=copy_from,
    )

    def say(message: str) -> None:
        click.echo(message, err=True)

    try:
        summary = run(sizes or [quotes], options, say)
    except (RuntimeError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    if sizes and len(sizes) > 1 and plot_path is None:
        plot_path = Path("bench-latency.png")
    if plot_path:
        summary["plot"] = plot(summary, plot_path)
    report = render(summary)
    if as_json:
        click.echo(report, err=True)
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        click.echo(report)
    if summary.get("plot"):
        click.echo(summary["plot"], err=True)
    if keep:
        (keep / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False),
                                           "utf-8")
    if check and any(t["pass"] is False for t in summary["targets"]):
        click.get_current_context().exit(1)


def _folder_case(keep: Path | None, seed: int | None, as_json: bool, check: bool) -> None:
    """`bench --case folder`: ingest speed and memory on a realistic folder (bench/folder.py)."""
    from quotebot.bench.corpus import DEFAULT_SEED
    from quotebot.bench.folder import render_folder, run_folder

    _run_case(
        "folder", keep, as_json, check,
        lambda work, say: run_folder(work, DEFAULT_SEED if seed is None else seed, say),
        render_folder, lambda summary: all(t["pass"] for t in summary["targets"]),
    )


def _realistic_case(keep: Path | None, seed: int | None, samples: int | None, as_json: bool,
                    check: bool, db: str | None = None) -> None:
    """`bench --case realistic`: the realistic-collection search check (bench/realistic.py),
    in SQLite or in the empty PostgreSQL database `db`."""
    from quotebot.bench.realistic import DEFAULT_SEED, render_realistic, run_realistic

    _run_case(
        "realistic", keep, as_json, check,
        lambda work, say: run_realistic(work, DEFAULT_SEED if seed is None else seed, say,
                                        samples=samples, database=db),
        render_realistic, lambda summary: summary["passed"],
    )


def _card_case(keep: Path | None, seed: int | None, samples: int | None, as_json: bool,
               check: bool) -> None:
    """`bench --case card`: how long a quote card takes to draw (bench/cards.py)."""
    from quotebot.bench.cards import SAMPLES, render_cards, run_cards
    from quotebot.bench.corpus import DEFAULT_SEED

    _run_case(
        "card", keep, as_json, check,
        lambda work, say: run_cards(work, DEFAULT_SEED if seed is None else seed, say,
                                    samples=samples or SAMPLES),
        render_cards, lambda summary: all(t["pass"] for t in summary["targets"]),
    )


def _tenants_case(keep: Path | None, quotes: int, seed: int | None, samples: int | None,
                  as_json: bool, check: bool, target: str | None) -> None:
    """`bench --case tenants`: latency inside one library of many (bench/tenants.py),
    served from SQLite or from the PostgreSQL database `target`."""
    from quotebot.bench.corpus import DEFAULT_SEED
    from quotebot.bench.tenants import render_tenants, run_tenants

    _run_case(
        "tenants", keep, as_json, check,
        lambda work, say: run_tenants(work, quotes, DEFAULT_SEED if seed is None else seed,
                                      say, samples=samples or 300, target=target),
        render_tenants, lambda summary: all(t["pass"] for t in summary["targets"]),
    )


def _run_case(name: str, keep: Path | None, as_json: bool, check: bool,
              run: Callable[[Path, Callable[[str], None]], dict],
              render: Callable[[dict], str], passed: Callable[[dict], bool]) -> None:
    """Run one case in a work folder (`keep`, or a temporary one removed after), print its
    report (and the summary as JSON with `--json`), keep the summary beside the kept files,
    and exit 1 under `--check` when a target fails."""
    import shutil
    import tempfile

    work = keep or Path(tempfile.mkdtemp(prefix=f"quotebot-{name}-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        summary = run(work, lambda message: click.echo(message, err=True))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    report = render(summary)
    if as_json:
        click.echo(report, err=True)
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        click.echo(report)
    if keep:
        (keep / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False),
                                           "utf-8")
    if check and not passed(summary):
        click.get_current_context().exit(1)
