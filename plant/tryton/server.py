"""A Tryton server for the demo, the tests and the benchmarks: configuration, database, process.

Initialising a Tryton database (19 modules) takes about 40 s on SQLite, so the empty initialised database is built
once per machine and copied from a cache keyed by the installed package versions. PostgreSQL (``db_uri``
``postgresql://…``) is initialised afresh each time: it cannot be copied as a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

MODULES = ("sale", "stock_lot", "production", "quality", "sale_credit_limit", "stock_lot_sled")
PACKAGES = (
    "trytond",
    "trytond-sale",
    "trytond-stock",
    "trytond-stock-lot",
    "trytond-production",
    "trytond-quality",
    "trytond-sale-credit-limit",
    "trytond-stock-lot-sled",
    "proteus",
)
ADMIN_PASSWORD = "admin"  # a local demo and test server, on loopback only
CACHE_ENV = "LOTGRAPH_TRYTON_CACHE"


class TrytonMissing(RuntimeError):
    """The Tryton packages are not installed (``pip install 'lotgraph[tryton]'``)."""


def versions() -> dict[str, str]:
    try:
        return {name: metadata.version(name) for name in PACKAGES}
    except metadata.PackageNotFoundError as exc:
        raise TrytonMissing(f"Tryton is not installed: pip install 'lotgraph[tryton]' ({exc.name} missing)") from exc


def cache_dir() -> Path:
    base = os.environ.get(CACHE_ENV) or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lotgraph" / "tryton"


def cache_key(*parts: str) -> str:
    blob = json.dumps([versions(), MODULES, *parts], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass(frozen=True, slots=True)
class TrytonServer:
    """Where one Tryton server keeps its configuration and database, and where it listens."""

    home: Path
    database: str = "lotgraph"
    host: str = "127.0.0.1"
    port: int = 8200
    db_uri: str = "sqlite://"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.home / "trytond.conf"

    @property
    def sqlite(self) -> bool:
        return self.db_uri.startswith("sqlite")

    @property
    def db_file(self) -> Path:
        return self.home / "db" / f"{self.database}.sqlite"

    def write_config(self) -> None:
        (self.home / "db").mkdir(parents=True, exist_ok=True)
        path = f"path = {self.home / 'db'}\n" if self.sqlite else ""
        self.config_file.write_text(
            f"[database]\nuri = {self.db_uri}\n{path}\n[web]\nlisten = {self.host}:{self.port}\n"
            "\n[session]\ntimeout = 86400\n"
        )

    def initialise(self) -> None:
        """An empty database with lotgraph's modules activated: copied from the cache when one matches."""
        self.write_config()
        if not self.sqlite:
            self._admin_init()
            return
        cached = cache_dir() / f"empty-{cache_key()}.sqlite"
        if not cached.exists():
            self.db_file.unlink(missing_ok=True)
            self._admin_init()
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(".partial")
            shutil.copyfile(self.db_file, partial)
            partial.replace(cached)  # atomic: two processes building at once both end with a whole file
            return
        shutil.copyfile(cached, self.db_file)

    def save(self, cached: Path) -> None:
        """Keep the database (with its data) as ``cached``: a copy of the SQLite file, or a ``pg_dump`` archive when
        the PostgreSQL client tools are installed (nothing otherwise)."""
        partial = cached.with_suffix(".partial")
        if self.sqlite:
            shutil.copyfile(self.db_file, partial)
        elif shutil.which("pg_dump"):
            subprocess.run(["pg_dump", "-Fc", "-f", str(partial), self._pg_url()], check=True, capture_output=True)
        else:
            return
        partial.replace(cached)  # atomic: two processes building at once both end with a whole file

    def restore(self, cached: Path) -> bool:
        """Make the database a copy of ``cached`` (see ``save``); False when it cannot (no ``pg_restore``)."""
        self.write_config()
        if self.sqlite:
            shutil.copyfile(cached, self.db_file)
            return True
        if not shutil.which("pg_restore"):
            return False
        self._create_pg_database()
        command = ["pg_restore", "--no-owner", "--exit-on-error", "-d", self._pg_url(), str(cached)]
        subprocess.run(command, check=True, capture_output=True)
        return True

    def _pg_url(self, database: str | None = None) -> str:
        return f"{self.db_uri.rstrip('/')}/{database or self.database}"

    def _admin_init(self) -> None:
        if self.sqlite:
            self.db_file.touch()
        else:
            self._create_pg_database()
        password_file = self.home / "admin-password"
        password_file.write_text(ADMIN_PASSWORD)
        env = {**os.environ, "TRYTONPASSFILE": str(password_file)}
        command = [_bin("trytond-admin"), "-c", str(self.config_file), "-d", self.database, "--all"]
        command += ["--activate-dependencies", "-u", *MODULES, "--email", "admin@example.com"]
        subprocess.run(command, env=env, check=True, capture_output=True)

    def start(self, *, log_file: Path | None = None, timeout: float = 60.0) -> subprocess.Popen[bytes]:
        """Start ``trytond`` and wait until it answers. ``-d`` loads the database's pool at start: without it,
        8.2's first login fails."""
        self.write_config()
        out = open(log_file or self.home / "trytond.log", "ab")  # noqa: SIM115 — the child owns it
        command = [_bin("trytond"), "-c", str(self.config_file), "-d", self.database]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"trytond exited with {process.returncode}; see {self.home / 'trytond.log'}")
            if self.answers():
                return process
            time.sleep(0.2)
        stop(process)
        raise RuntimeError(f"trytond did not answer within {timeout:g} s")

    def answers(self) -> bool:
        body = json.dumps({"id": 0, "method": "common.server.version", "params": []}).encode()
        request = urllib.request.Request(f"{self.url}/rpc/", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _create_pg_database(self) -> None:
        """A fresh PostgreSQL database of this name (dropped first if it exists): trytond-admin needs it to exist."""
        import psycopg

        with psycopg.connect(self._pg_url("postgres"), autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            db.execute(f"CREATE DATABASE \"{self.database}\" ENCODING 'UTF8'")


def server_for(home: Path, uri: str = "sqlite://", *, port: int = 8200) -> TrytonServer:
    """A server at ``home`` over the database ``uri`` names: SQLite (``sqlite://``: a file under ``home``) or
    PostgreSQL (``postgresql://user@host:5432/``, and the database's name after the slash, ``lotgraph`` when none;
    it is dropped and created afresh on the first run)."""
    parts = urlsplit(uri)
    name = parts.path.strip("/")
    if parts.scheme.startswith("postgresql") and name:
        return TrytonServer(home, database=name, port=port, db_uri=urlunsplit(parts._replace(path="/")))
    return TrytonServer(home, port=port, db_uri=uri)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
