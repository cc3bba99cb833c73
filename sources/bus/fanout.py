"""In-process fan-out with bounded queues, and the replay-then-live subscription both buses share.

A subscription registers its queue *before* it reads the log, then yields what the log holds after its cursor,
then what arrives on the queue, skipping anything at or before the last cursor it yielded: an event published
while the replay runs is either in the log read or on the queue (or both), never in neither — no gap, no
duplicate.

Memory stays bounded: each queue holds at most ``queue_size`` events. If a live subscriber falls that far behind,
its next read raises ``SlowSubscriber`` (with the cursor to resume from) instead of growing the queue. If the queue
overflows while the subscriber is still replaying, nothing is lost either: it re-registers and reads the missed
events from the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sources.bus.envelope import Event
from sources.bus.errors import SlowSubscriber

REPLAY_PAGE = 500

ReadAfter = Callable[[str, int], Awaitable[list[Event]]]
"""``read_after(cursor, limit)``: up to ``limit`` events after ``cursor`` ("" is before the first), in order."""

OrderKey = Callable[[str], Any]
"""A sortable key of a cursor, so that later events have greater keys."""


class Subscriber:
    __slots__ = ("overflowed", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self.overflowed = False


class FanOut:
    def __init__(self, queue_size: int) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self._subscribers: set[Subscriber] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def open(self) -> Subscriber:
        subscriber = Subscriber(self.queue_size)
        self._subscribers.add(subscriber)
        return subscriber

    def close(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to every subscriber; never blocks, never grows a queue past its bound."""
        for subscriber in self._subscribers:
            if subscriber.overflowed:
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True


async def replay_then_live(
    fanout: FanOut, read_after: ReadAfter, order: OrderKey, after: str | None
) -> AsyncIterator[Event]:
    """Events after ``after`` from the log (none when ``after`` is None), then live ones from ``fanout``."""
    subscriber = fanout.open()
    try:
        last = after
        catching_up = after is not None
        while True:
            if catching_up:
                assert last is not None
                while True:
                    page = await read_after(last, REPLAY_PAGE)
                    for event in page:
                        assert event.cursor is not None
                        yield event
                        last = event.cursor
                    if len(page) < REPLAY_PAGE:
                        break
                if subscriber.overflowed:
                    # Live events arrived faster than the replay went: read them from the log too.
                    fanout.close(subscriber)
                    subscriber = fanout.open()
                    continue
                catching_up = False
            if subscriber.overflowed:
                raise SlowSubscriber(last)
            event = await subscriber.queue.get()
            assert event.cursor is not None
            if last is not None and last != "" and order(event.cursor) <= order(last):
                continue
            yield event
            last = event.cursor
    finally:
        fanout.close(subscriber)
