"""The embedded bus: an append-only event log in one SQLite file, fanned out to subscribers in this process.

The cursor of an event is its sequence number in the log (as text). The log is written in WAL mode, so a
restart of the process loses no event that ``publish`` returned. All SQLite work runs on one worker thread that
owns the connection; the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sources.bus.codec import decode, encode, with_cursor
from sources.bus.envelope import Event
from sources.bus.errors import InvalidCursor
from sources.bus.fanout import FanOut, replay_then_live
from sources.sqlite_thread import SqliteThread

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    source_event_id TEXT,
    type TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_source_event_id ON events (source_event_id)
    WHERE source_event_id IS NOT NULL;
"""

DEFAULT_QUEUE_SIZE = 1000


def parse_cursor(cursor: str) -> int:
    """The sequence number of a cursor; "" is before the first event."""
    if cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidCursor(f"not a cursor of this event log: {cursor!r}")
    return int(cursor)


class SqliteEventLog:
    """The log itself, synchronous: used from the bus's worker thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def append(self, event: Event) -> tuple[Event, bool]:
        """Append ``event`` unless its id or its source event id is there; return the stored event and whether it
        is new."""
        existing = self._find(event)
        if existing is not None:
            return existing, False
        cursor = self.conn.execute(
            "INSERT INTO events (id, source, source_event_id, type, body) VALUES (?, ?, ?, ?, ?)",
            (event.id, event.source, event.source_event_id, event.type, encode(event)),
        )
        assert cursor.lastrowid is not None
        return with_cursor(event, str(cursor.lastrowid)), True

    def _find(self, event: Event) -> Event | None:
        row = self.conn.execute("SELECT seq, body FROM events WHERE id = ?", (event.id,)).fetchone()
        if row is None and event.source_event_id is not None:
            row = self.conn.execute(
                "SELECT seq, body FROM events WHERE source_event_id = ?", (event.source_event_id,)
            ).fetchone()
        return None if row is None else decode(row[1], str(row[0]))

    def read_after(self, seq: int, limit: int) -> list[Event]:
        rows = self.conn.execute(
            "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [decode(body, str(row_seq)) for row_seq, body in rows]

    def read_last(self, limit: int) -> list[Event]:
        rows = self.conn.execute("SELECT seq, body FROM events ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [decode(body, str(row_seq)) for row_seq, body in reversed(rows)]

    def last_seq(self) -> int:
        row = self.conn.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        self.conn.close()


class SqliteBus:
    """``EventBus`` over a ``SqliteEventLog`` at ``path``, fanned out in process with bounded queues."""

    def __init__(self, path: Path, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.path = path
        self._thread = SqliteThread("eventlog")
        self._log: SqliteEventLog | None = None
        self._fanout = FanOut(queue_size)
        self._publishing = asyncio.Lock()

    @property
    def subscriber_count(self) -> int:
        return self._fanout.subscriber_count

    async def open(self) -> None:
        self._log = await self._run(lambda: SqliteEventLog(self.path))

    async def aclose(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            await self._run(log.close)
        self._thread.shutdown()

    async def publish(self, event: Event) -> Event:
        log = self._opened()
        async with self._publishing:  # append and deliver in log order
            stored, new = await self._run(lambda: log.append(event))
            if new:
                self._fanout.deliver(stored)
        return stored

    async def publish_many(self, events: Sequence[Event]) -> list[Event]:
        """``publish`` for several events in one transaction, delivered in one pass."""
        log = self._opened()

        def append_all() -> list[tuple[Event, bool]]:
            with log.conn:
                log.conn.execute("BEGIN")
                return [log.append(event) for event in events]

        async with self._publishing:
            stored = await self._run(append_all)
            for event, new in stored:
                if new:
                    self._fanout.deliver(event)
        return [event for event, _ in stored]

    def subscribe(self, after: str | None = None) -> AsyncIterator[Event]:
        if after is not None:
            parse_cursor(after)  # a bad cursor fails now, before the first event
        return replay_then_live(self._fanout, self._read_after, parse_cursor, after)

    async def head(self) -> str:
        """The cursor of the last event in the log ("" when it is empty)."""
        log = self._opened()
        seq = await self._run(log.last_seq)
        return str(seq) if seq else ""

    async def latest(self, count: int) -> list[Event]:
        log = self._opened()
        return await self._run(lambda: log.read_last(count))

    async def _read_after(self, cursor: str, limit: int) -> list[Event]:
        log = self._opened()
        seq = parse_cursor(cursor)
        return await self._run(lambda: log.read_after(seq, limit))

    def _opened(self) -> SqliteEventLog:
        if self._log is None:
            raise RuntimeError("the event log is not open: call open() first")
        return self._log

    async def _run(self, work: Callable[[], T]) -> T:
        return await self._thread.run(work)
