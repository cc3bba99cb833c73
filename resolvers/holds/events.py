"""The events lotgraph's own hold commands publish: HoldPlaced, HoldReleased, StockStatusChanged and
PendingActionChanged, in the canonical envelope (DESIGN.md rule 4), source ``lotgraph``; each is also recorded in
the hold history (``resolvers.holds.history``) of the durable store.

Each event has a deterministic ``source_event_id``, so a command that runs again (a claim taken over after a crash)
publishes nothing twice: the bus appends a repeated id once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from datetime import datetime

from resolvers.holds.history import rows_of
from resolvers.holds.model import PendingAction, action_to_dict, utc_now
from resolvers.holds.outcomes import hold_to_dict
from sources.bus.envelope import BusinessKeys, Event
from sources.ports import EventBus
from sources.records import Hold, StockChange
from sources.sites.ids import SiteIds
from sources.store import Store

log = logging.getLogger("lotgraph.holds")

SOURCE = "lotgraph"


def _event(
    kind: str,
    *,
    lot_id: str,
    payload: dict[str, object],
    event_id: str,
    correlation_id: str | None,
    plant: str | None,
    occurred_at: datetime | None = None,
    shipment_ids: Iterable[str] = (),
) -> Event:
    return Event(
        type=kind,
        source=SOURCE,
        keys=BusinessKeys(lot_ids=(lot_id,), shipment_ids=tuple(shipment_ids)),
        payload=payload,
        occurred_at=occurred_at or utc_now(),
        correlation_id=correlation_id,
        plant=plant,
        source_event_id=f"{kind}:{event_id}",
    )


def hold_placed(hold: Hold, *, plant: str | None, operation_key: str) -> Event:
    payload = {**hold_to_dict(hold), "idempotency_key": operation_key}
    return _event(
        "HoldPlaced",
        lot_id=hold.lot_id,
        payload=payload,
        event_id=hold.id,
        correlation_id=hold.correlation_id,
        plant=plant,
        occurred_at=hold.placed_at,
    )


def hold_released(hold: Hold, *, plant: str | None, correlation_id: str, operation_key: str) -> Event:
    payload = {**hold_to_dict(hold), "idempotency_key": operation_key}
    return _event(
        "HoldReleased",
        lot_id=hold.lot_id,
        payload=payload,
        event_id=hold.id,
        correlation_id=correlation_id,
        plant=plant,
        occurred_at=hold.released_at,
    )


def stock_changed(change: StockChange, action: PendingAction, *, plant: str | None, step: str = "") -> Event:
    payload: dict[str, object] = {
        "status": change.status.value,
        "locations": [s.location for s in change.stock],
        "hold_id": action.hold_id,
        "reason": action.reason,
        "shipment_ids": list(change.shipment_ids),
        "requested_by": action.requested_by,
    }
    return _event(
        "StockStatusChanged",
        lot_id=change.lot_id,
        payload=payload,
        event_id=f"{action.upstream_key}{step}",
        correlation_id=action.correlation_id,
        plant=plant,
        shipment_ids=change.shipment_ids,
    )


def pending_action_changed(
    action: PendingAction, *, plant: str | None, change: str | None = None, by: str | None = None
) -> Event:
    """The new state of an action; ``change`` ("retried", "closed") and ``by`` when a person changed it."""
    payload: dict[str, object] = action_to_dict(action)
    event_id = f"{action.id}:{action.status.value}:{action.attempts}"
    if change is not None:
        payload |= {"change": change, "by": by}
        event_id += f":{change}:{action.updated_at.timestamp()}"
    return _event(
        "PendingActionChanged",
        lot_id=action.lot_id,
        payload=payload,
        event_id=event_id,
        correlation_id=action.correlation_id,
        plant=plant,
        occurred_at=action.updated_at,
    )


def _sited(event: Event, ids: SiteIds) -> Event:
    """The event with the site of its lot (``b:<lot>`` is site b's; a bare id the deployment's own site's)."""
    if event.site is not None or not event.keys.lot_ids:
        return event
    return dataclasses.replace(event, site=ids.site_of(event.keys.lot_ids[0]))


async def publish(bus: EventBus | None, store: Store | None, events: Iterable[Event], *, ids: SiteIds) -> list[Event]:
    """Publish in order, each with its lot's site, then record them in the hold history (one write); return the
    events that could not be recorded (logged, never raised: the change they describe has happened in the systems
    of record and stays visible there)."""
    events = [_sited(event, ids) for event in events]
    failed: list[Event] = []
    for event in events:
        try:
            if bus is not None:
                await bus.publish(event)
        except Exception:
            log.exception("event not recorded", extra={"event_type": event.type, "lot_ids": list(event.keys.lot_ids)})
            failed.append(event)
    if store is not None and events:
        try:
            await store.append_history([row for event in events for row in rows_of(event)])
        except Exception:
            log.exception("hold history not recorded", extra={"events": len(events)})
            failed += [event for event in events if event not in failed]
    return failed


class Publisher:
    """Publishes events in the order they are emitted, from a task of its own, so that recording them overlaps the
    command's upstream calls instead of following them. ``record`` also waits until its events are published (for
    a change that must be announced before the step that made it is recorded done). ``close`` waits for the last
    one and returns those that could not be recorded."""

    def __init__(self, bus: EventBus | None, store: Store | None, *, ids: SiteIds) -> None:
        self.bus = bus
        self.store = store
        self.ids = ids
        self._queue: asyncio.Queue[Event | asyncio.Future[None] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run()) if bus is not None or store is not None else None
        self._failed: list[Event] = []

    def emit(self, events: Iterable[Event]) -> None:
        if self._task is not None:
            for event in events:
                self._queue.put_nowait(event)

    async def record(self, events: Iterable[Event]) -> None:
        """Emit ``events`` and wait until they and every event emitted before them are published (or failed)."""
        if self._task is not None:
            self.emit(events)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.put_nowait(done)
            await done

    async def _run(self) -> None:
        closing = False
        while not closing:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            closing = None in batch
            events = [e for e in batch if isinstance(e, Event)]
            self._failed += await publish(self.bus, self.store, events, ids=self.ids)
            for waiter in batch:
                if isinstance(waiter, asyncio.Future) and not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> list[Event]:
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        return self._failed
