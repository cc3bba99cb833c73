"""The rest of the durable state in PostgreSQL when the store is there: dead letters (webhooks that could not be
recorded, kept once per delivery) and the pollers' memory (watermarks and what each poll saw). Both use the store's
pool and tables of its migrations; a failure is ``StoreUnavailable`` (a dead letter's: ``DeadLetterUnavailable``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sources.deadletters import DeadLetter, DeadLetterStatus, DeadLetterUnavailable, new_id
from sources.store.postgres import PostgresStore
from sources.store.protocol import StoreUnavailable

if TYPE_CHECKING:
    from sources.store.postgres_schema import Conn

T = TypeVar("T")


class PostgresDeadLetters:
    """``DeadLetterStore`` in the table ``dead_letters``; a unique index on (source, delivery id) keeps a redelivered
    webhook once, across replicas."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def open(self) -> None:
        """Nothing to open: the store's pool (opened before) serves."""

    async def aclose(self) -> None:
        """Nothing to close: the store closes its pool."""

    async def _run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        try:
            return await self.store.run(work)
        except StoreUnavailable as exc:
            raise DeadLetterUnavailable("the dead-letter store is unavailable") from exc

    async def add(self, source: str, body: bytes, reason: str, delivery_id: str | None) -> DeadLetter:
        now = datetime.now(UTC)
        letter = DeadLetter(new_id(now), source, delivery_id, now, reason, body)
        insert = (
            "INSERT INTO dead_letters (id, source, delivery_id, status, letter) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (source, delivery_id) WHERE delivery_id IS NOT NULL DO NOTHING RETURNING id"
        )

        async def add(conn: Conn) -> DeadLetter:
            values = (letter.id, source, delivery_id, letter.status.value, letter.to_json())
            if await conn.fetchval(insert, *values) is not None:
                return letter
            sql = "SELECT letter FROM dead_letters WHERE source = $1 AND delivery_id = $2"
            return DeadLetter.of_json(await conn.fetchval(sql, source, delivery_id))

        return await self._run(add)

    async def get(self, id: str) -> DeadLetter | None:
        text = await self._run(lambda conn: conn.fetchval("SELECT letter FROM dead_letters WHERE id = $1", id))
        return None if text is None else DeadLetter.of_json(text)

    async def list(
        self, *, status: DeadLetterStatus | None, source: str | None, first: int, after: str | None
    ) -> list[DeadLetter]:
        sql = (
            "SELECT letter FROM dead_letters WHERE id > $1 AND ($2::text IS NULL OR status = $2)"
            " AND ($3::text IS NULL OR source = $3) ORDER BY id LIMIT $4"
        )
        values = (after or "", status.value if status else None, source, first)
        rows = await self._run(lambda conn: conn.fetch(sql, *values))
        return [DeadLetter.of_json(row[0]) for row in rows]

    async def save(self, letter: DeadLetter) -> None:
        sql = "UPDATE dead_letters SET status = $2, letter = $3 WHERE id = $1"
        await self._run(lambda conn: conn.execute(sql, letter.id, letter.status.value, letter.to_json()))


class PostgresMemory:
    """``sources.changes.Memory`` in the table ``poll_memory`` (JSON values), written in one transaction per batch."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def get(self, key: str) -> Any | None:
        text = await self.store.run(lambda conn: conn.fetchval("SELECT value FROM poll_memory WHERE key = $1", key))
        return None if text is None else json.loads(text)

    async def put_many(self, values: dict[str, Any]) -> None:
        sql = (
            "INSERT INTO poll_memory (key, value) VALUES ($1, $2)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        rows = [(key, json.dumps(value)) for key, value in values.items()]
        if rows:
            await self.store.run(lambda conn: conn.executemany(sql, rows), tx=True)
