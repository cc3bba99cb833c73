"""Change events without webhooks: the poller turns records changed in Tryton into canonical events on the bus,
survives a restart, and neither loses nor doubles an event."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from resolvers.events.catalog import schema_of
from resolvers.events.json_schema import errors
from resolvers.events.polling import poll_once
from resolvers.events.streams import readiness_changes
from resolvers.readiness.model import ReadinessStatus
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.bus.sqlite import SqliteBus
from sources.changes import SqliteMemory
from sources.tryton.changes import TrytonChangeFeed
from sources.tryton.erp import TrytonErp
from tests.tryton_server import context

SYSTEMS = ("erp", "qms", "wms")


class DiesOnStore(SqliteMemory):
    """A memory whose process dies when it is about to store what a poll saw."""

    async def put_many(self, values: dict[str, Any]) -> None:
        raise OSError("killed")


async def logged(bus: SqliteBus) -> list[Event]:
    events = []
    iterator = bus.subscribe("")
    head = await bus.head()
    if not head:
        return []
    async for event in iterator:
        events.append(event)
        if event.cursor == head:
            break
    return events


async def test_changes_become_events_once_across_restarts(
    tmp_path: Path, sources: Sources, manifest: dict[str, Any]
) -> None:
    assert isinstance(sources.erp, TrytonErp)
    rpc = sources.erp.rpc
    bus = SqliteBus(tmp_path / "events.db")
    await bus.open()
    memory = SqliteMemory(tmp_path / "poll.db")
    feed = TrytonChangeFeed(rpc, memory)
    try:
        assert await poll_once(feed, SYSTEMS, sources, bus, memory) == []  # the baseline: no events

        shipment = manifest["shipments"]["assigned"][3]
        lot = manifest["shipment_lots"][shipment]
        (found,) = await rpc.search_read("stock.shipment.out", [("number", "=", shipment)], ["id"])
        await rpc.write_call("stock.shipment.out", "pick", [found["id"]])
        hold = await sources.qms.place_hold(
            lot,
            reason_code="SUSPECTED_CONTAMINATION",
            comment=None,
            placed_by="poller-test",
            idempotency_key=uuid.uuid4().hex,
        )

        published = await poll_once(feed, SYSTEMS, sources, bus, memory)
        kinds = {
            (e.type, e.payload.get("stage") or e.payload.get("status") or e.payload.get("disposition"))
            for e in published
        }
        assert ("AllocationChanged", "PICKED") in kinds
        assert ("HoldPlaced", "ACTIVE") in kinds
        assert ("LotDispositionChanged", "ON_HOLD") in kinds
        for event in published:
            schema = schema_of(event.type, event.version)
            assert schema is not None
            assert not errors(event.payload, schema.payload), event
        placed = next(e for e in published if e.type == "HoldPlaced")
        assert placed.source_event_id == f"HoldPlaced:{hold.id}"
        assert placed.keys.lot_ids == (lot,)

        # a second poll and a restarted poller (new objects over the same files) add nothing
        assert await poll_once(feed, SYSTEMS, sources, bus, memory) == []
        reopened = SqliteMemory(tmp_path / "poll.db")
        assert await poll_once(TrytonChangeFeed(rpc, reopened), SYSTEMS, sources, bus, reopened) == []
        # a poll that published its events but died before storing what it saw: the next poll publishes the same
        # events again, and the bus appends none of them twice
        await rpc.write_call("stock.shipment.out", "pack", [found["id"]])
        before = len(await logged(bus))
        dying = DiesOnStore(tmp_path / "poll.db")
        with pytest.raises(OSError, match="killed"):
            await poll_once(TrytonChangeFeed(rpc, dying), SYSTEMS, sources, bus, dying)
        appended = len(await logged(bus)) - before
        again = await poll_once(feed, SYSTEMS, sources, bus, memory)
        assert [(e.type, e.payload.get("stage")) for e in again if e.type == "AllocationChanged"] == [
            ("AllocationChanged", "STAGED")
        ]
        assert appended == len(again)
        assert len(await logged(bus)) == before + appended
    finally:
        await sources.qms.release_hold(
            hold.id, released_by="poller-test", comment=None, idempotency_key=uuid.uuid4().hex
        )
        await bus.aclose()


async def test_a_readiness_subscription_moves_when_tryton_packs_the_shipment(
    tmp_path: Path, sources: Sources, manifest: dict[str, Any]
) -> None:
    """Tryton says nothing itself: its change is polled into an event, and the watched shipment's readiness moves."""
    assert isinstance(sources.erp, TrytonErp)
    rpc = sources.erp.rpc
    bus = SqliteBus(tmp_path / "events.db")
    await bus.open()
    memory = SqliteMemory(tmp_path / "poll.db")
    feed = TrytonChangeFeed(rpc, memory)
    shipment = manifest["shipments"]["assigned"][2]
    changes = await readiness_changes(context(sources, bus), [shipment], initial=True)
    try:
        await poll_once(feed, SYSTEMS, sources, bus, memory)  # the baseline
        first = await anext(changes)
        assert first.readiness.status is ReadinessStatus.NOT_READY
        (found,) = await rpc.search_read("stock.shipment.out", [("number", "=", shipment)], ["id"])
        await rpc.write_call("stock.shipment.out", "pick", [found["id"]])
        await rpc.write_call("stock.shipment.out", "pack", [found["id"]])
        await poll_once(feed, SYSTEMS, sources, bus, memory)
        moved = await asyncio.wait_for(anext(changes), 60)
        assert moved.readiness.status is ReadinessStatus.READY
        assert moved.previous_status is ReadinessStatus.NOT_READY
        assert moved.cause is not None
        assert moved.cause.type == "AllocationChanged"
    finally:
        await changes.aclose()  # type: ignore[attr-defined]
        await bus.aclose()
