"""PostgreSQL for the tests: a database of each test's own on the shared server (created with a unique name, dropped
after), and a server of a test's own (``initdb`` + ``pg_ctl`` in a temporary directory, on a free port) for the
tests that stop and restart it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from bench import launch

SERVER = os.environ.get("LOTGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
"""The shared server (trust authentication); each test makes a database of its own on it."""


@contextlib.asynccontextmanager
async def database(server: str = SERVER) -> AsyncIterator[str]:
    """The URL of a new, empty database on ``server``; dropped (its connections ended) afterwards."""
    name = f"lotgraph_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(server, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _tool(name: str) -> str:
    found = shutil.which(name) or next(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), None)
    if found is None:
        raise RuntimeError(f"{name} not found: the PostgreSQL restart test needs the PostgreSQL server binaries")
    return str(found)


class OwnServer:
    """A PostgreSQL server of the test's own, in a new temporary directory on a free port: started, stopped and
    started again (``pg_ctl -w`` waits until it accepts connections or has stopped), removed after. PostgreSQL
    refuses to run as root: as root, its commands run as the ``postgres`` user, which then owns the directory."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="lotgraph-test-pg-"))
        self.directory = self.home / "data"
        self.port = launch.free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.directory.mkdir()
        if os.geteuid() == 0:
            self.home.chmod(0o755)
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(_tool("initdb"), "-D", str(self.directory), "-U", "postgres", "-A", "trust", "--no-sync")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-o", options, "-l", str(self.directory / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def _ctl(self, *args: str) -> None:
        self._run(_tool("pg_ctl"), "-D", str(self.directory), "-w", "-t", "60", *args)

    @staticmethod
    def _run(*command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
