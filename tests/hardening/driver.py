"""A process that ingests files and can be killed (or kill itself) at chosen moments.

python -m tests.hardening.driver DB [--bulk] [--die-before-refresh] FILE...
Prints "go" when everything is imported and the database open, just before the ingest,
then "stored N" as each file is written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--bulk", action="store_true",
                        help="take the bulk-load path (random-key indexes dropped and rebuilt)")
    parser.add_argument("--die-before-refresh", action="store_true",
                        help="SIGKILL itself after the last file commits, before the refresh")
    args = parser.parse_args(argv)

    import quotebot.bot.ingest.runner as runner
    from quotebot.store.db import Database
    from quotebot.store.quotes import QuoteStore

    if args.bulk:
        runner.PROCESS_POOL_BYTES = 1
        # The bulk path, parsed in a thread: worker processes would outlive a SIGKILL.
        runner._parser_pool = lambda files, total_bytes: ThreadPoolExecutor(max_workers=1)
    if args.die_before_refresh:
        async def die(self) -> None:
            os.kill(os.getpid(), signal.SIGKILL)
        QuoteStore.refresh_terms = die

    db = await Database.open(args.db)
    print("go", flush=True)
    try:
        report = await runner.ingest_paths(
            QuoteStore(db), args.files,
            progress=lambda i, total, result: print(f"stored {i}", flush=True),
        )
    finally:
        await db.close()  # an open connection's thread would keep the process alive
    print(" ".join(f.status for f in report.files), flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
