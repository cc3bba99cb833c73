"""The bus across replicas: one Redis stream, read by one reader task per replica and fanned out in process.

- ``publish`` runs one Lua script: it dedupes on the event id and on the source event id, then ``XADD``s
  with an approximate ``MAXLEN`` (the retention) and records the previous entry id in the entry (``p``), so a
  reader or a resuming subscriber can tell a gap (entries trimmed or lost) from a plain sequence.
- The reader ``XREAD``s from its last id with a ``BLOCK`` shorter than the socket timeout, delivers every entry to
  this replica's subscribers, and after a Redis disconnect resumes from that id: nothing published meanwhile is
  missed (Redis must persist the stream, e.g. ``appendonly yes``, to survive its own restart).
- A subscriber with ``after`` replays with ``XRANGE`` from its cursor, then goes live (``sources.bus.fanout``).

The cursor of an event is its stream entry id (``1714550400000-0``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from sources.bus.codec import decode, encode, with_cursor
from sources.bus.envelope import Event
from sources.bus.errors import BusUnavailable, CursorExpired, InvalidCursor
from sources.bus.fanout import FanOut, replay_then_live

log = logging.getLogger("lotgraph.bus")

DEFAULT_STREAM = "lotgraph:events"
DEFAULT_RETENTION = 1_000_000
DEFAULT_QUEUE_SIZE = 1000
DEDUPE_SECONDS = 7 * 24 * 3600
BLOCK_MS = 2000  # below redis-py's default 5 s socket timeout
READ_COUNT = 500
NO_ENTRY = "0-0"

_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")

# KEYS: stream, seen-by-id, seen-by-source-event (or "" when there is none)
# ARGV: encoded event, maxlen, dedupe seconds
PUBLISH = """
local found = redis.call('GET', KEYS[2])
if not found and KEYS[3] ~= '' then found = redis.call('GET', KEYS[3]) end
if found then return {0, found} end
local previous = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local p = '0-0'
if previous[1] then p = previous[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1], 'p', p)
redis.call('SET', KEYS[2], id, 'EX', ARGV[3])
if KEYS[3] ~= '' then redis.call('SET', KEYS[3], id, 'EX', ARGV[3]) end
return {1, id}
"""

Failure = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

Entries = list[tuple[str, dict[str, str]]]


def entries_of(reply: Any) -> Entries:
    """``XRANGE``/``XREVRANGE`` replies, typed (the client decodes responses to ``str``)."""
    return cast(Entries, reply or [])


def stream_entries_of(reply: Any) -> Entries:
    """The entries of an ``XREAD`` reply over one stream."""
    return [entry for _, entries in cast(list[tuple[str, Entries]], reply or []) for entry in entries]


def parse_cursor(cursor: str) -> tuple[int, int]:
    if cursor == "":
        return (0, 0)
    if not _CURSOR.match(cursor):
        raise InvalidCursor(f"not a cursor of this event stream: {cursor!r}")
    ms, seq = cursor.split("-")
    return (int(ms), int(seq))


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        stream: str = DEFAULT_STREAM,
        retention: int = DEFAULT_RETENTION,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self.url = url
        self.key = f"{{{stream}}}"  # a hash tag: the stream and its dedupe keys live in one cluster slot
        self.retention = retention
        self._redis: aioredis.Redis | None = None
        self._fanout = FanOut(queue_size)
        self._reader: asyncio.Task[None] | None = None
        self._last_id = NO_ENTRY
        self._closing = False
        self.connected = asyncio.Event()  # set while the reader is reading; for health and tests

    @property
    def subscriber_count(self) -> int:
        return self._fanout.subscriber_count

    @property
    def last_read(self) -> str:
        """The id of the last entry the reader delivered."""
        return self._last_id

    async def open(self) -> None:
        # A connection of the pool goes stale when Redis restarts: retry once or twice on a fresh one. Safe for
        # publish too, since the script dedupes on the event id.
        self._redis = aioredis.Redis.from_url(
            self.url,
            decode_responses=True,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        )
        self._publish = self._redis.register_script(PUBLISH)
        try:
            self._last_id = await self.head() or NO_ENTRY
        except BusUnavailable:
            await self._redis.aclose()
            raise
        self._closing = False
        self._reader = asyncio.create_task(self._read_forever(), name="lotgraph-bus-reader")

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            # The flag ends the reader after its current XREAD even if the cancellation is lost on the way through
            # redis-py (a reader was seen reading on, cancelling, for minutes). asyncio.wait keeps the reader's
            # CancelledError in it and lets a caller that gives up on closing cancel this call.
            self._closing = True
            reader.cancel()
            await asyncio.wait([reader])
            if not reader.cancelled() and reader.exception() is not None:
                log.warning("event stream reader failed: %s", reader.exception())
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, event: Event) -> Event:
        self._opened()
        keys, args = self._script_args(event)
        try:
            new, entry_id = await self._publish(keys=keys, args=args)
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        return with_cursor(event, entry_id) if int(new) else await self._stored(event, entry_id)

    def _script_args(self, event: Event) -> tuple[list[str], list[str | int]]:
        source_key = f"{self.key}:seen:sid:{event.source_event_id}" if event.source_event_id else ""
        keys = [self.key, f"{self.key}:seen:id:{event.id}", source_key]
        return keys, [encode(event), self.retention, DEDUPE_SECONDS]

    async def _stored(self, event: Event, entry_id: str) -> Event:
        """The first event with this id, as stored; the caller's own copy if retention trimmed it since."""
        try:
            entries = entries_of(await self._opened().xrange(self.key, entry_id, entry_id))
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        return decode(entries[0][1]["e"], entry_id) if entries else with_cursor(event, entry_id)

    async def publish_many(self, events: Sequence[Event]) -> list[Event]:
        """``publish`` for several events in one transaction: every replica's reader gets them in one read."""
        redis_ = self._opened()
        try:
            async with redis_.pipeline(transaction=True) as pipe:
                for event in events:
                    keys, args = self._script_args(event)
                    await self._publish(keys=keys, args=args, client=pipe)
                replies = await pipe.execute()
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        stored = []
        for event, (new, entry_id) in zip(events, replies, strict=True):
            stored.append(with_cursor(event, entry_id) if int(new) else await self._stored(event, entry_id))
        return stored

    def subscribe(self, after: str | None = None) -> AsyncIterator[Event]:
        if after is not None:
            parse_cursor(after)
        return replay_then_live(self._fanout, self._read_after, parse_cursor, after)

    async def head(self) -> str:
        """The cursor of the last entry of the stream ("" when it is empty)."""
        try:
            entries = entries_of(await self._opened().xrevrange(self.key, "+", "-", count=1))
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        return str(entries[0][0]) if entries else ""

    async def latest(self, count: int) -> list[Event]:
        try:
            entries = entries_of(await self._opened().xrevrange(self.key, "+", "-", count=count))
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        return [decode(fields["e"], entry_id) for entry_id, fields in reversed(entries)]

    async def _read_after(self, cursor: str, limit: int) -> list[Event]:
        start = "-" if cursor == "" else f"({cursor}"
        try:
            entries = entries_of(await self._opened().xrange(self.key, start, "+", count=limit))
        except Failure as exc:
            raise BusUnavailable(f"the event stream is unavailable: {exc}") from exc
        if cursor != "" and entries and parse_cursor(entries[0][1]["p"]) > parse_cursor(cursor):
            raise CursorExpired(
                f"events after {cursor!r} are no longer retained (the oldest is {entries[0][0]!r});"
                ' resume from the start with after: ""'
            )
        return [decode(fields["e"], entry_id) for entry_id, fields in entries]

    async def _read_forever(self) -> None:
        backoff = 0.05
        redis_ = self._opened()
        while not self._closing:
            try:
                reply = await redis_.xread({self.key: self._last_id}, count=READ_COUNT, block=BLOCK_MS)
            except Failure as exc:
                if self.connected.is_set():
                    log.warning("event stream reader lost Redis; resuming from %s: %s", self._last_id, exc)
                self.connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if not self.connected.is_set():
                log.info("event stream reader reading from %s", self._last_id)
                self.connected.set()
            backoff = 0.05
            for entry_id, fields in stream_entries_of(reply):
                self._deliver(entry_id, fields)

    def _deliver(self, entry_id: str, fields: dict[str, str]) -> None:
        previous = fields.get("p", NO_ENTRY)
        if self._last_id != NO_ENTRY and previous != self._last_id:
            log.error(
                "event stream gap: entry %s follows %s, but this replica last read %s"
                " (entries trimmed by retention or lost by Redis)",
                entry_id,
                previous,
                self._last_id,
            )
        self._last_id = entry_id
        try:
            event = decode(fields["e"], entry_id)
        except (KeyError, ValueError, TypeError):
            log.exception("event stream entry %s is not an event; skipped", entry_id)
            return
        self._fanout.deliver(event)

    def _opened(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("the event bus is not open: call open() first")
        return self._redis
