"""Dead letters: signed webhooks that could not be recorded as events, kept with the reason until replayed.

Nothing is dropped: the raw body is kept byte for byte, a redelivery of the same webhook (same source and delivery
id) is kept once, and a replayed letter stays listed (status REPLAYED, with the cursor of the event it became).
SQLite (``deadletters.db`` under the data directory) for one gateway process; Redis when replicas share state.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import redis.asyncio as aioredis
import redis.exceptions

from sources.sqlite_thread import SqliteThread

T = TypeVar("T")


class DeadLetterStatus(enum.Enum):
    PENDING = "PENDING"
    REPLAYED = "REPLAYED"


class DeadLetterUnavailable(Exception):
    """The dead-letter store cannot be reached (Redis down)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    source: str
    delivery_id: str | None  # the sender's id of the webhook delivery (Webhook-Id header)
    received_at: datetime
    reason: str
    body: bytes
    status: DeadLetterStatus = DeadLetterStatus.PENDING
    attempts: int = 0  # replays tried
    last_error: str | None = None
    replayed_at: datetime | None = None
    event_id: str | None = None
    cursor: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
                "received_at": self.received_at.isoformat(),
                "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
                "status": self.status.value,
                "body": base64.b64encode(self.body).decode(),
            }
        )

    @staticmethod
    def of_json(text: str | bytes) -> DeadLetter:
        d: dict[str, Any] = json.loads(text)
        return DeadLetter(
            **{
                **d,
                "received_at": datetime.fromisoformat(d["received_at"]),
                "replayed_at": datetime.fromisoformat(d["replayed_at"]) if d["replayed_at"] else None,
                "status": DeadLetterStatus(d["status"]),
                "body": base64.b64decode(d["body"]),
            }
        )


_last = [0, 0]  # the last id's millisecond and its sequence number within it, in this process
_ids = threading.Lock()


def new_id(now: datetime) -> str:
    """Sortable by arrival: ``DL-<ms since epoch>-<sequence in this process>-<random>`` (the random part keeps ids
    of two replicas in the same millisecond apart)."""
    ms = int(now.timestamp() * 1000)
    with _ids:
        if ms <= _last[0]:
            ms, sequence = _last[0], _last[1] + 1
        else:
            sequence = 0
        _last[:] = [ms, sequence]
    return f"DL-{ms:013d}-{sequence:04d}-{secrets.token_hex(3)}"


class DeadLetterStore(Protocol):
    async def open(self) -> None: ...
    async def aclose(self) -> None: ...

    async def add(self, source: str, body: bytes, reason: str, delivery_id: str | None) -> DeadLetter:
        """Keep a letter; a repeated (source, delivery id) returns the letter kept first."""
        ...

    async def get(self, id: str) -> DeadLetter | None: ...

    async def list(
        self, *, status: DeadLetterStatus | None, source: str | None, first: int, after: str | None
    ) -> list[DeadLetter]:
        """Up to ``first`` letters after the id ``after``, oldest first."""
        ...

    async def save(self, letter: DeadLetter) -> None:
        """Record the letter's new state (a replay done, or tried and failed)."""
        ...


# -- SQLite ------------------------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    delivery_id TEXT,
    status TEXT NOT NULL,
    letter TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_by_delivery ON dead_letters (source, delivery_id)
    WHERE delivery_id IS NOT NULL;
