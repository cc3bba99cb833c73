"""The connection and tables of the SQLite store, and the one migration of a store written by an earlier version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, token TEXT,
    lease_until REAL NOT NULL, result TEXT, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_actions (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, due_at REAL NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_actions_due ON pending_actions (status, due_at);
CREATE INDEX IF NOT EXISTS pending_actions_created ON pending_actions (created_at);
CREATE TABLE IF NOT EXISTS sagas (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, lease_until REAL NOT NULL, updated_at REAL NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sagas_due ON sagas (status, lease_until);
CREATE TABLE IF NOT EXISTS hold_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, lot_id TEXT NOT NULL, hold_id TEXT,
    at REAL NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hold_history_lot ON hold_history (lot_id, seq);
CREATE INDEX IF NOT EXISTS hold_history_hold ON hold_history (hold_id, seq);
"""


def prepare(conn: sqlite3.Connection) -> None:
    """Create what is missing (idempotent)."""
    conn.executescript(SCHEMA)
    columns = {row["name"] for row in conn.execute("PRAGMA table_info(pending_actions)")}
    if "lot_id" not in columns:  # a store written before actions were listed by lot
        conn.execute("ALTER TABLE pending_actions ADD COLUMN lot_id TEXT NOT NULL DEFAULT ''")
        conn.execute("UPDATE pending_actions SET lot_id = json_extract(body, '$.lot_id')")
    conn.execute("CREATE INDEX IF NOT EXISTS pending_actions_lot ON pending_actions (lot_id, created_at)")


def connect(path: Path) -> sqlite3.Connection:
    """The connection of the store (WAL, autocommit: transactions are explicit), its tables ready."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    prepare(conn)
    return conn
