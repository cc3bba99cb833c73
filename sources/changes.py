"""Change feeds: for systems that send no webhooks, what changed since the last look, read by polling.

A feed answers the business keys of the records changed since its watermark (``changes``); once the poller has
turned them into events and published them, it ``commit``s the batch, which stores the new watermark and what it
saw durably. A feed that restarts reads again from its stored watermark (with an overlap), so nothing is lost; the
poller compares with what it saw last and the bus dedupes by source event id, so nothing is doubled.

``Memory`` is where that is kept: a small SQLite file under the data directory by default, behind this interface so
that it can move to PostgreSQL or Redis.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """The business keys of records changed since the watermark, and the watermark to store once handled."""

    order_ids: frozenset[str] = frozenset()
    shipment_ids: frozenset[str] = frozenset()
    lot_ids: frozenset[str] = frozenset()
    watermark: datetime | None = None
    stamps: dict[str, str] = field(default_factory=dict)  # business key → the record's last change, for event ids

    @property
    def empty(self) -> bool:
        return not (self.order_ids or self.shipment_ids or self.lot_ids)


class ChangeFeed(Protocol):
    @property
    def name(self) -> str: ...

    async def changes(self) -> ChangeBatch: ...

    async def commit(self, batch: ChangeBatch) -> None: ...

    async def aclose(self) -> None: ...


class Memory(Protocol):
    """Durable small state of the pollers: watermarks and the last state seen per business key."""

    async def get(self, key: str) -> Any | None: ...

    async def put_many(self, values: dict[str, Any]) -> None: ...


class SqliteMemory:
    """``Memory`` in one SQLite file (one table of JSON values), written in one transaction per batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS memory (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    async def get(self, key: str) -> Any | None:
        def read() -> Any | None:
            with self._connect() as db:
                row = db.execute("SELECT value FROM memory WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row else None

        return await asyncio.to_thread(read)

    async def put_many(self, values: dict[str, Any]) -> None:
        def write() -> None:
            with self._connect() as db:
                db.executemany(
                    "INSERT INTO memory (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [(k, json.dumps(v)) for k, v in values.items()],
                )

        async with self._lock:
            await asyncio.to_thread(write)
