"""The tables of the PostgreSQL store, as numbered migrations, and how they are applied.

``schema_version`` lists the migrations applied. ``migrate`` applies the missing ones in order, each in its own
transaction, under a transaction-level advisory lock: replicas starting together apply each migration once, the
others wait and then find it applied. A migration is never edited once released; a change is a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    """A connection of its own, or one of a pool."""

LOCK = 0x6C6F7467  # the advisory lock of migrations ("lotg")

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "idempotency records, pending actions, saga records, hold history",
        """
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, token TEXT,
    lease_until DOUBLE PRECISION NOT NULL, result TEXT, expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
CREATE TABLE pending_actions (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, lot_id TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL
);
CREATE INDEX pending_actions_due ON pending_actions (status, due_at);
CREATE INDEX pending_actions_created ON pending_actions (created_at DESC, id);
CREATE INDEX pending_actions_lot ON pending_actions (lot_id, created_at);
CREATE TABLE sagas (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, lease_until DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL
);
CREATE INDEX sagas_due ON sagas (status, lease_until);
CREATE TABLE hold_history (
    seq BIGSERIAL PRIMARY KEY, key TEXT NOT NULL UNIQUE, lot_id TEXT NOT NULL, hold_id TEXT,
    at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL
);
CREATE INDEX hold_history_lot ON hold_history (lot_id, seq);
CREATE INDEX hold_history_hold ON hold_history (hold_id, seq);
""",
    ),
    (
        2,
        "dead letters (one per webhook delivery) and the pollers' watermarks",
        """
CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, delivery_id TEXT, status TEXT NOT NULL, letter TEXT NOT NULL
);
CREATE UNIQUE INDEX dead_letters_by_delivery ON dead_letters (source, delivery_id) WHERE delivery_id IS NOT NULL;
CREATE TABLE poll_memory (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
    ),
)

LATEST = MIGRATIONS[-1][0]


async def migrate(conn: Conn) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    async with conn.transaction():  # two replicas creating it at once would collide without the lock
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    applied: list[int] = []
    for version, description, sql in MIGRATIONS:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
            if await conn.fetchval("SELECT 1 FROM schema_version WHERE version = $1", version):
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_version (version, description) VALUES ($1, $2)", version, description
            )
            applied.append(version)
    return applied


async def version(conn: Conn) -> int:
    """The latest migration applied (0: none)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def migrate_url(url: str) -> tuple[list[int], int]:
    """``migrate`` over a connection of its own: the versions applied now, and the schema's version after."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await migrate(conn), await version(conn)
    finally:
        await conn.close()
