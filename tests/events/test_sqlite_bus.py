"""The embedded bus: durable append-only log with cursors, dedupe, replay then live, bounded queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sources.bus.envelope import BusinessKeys, Event
from sources.bus.errors import InvalidCursor, SlowSubscriber
from sources.bus.sqlite import SqliteBus

DEADLINE = 5.0


def hold(lot: str, n: int = 0, source_event_id: str | None = None) -> Event:
    return Event(
        type="HoldPlaced",
        source="qms",
        keys=BusinessKeys(lot_ids=(lot,)),
        payload={"hold_id": f"H-{n}", "lot_id": lot},
        occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
        source_event_id=source_event_id,
        correlation_id=f"corr-{n}",
        plant="P1",
    )


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[SqliteBus]:
    bus = SqliteBus(tmp_path / "events.db", queue_size=8)
    await bus.open()
    yield bus
    await bus.aclose()


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    async def collect() -> list[Event]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(collect(), DEADLINE)


async def test_publish_assigns_increasing_cursors_and_keeps_the_envelope(bus: SqliteBus) -> None:
    first = await bus.publish(hold("L1", 1))
    second = await bus.publish(hold("L2", 2))
    assert first.cursor is not None
    assert second.cursor is not None
    assert int(second.cursor) > int(first.cursor)
    replayed = await take(bus.subscribe(after=""), 2)
    assert replayed == [first, second]
    assert replayed[0].keys.lot_ids == ("L1",)
    assert replayed[0].correlation_id == "corr-1"
    assert replayed[0].plant == "P1"
    assert replayed[0].occurred_at == datetime(2024, 5, 1, tzinfo=UTC)


async def test_a_repeated_source_event_id_is_appended_once(bus: SqliteBus) -> None:
    first = await bus.publish(hold("L1", 1, source_event_id="qms-evt-1"))
    again = await bus.publish(hold("L1", 9, source_event_id="qms-evt-1"))
    assert again == first
    assert await bus.head() == first.cursor


async def test_replay_after_a_cursor_then_live_without_gap_or_duplicate(bus: SqliteBus) -> None:
    published = [await bus.publish(hold(f"L{i}", i)) for i in range(5)]
    events = bus.subscribe(after=published[1].cursor)
    assert [e.id for e in await take(events, 3)] == [e.id for e in published[2:]]
    live = await bus.publish(hold("L9", 9))
    assert [e.id for e in await take(events, 1)] == [live.id]
    await events.aclose()  # type: ignore[attr-defined]
    assert bus.subscriber_count == 0


async def test_events_published_during_the_replay_arrive_once_in_order(bus: SqliteBus) -> None:
    for i in range(20):
        await bus.publish(hold(f"L{i}", i))
    events = bus.subscribe(after="")
    first = await take(events, 1)
    # the subscriber is registered and replaying; more events arrive, enough to overflow its live queue
    for i in range(20, 40):
        await bus.publish(hold(f"L{i}", i))
    rest = await take(events, 39)
    cursors = [int(e.cursor or "0") for e in first + rest]
    assert cursors == sorted(set(cursors))
    assert len(cursors) == 40


async def test_a_slow_live_subscriber_is_cut_off_with_its_resume_cursor(bus: SqliteBus) -> None:
    events = bus.subscribe(after=None)
    waiting = asyncio.ensure_future(anext(events))  # registers the subscription
    first = await bus.publish(hold("L0", 0))
    assert (await asyncio.wait_for(waiting, DEADLINE)).id == first.id
    for i in range(1, 12):  # queue bound is 8
        await bus.publish(hold(f"L{i}", i))
    with pytest.raises(SlowSubscriber) as raised:
        await take(events, 12)
    assert raised.value.last_cursor is not None
    resumed = await take(bus.subscribe(after=raised.value.last_cursor), 1)
    assert int(resumed[0].cursor or "0") == int(raised.value.last_cursor) + 1


async def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    bus = SqliteBus(tmp_path / "events.db")
    await bus.open()
    published = [await bus.publish(hold(f"L{i}", i)) for i in range(3)]
    await bus.aclose()
    reopened = SqliteBus(tmp_path / "events.db")
    await reopened.open()
    try:
        assert await take(reopened.subscribe(after=""), 3) == published
        later = await reopened.publish(hold("L3", 3))
        assert int(later.cursor or "0") == int(published[-1].cursor or "0") + 1
    finally:
        await reopened.aclose()


@pytest.mark.parametrize("cursor", ["abc", "-1", "1-0", "9" * 40])
def test_a_bad_cursor_is_refused(tmp_path: Path, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        SqliteBus(tmp_path / "events.db").subscribe(after=cursor)


async def test_publish_many_appends_in_one_transaction_and_dedupes(bus: SqliteBus) -> None:
    events = bus.subscribe(after=await bus.head())
    stored = await bus.publish_many([hold(f"L{i}", i, source_event_id=f"s-{i}") for i in range(3)])
    assert [int(e.cursor or "0") for e in stored] == [1, 2, 3]
    assert await bus.publish_many([hold("L1", 7, source_event_id="s-1")]) == [stored[1]]
    assert await take(events, 3) == stored


async def test_latest_is_the_newest_events_oldest_first_and_subscribing_after_them_misses_nothing(
    bus: SqliteBus,
) -> None:
    assert await bus.latest(3) == []
    published = [await bus.publish(hold(f"L{i}", i)) for i in range(5)]
    latest = await bus.latest(3)
    assert latest == published[2:]
    assert await bus.latest(100) == published
    events = bus.subscribe(after=latest[-1].cursor)
    live = await bus.publish(hold("L9", 9))
    assert await take(events, 1) == [live]
