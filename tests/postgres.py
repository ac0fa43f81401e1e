"""A real PostgreSQL server for the tests: started in a temporary folder, stopped after.

PostgreSQL refuses to run as root, so when the tests run as root (CI, this sandbox) the
server's commands run as the unprivileged user `nobody` (through `runuser`), in a folder
that user owns. The server listens on 127.0.0.1 only, on a free port, with `trust`
authentication and durability switched off (fsync, synchronous commit): nothing it holds
outlives the test run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
SUPERUSER = "quotebot"
START_TIMEOUT_SECONDS = 60


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed (CI installs Debian's package)."""


def server_bindir() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest version, else the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """One throwaway server: `start()`, then `url(database)`; `stop()` removes everything."""

    root: Path
    port: int = 0
    bindir: Path | None = None

    @classmethod
    def create(cls) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="quotebot-pg-"))
        return cls(root)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            command = ["runuser", "-u", UNPRIVILEGED_USER, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True,
                              timeout=START_TIMEOUT_SECONDS)

    def start(self) -> PostgresServer:
        """initdb, then start the server on a free port and wait until it accepts."""
        self.bindir = self.bindir or server_bindir()
        if os.geteuid() == 0:
            shutil.chown(self.root, UNPRIVILEGED_USER)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        for _attempt in range(5):  # a free port can be taken between the check and the bind
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=200")
            started = self._run("pg_ctl", "-D", str(self.data), "-o", options,
                                "-l", str(self.root / "server.log"), "-w", "start",
                                check=False)
            if started.returncode == 0:
                return self
        raise RuntimeError(f"PostgreSQL did not start: {self.log()}")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text("utf-8", "replace")[-2000:] if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database on this server (empty, or a copy of `template`); its URL."""
        copy = ["-T", template] if template else []
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
                  *copy, name)
        return self.url(name)

    def stop(self) -> None:
        if self.bindir is not None and self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      check=False)
        shutil.rmtree(self.root, ignore_errors=True)


async def count_rows(url: str, table: str) -> int:
    """How many rows `table` holds in the database at `url` (on a connection of its own)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()
