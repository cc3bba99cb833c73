"""The Redis Streams bus against real Redis: dedupe, replay, retention gaps, two replicas, a Redis restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bench.launch import free_port
from sources.bus.errors import BusUnavailable, CursorExpired, InvalidCursor
from sources.bus.redis import RedisBus, parse_cursor
from tests.events.conftest import DEADLINE, REDIS_URL, RedisServer, hold_event, take


@pytest.fixture
async def bus(redis_url: str, stream: str) -> AsyncIterator[RedisBus]:
    bus = RedisBus(redis_url, stream=stream, queue_size=16)
    await bus.open()
    yield bus
    await asyncio.wait_for(bus.aclose(), DEADLINE)


async def test_publish_dedupes_by_event_id_and_by_source_event_id(bus: RedisBus) -> None:
    first = await bus.publish(hold_event("L1", 1, source_event_id="HoldPlaced:H-1"))
    assert first.cursor is not None
    assert await bus.publish(hold_event("L1", 2, source_event_id="HoldPlaced:H-1")) == first
    assert await bus.publish(hold_event("L1", 2, source_event_id="HoldPlaced:H-1", source="lotgraph")) == first
    assert await bus.publish(first) == first
    other = await bus.publish(hold_event("L1", 3, source_event_id="HoldPlaced:H-2"))
    assert other.cursor != first.cursor
    assert [e.id for e in await take(bus.subscribe(after=""), 2)] == [first.id, other.id]


async def test_replay_then_live_in_order(bus: RedisBus) -> None:
    published = [await bus.publish(hold_event(f"L{i}", i)) for i in range(4)]
    events = bus.subscribe(after=published[0].cursor)
    assert await take(events, 3) == published[1:]
    live = await bus.publish(hold_event("L9", 9))
    assert await take(events, 1) == [live]


async def test_an_event_published_on_one_replica_reaches_subscribers_of_the_other(
    redis_url: str, stream: str, bus: RedisBus
) -> None:
    other = RedisBus(redis_url, stream=stream)
    await other.open()
    try:
        head = await other.head()
        events = other.subscribe(after=head)
        published = await bus.publish(hold_event("L1", 1))
        assert await take(events, 1) == [published]
    finally:
        await asyncio.wait_for(other.aclose(), DEADLINE)


async def test_a_cursor_older_than_the_retention_is_refused_not_silently_gapped(bus: RedisBus, redis_url: str) -> None:
    first = await bus.publish(hold_event("L0", 0))
    for i in range(1, 20):
        await bus.publish(hold_event(f"L{i}", i))
    client = aioredis.Redis.from_url(redis_url)
    await client.xtrim(bus.key, maxlen=5, approximate=False)  # what retention does to old entries
    await client.aclose()
    with pytest.raises(CursorExpired):
        await take(bus.subscribe(after=first.cursor), 1)
    retained = await take(bus.subscribe(after=""), 5)
    assert [e.payload["lot_id"] for e in retained] == [f"L{i}" for i in range(15, 20)]
    # resuming from a retained cursor is exact: no false alarm
    assert await take(bus.subscribe(after=retained[0].cursor), 4) == retained[1:]


@pytest.mark.parametrize("cursor", ["abc", "12", "1-2-3", "-"])
def test_a_bad_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        RedisBus(REDIS_URL).subscribe(after=cursor)


async def test_a_redis_restart_loses_nothing_and_the_reader_resumes(redis_server: RedisServer) -> None:
    publisher = RedisBus(redis_server.url, stream="restart")
    reader = RedisBus(redis_server.url, stream="restart")
    await publisher.open()
    await reader.open()
    try:
        events = reader.subscribe(after=await reader.head())
        before = [await publisher.publish(hold_event(f"L{i}", i)) for i in range(3)]
        assert await take(events, 3) == before
        redis_server.stop()
        with pytest.raises(BusUnavailable):
            await publisher.publish(hold_event("L-lost?", 99))
        redis_server.start()
        after = [await publisher.publish(hold_event(f"L{i}", i)) for i in range(3, 6)]
        assert await take(events, 3) == after  # the reader reconnected and resumed from its last id
        replayed = await take(reader.subscribe(after=""), 6)
        assert replayed == before + after
    finally:
        await publisher.aclose()
        await reader.aclose()


async def test_a_bus_that_cannot_reach_redis_fails_to_open() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(BusUnavailable):
        await bus.open()


def test_the_bus_is_not_usable_before_open() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        asyncio.run(RedisBus("redis://127.0.0.1:1/0").head())


async def test_publish_many_is_one_read_for_every_replica_in_order(bus: RedisBus) -> None:
    events = bus.subscribe(after=await bus.head())
    stored = await bus.publish_many([hold_event(f"L{i}", i, source_event_id=f"HoldPlaced:HM-{i}") for i in range(5)])
    order = [parse_cursor(e.cursor or "") for e in stored]
    assert order == sorted(set(order))
    again = await bus.publish_many([hold_event("L0", 9, source_event_id="HoldPlaced:HM-0")])
    assert again == stored[:1]
    assert await take(events, 5) == stored


async def test_latest_is_the_newest_events_oldest_first(bus: RedisBus) -> None:
    assert await bus.latest(3) == []
    published = [await bus.publish(hold_event(f"L{i}", i)) for i in range(5)]
    assert await bus.latest(3) == published[2:]
    assert await bus.latest(100) == published
    events = bus.subscribe(after=published[-1].cursor)
    live = await bus.publish(hold_event("L9", 9))
    assert await take(events, 1) == [live]
