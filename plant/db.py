"""SQLite storage of one plant system: a lazily opened connection, transactions, id-list queries.

Each system keeps its data in its own file (``erp.db``, ``qms.db`` …) in WAL mode. The connection is
opened on first use, so an app works whether or not its lifespan ran (mounted sub-apps never get one).
All access happens on the event loop thread, one statement at a time; commands wrap their writes in
``transaction()`` so that a failed command leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Row = sqlite3.Row


def connect(path: Path, *, bulk: bool = False) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (explicit transactions) with rows addressable by name."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF" if bulk else "PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class Database:
    """The store of one system: a file, its schema and a connection opened on first use."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self.schema = schema
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(self.path)
            conn.executescript(self.schema)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back when the block raises."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def placeholders(values: Sequence[object]) -> str:
    """``?,?,?`` for an ``IN (...)`` list of ``values`` (never empty: callers skip empty lists)."""
    return ",".join("?" * len(values))
