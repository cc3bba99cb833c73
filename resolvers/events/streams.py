"""The subscriptions: hold events, status events and shipment readiness changes, each from the bus.

``after`` is a cursor: None for live events only, "" for every retained event, or the cursor of the last event a
subscriber saw, to get what it missed, in order, then live ones (no gap, no duplicate: sources.bus.fanout).

A subscription is one long operation. Whatever it loads for an event it loads with fresh loaders (a copy of the
context per evaluation), so nothing read for one event is served, stale, for a later one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.events.filters import EventFilter, Watch, hold_filter, status_filter
from resolvers.lots import lot_id_of
from resolvers.paging import MAX_IDS
from resolvers.readiness.model import Readiness, ReadinessStatus
from resolvers.readiness.service import readiness_of
from sources.bus.envelope import EVENT_TYPES, Event
from sources.bus.errors import BusError, InvalidCursor
from sources.errors import SourceUnavailable
from sources.ports import EventBus

MAX_WATCHED_SHIPMENTS = 100
DEBOUNCE_SECONDS = 0.05
"""After an event touches a watched shipment, events arriving within this long are taken into the same
re-evaluation (a hold brings a disposition, a stock and allocation changes with it)."""


def _bus(ctx: Context) -> EventBus:
    if ctx.bus is None:
        raise InputError("events are not available on this gateway", code="EVENTS_UNAVAILABLE")
    return ctx.bus


def _ids(name: str, ids: Collection[str] | None, most: int = MAX_IDS) -> list[str] | None:
    if ids is None:
        return None
    if len(ids) > most:
        raise InputError(f"{name}: at most {most} ids, got {len(ids)}")
    return list(dict.fromkeys(ids))


def _lot_ids(lot_ids: Collection[str] | None) -> list[str] | None:
    """Lot ids in any spelling a lot argument accepts (plant id, EPC class URN, GS1 Digital Link), as the lot ids
    events carry; a malformed GS1 spelling is INVALID_INPUT."""
    ids = _ids("lotIds", lot_ids)
    return None if ids is None else list(dict.fromkeys(lot_id_of(i) for i in ids))


def _subscribe(bus: EventBus, after: str | None) -> AsyncIterator[Event]:
    try:
        return bus.subscribe(after=after)
    except InvalidCursor as exc:
        raise InputError(f"after: {exc.message}", code="INVALID_CURSOR") from None


async def _filtered(events: AsyncIterator[Event], matches: EventFilter) -> AsyncIterator[Event]:
    try:
        async for event in events:
            if matches(event):
                yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def hold_events(
    ctx: Context, lot_ids: Collection[str] | None, plant: str | None, after: str | None
) -> AsyncIterator[Event]:
    """HoldPlaced and HoldReleased events, of these lots and this plant when given."""
    lots = _lot_ids(lot_ids)
    if plant is not None and not 0 < len(plant) <= 64:
        raise InputError("plant: must be 1 to 64 characters")
    return _filtered(_subscribe(_bus(ctx), after), hold_filter(lots, plant))


def status_events(
    ctx: Context,
    types: Collection[str] | None,
    lot_ids: Collection[str] | None,
    order_ids: Collection[str] | None,
    shipment_ids: Collection[str] | None,
    after: str | None,
) -> AsyncIterator[Event]:
    """Events of these types that concern any of these lots, orders or shipments (all, when none is given)."""
    unknown = sorted(set(types or ()) - set(EVENT_TYPES))
    if unknown:
        raise InputError(f"types: unknown event type {unknown[0]!r}")
    matches = status_filter(
        types,
        _lot_ids(lot_ids),
        _ids("orderIds", order_ids),
        _ids("shipmentIds", shipment_ids),
    )
    return _filtered(_subscribe(_bus(ctx), after), matches)


# -- shipment readiness ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadinessChange:
    readiness: Readiness
    previous_status: ReadinessStatus | None
    cause: Event | None  # the event that led to the re-evaluation; None for the initial answer


def fingerprint(readiness: Readiness) -> tuple[object, ...]:
    """What a change means: the status and the blockers (what, where), not their wording or timing."""
    blockers = sorted(
        (b.code.value, b.source, b.lot_id or "", b.order_id or "", b.line_no or 0) for b in readiness.blockers
    )
    return (readiness.status, tuple(blockers))


async def _watch_of(ctx: Context, shipment_ids: Sequence[str]) -> Watch:
    """The shipments, their orders, and the lots assigned (ERP) or allocated (WMS) to them."""
    fresh = dataclasses.replace(ctx)
    shipments, progress = await asyncio.gather(
        fresh.loaders.shipments.load_many(shipment_ids),
        fresh.loaders.progress.load_many(shipment_ids),
        return_exceptions=True,
    )
    orders: list[str] = []
    lots: list[str] = []
    if isinstance(shipments, list):
        for shipment in shipments:
            if shipment is not None:
                orders.append(shipment.order_id)
                lots.extend(shipment.lot_ids)
    if isinstance(progress, list):
        for p in progress:
            if p is not None:
                lots.extend(a.lot_id for a in p.allocations)
    return Watch.of(shipment_ids, orders, lots)


async def _evaluate(ctx: Context, shipment_ids: Iterable[str]) -> list[Readiness]:
    return await readiness_of(dataclasses.replace(ctx), list(shipment_ids))


async def readiness_changes(
    ctx: Context, shipment_ids: Collection[str], *, initial: bool
) -> AsyncIterator[ReadinessChange]:
    """The readiness of watched shipments each time its status or blockers change (first the current one, with
    ``initial``). An event that touches a shipment, its order or one of its lots triggers a re-evaluation."""
    ids = _ids("shipmentIds", shipment_ids, MAX_WATCHED_SHIPMENTS) or []
    if not ids:
        raise InputError("shipmentIds: give at least one shipment")
    events = _subscribe(_bus(ctx), None)
    return _readiness_changes(ctx, ids, events, initial)


async def _readiness_changes(
    ctx: Context, ids: list[str], events: AsyncIterator[Event], initial: bool
) -> AsyncIterator[ReadinessChange]:
    loop = asyncio.get_running_loop()
    pending = asyncio.ensure_future(anext(events))  # registers with the bus before the first evaluation
    try:
        watch = await _watch_of(ctx, ids)
        current = {r.shipment_id: r for r in await _evaluate(ctx, ids)}
        if initial:
            for shipment_id in ids:
                if shipment_id in current:
                    yield ReadinessChange(current[shipment_id], None, None)
        while True:
            event = await pending
            pending = asyncio.ensure_future(anext(events))
            if not watch.touched_by(event):
                continue
            cause, touched = event, set(_touched(watch, event))
            deadline = loop.time() + DEBOUNCE_SECONDS
            while True:
                done, _ = await asyncio.wait({pending}, timeout=max(0.0, deadline - loop.time()))
                if not done:
                    break
                more = pending.result()
                pending = asyncio.ensure_future(anext(events))
                if watch.touched_by(more):
                    cause = more
                    touched.update(_touched(watch, more))
            for readiness in await _evaluate(ctx, [i for i in ids if i in touched]):
                before = current.get(readiness.shipment_id)
                current[readiness.shipment_id] = readiness
                if before is None or fingerprint(before) != fingerprint(readiness):
                    yield ReadinessChange(readiness, before.status if before else None, cause)
            watch = await _watch_of(ctx, ids)  # allocations may have brought other lots
    finally:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        await events.aclose()  # type: ignore[attr-defined]


def _touched(watch: Watch, event: Event) -> set[str]:
    """The watched shipments an event may concern: directly, or (through an order or a lot) possibly all."""
    direct = watch.shipment_ids.intersection(event.keys.shipment_ids)
    if not watch.order_ids.isdisjoint(event.keys.order_ids) or not watch.lot_ids.isdisjoint(event.keys.lot_ids):
        return set(watch.shipment_ids)
    return set(direct)


MAX_RECENT = 500


async def recent_events(ctx: Context, last: int) -> list[Event]:
    """The newest ``last`` events of the log, oldest first: a client shows them, then subscribes ``after`` the
    newest one's cursor (``""`` when there is none) and misses nothing and repeats nothing."""
    if not 1 <= last <= MAX_RECENT:
        raise InputError(f"last: must be 1 to {MAX_RECENT}, got {last}")
    try:
        return await _bus(ctx).latest(last)
    except BusError as exc:
        raise SourceUnavailable("bus", exc.message) from exc


async def log_head(ctx: Context) -> str:
    """The newest cursor of the event log: a client reads it, then its snapshot, then subscribes ``after`` it, and
    misses nothing that happened in between (a repeat of something already in the snapshot is harmless)."""
    if ctx.bus is None:
        raise InputError("events are not available on this gateway", code="EVENTS_UNAVAILABLE")
    try:
        return await ctx.bus.head()
    except BusError as exc:
        raise SourceUnavailable("bus", exc.message) from exc