"""


class SqliteDeadLetters:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = SqliteThread("deadletters")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            return conn

        self._conn = await self._run(connect)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._run(conn.close)
        self._thread.shutdown()

    async def add(self, source: str, body: bytes, reason: str, delivery_id: str | None) -> DeadLetter:
        conn = self._opened()
        now = datetime.now(UTC)
        letter = DeadLetter(new_id(now), source, delivery_id, now, reason, body)

        def insert() -> DeadLetter:
            if delivery_id is not None:
                row = conn.execute(
                    "SELECT letter FROM dead_letters WHERE source = ? AND delivery_id = ?", (source, delivery_id)
                ).fetchone()
                if row is not None:
                    return DeadLetter.of_json(row[0])
            conn.execute(
                "INSERT INTO dead_letters (id, source, delivery_id, status, letter) VALUES (?, ?, ?, ?, ?)",
                (letter.id, source, delivery_id, letter.status.value, letter.to_json()),
            )
            return letter

        return await self._run(insert)

    async def get(self, id: str) -> DeadLetter | None:
        conn = self._opened()
        row = await self._run(lambda: conn.execute("SELECT letter FROM dead_letters WHERE id = ?", (id,)).fetchone())
        return None if row is None else DeadLetter.of_json(row[0])

    async def list(
        self, *, status: DeadLetterStatus | None, source: str | None, first: int, after: str | None
    ) -> list[DeadLetter]:
        conn = self._opened()
        sql, params = "SELECT letter FROM dead_letters WHERE id > ?", [after or ""]
        if status is not None:
            sql, params = sql + " AND status = ?", [*params, status.value]
        if source is not None:
            sql, params = sql + " AND source = ?", [*params, source]
        rows = await self._run(lambda: conn.execute(sql + " ORDER BY id LIMIT ?", (*params, first)).fetchall())
        return [DeadLetter.of_json(row[0]) for row in rows]

    async def save(self, letter: DeadLetter) -> None:
        conn = self._opened()
        sql = "UPDATE dead_letters SET status = ?, letter = ? WHERE id = ?"
        await self._run(lambda: conn.execute(sql, (letter.status.value, letter.to_json(), letter.id)).close())

    def _opened(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the dead-letter store is not open: call open() first")
        return self._conn

    async def _run(self, work: Callable[[], T]) -> T:
        return await self._thread.run(work)


# -- Redis -------------------------------------------------------------------------------------------------------

Failure = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisDeadLetters:
    """One key per letter (JSON), an index sorted by id, and a delivery-id key per letter for de-duplication.
    Nothing expires: a dead letter stays until an operator deals with it."""

    def __init__(self, url: str, *, prefix: str = "lotgraph:") -> None:
        self.url = url
        self.prefix = f"{prefix}deadletters"
        self._redis: aioredis.Redis | None = None

    async def open(self) -> None:
        self._redis = aioredis.Redis.from_url(self.url, decode_responses=True)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def add(self, source: str, body: bytes, reason: str, delivery_id: str | None) -> DeadLetter:
        r = self._opened()
        now = datetime.now(UTC)
        letter = DeadLetter(new_id(now), source, delivery_id, now, reason, body)
        try:
            if delivery_id is not None:
                claimed = await r.set(f"{self.prefix}:delivery:{source}:{delivery_id}", letter.id, nx=True)
                if not claimed:
                    first = await r.get(f"{self.prefix}:delivery:{source}:{delivery_id}")
                    existing = await self.get(str(first)) if first else None
                    if existing is not None:
                        return existing
            async with r.pipeline(transaction=True) as pipe:
                pipe.set(f"{self.prefix}:letter:{letter.id}", letter.to_json())
                pipe.zadd(f"{self.prefix}:index", {letter.id: 0})
                await pipe.execute()
        except Failure as exc:
            raise DeadLetterUnavailable(f"the dead-letter store is unavailable: {exc}") from exc
        return letter

    async def get(self, id: str) -> DeadLetter | None:
        try:
            text = await self._opened().get(f"{self.prefix}:letter:{id}")
        except Failure as exc:
            raise DeadLetterUnavailable(f"the dead-letter store is unavailable: {exc}") from exc
        return None if text is None else DeadLetter.of_json(text)

    async def list(
        self, *, status: DeadLetterStatus | None, source: str | None, first: int, after: str | None
    ) -> list[DeadLetter]:
        r = self._opened()
        found: list[DeadLetter] = []
        start = f"({after}" if after else "-"
        try:
            while len(found) < first:
                ids = [str(i) for i in await r.zrangebylex(f"{self.prefix}:index", start, "+", start=0, num=100)]
                if not ids:
                    break
                texts = await r.mget([f"{self.prefix}:letter:{i}" for i in ids])
                for text in texts:
                    if text is None:
                        continue
                    letter = DeadLetter.of_json(text)
                    if (status is None or letter.status == status) and (source is None or letter.source == source):
                        found.append(letter)
                start = f"({ids[-1]}"
        except Failure as exc:
            raise DeadLetterUnavailable(f"the dead-letter store is unavailable: {exc}") from exc
        return found[:first]

    async def save(self, letter: DeadLetter) -> None:
        try:
            await self._opened().set(f"{self.prefix}:letter:{letter.id}", letter.to_json())
        except Failure as exc:
            raise DeadLetterUnavailable(f"the dead-letter store is unavailable: {exc}") from exc

    def _opened(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("the dead-letter store is not open: call open() first")
        return self._redis
