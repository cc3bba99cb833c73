"""Polling for systems without webhooks: changed records become the canonical events, on the same bus.

A ``ChangeFeed`` (sources/changes.py; Tryton's is sources/tryton/changes.py) names the orders, shipments and lots
changed since its watermark. The poller reads their current state through the same ports every resolver uses,
compares it with what it saw last (kept in ``Memory``), and publishes one event per change: OrderStatusChanged,
ShipmentStatusChanged, AllocationChanged (stage), LotDispositionChanged, HoldPlaced/HoldReleased,
DeviationOpened/Closed, StockStatusChanged. Only for the systems the feed covers, so a system that sends webhooks is
not reported twice.

No event lost or doubled: events are published before the state and the watermark are stored, each with a source
event id made of the record and its change stamp (holds: ``<type>:<hold id>``, as lotgraph's own commands), so a
poll repeated after a crash appends nothing twice. On the very first poll the feed's current state is recorded as
the baseline without events.

Another site's feed (docs/sites.md) names its records by that site's own ids: the poller reads them as the graph
names them (``b:<id>``), so its events carry the qualified ids and the site, like that site's webhooks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from resolvers.holds.outcomes import hold_to_dict
from sources.bundle import Sources
from sources.bus.envelope import BusinessKeys, Event
from sources.changes import ChangeBatch, ChangeFeed, Memory
from sources.errors import SourceError
from sources.ports import EventBus
from sources.records import StockStatus
from sources.sites.ids import SiteIds

log = logging.getLogger("lotgraph.polling")


class _Pending:
    def __init__(self, feed: str, batch: ChangeBatch, memory: Memory, site: str) -> None:
        self.feed, self.batch, self.memory, self.site = feed, batch, memory, site
        self.events: list[Event] = []
        self.seen: dict[str, Any] = {}

    async def compare(self, key: str, state: Any) -> tuple[bool, Any]:
        """Whether ``state`` differs from the last one seen for ``key`` (and that one)."""
        previous = await self.memory.get(f"{self.feed}:seen:{key}")
        self.seen[f"{self.feed}:seen:{key}"] = state
        return previous != state, previous

    def emit(self, kind: str, source: str, stamp_key: str, keys: BusinessKeys, payload: dict[str, Any]) -> None:
        stamp = self.batch.stamps.get(stamp_key, "")
        fact = payload.get("id") if kind in ("HoldPlaced", "HoldReleased") else None
        event_id = f"{kind}:{fact}" if fact else f"{source}:poll:{kind}:{stamp_key}:{stamp}"
        occurred = datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)
        self.events.append(Event(kind, source, keys, payload, occurred, source_event_id=event_id, site=self.site))


async def poll_once(
    feed: ChangeFeed, systems: Iterable[str], sources: Sources, bus: EventBus, memory: Memory, site: str | None = None
) -> list[Event]:
    """One poll: read the feed (of ``site``'s systems; the own site's when None), publish what changed in
    ``systems`` (erp, qms, wms), then store state and watermark. A source error leaves the watermark where it was:
    the next poll reads the same changes again."""
    raw = await feed.changes()
    site = site or sources.ids.default
    batch = _at_site(raw, sources.ids, site)
    covered = set(systems)
    pending = _Pending(feed.name, batch, memory, site)
    if not batch.empty:
        await asyncio.gather(
            _orders(pending, sources, batch.order_ids) if "erp" in covered else _nothing(),
            _shipments(pending, sources, batch.shipment_ids, covered),
            _lots(pending, sources, batch.lot_ids, covered),
        )
    baseline = await memory.get(f"{feed.name}:baseline") is None
    published = []
    if not baseline:
        for event in pending.events:
            published.append(await bus.publish(event))
    await memory.put_many({**pending.seen, f"{feed.name}:baseline": True})
    await feed.commit(raw)
    return published


def _at_site(batch: ChangeBatch, ids: SiteIds, site: str) -> ChangeBatch:
    """The batch with its ids as the graph names ``site``'s records."""
    if site == ids.default:
        return batch

    def q(values: frozenset[str]) -> frozenset[str]:
        return frozenset(ids.qualify(site, v) for v in values)

    stamps = {}
    for key, stamp in batch.stamps.items():
        kind, colon, local = key.partition(":")
        stamps[f"{kind}:{ids.qualify(site, local)}" if colon else key] = stamp
    return dataclasses.replace(
        batch, order_ids=q(batch.order_ids), shipment_ids=q(batch.shipment_ids), lot_ids=q(batch.lot_ids), stamps=stamps
    )


async def _nothing() -> None:
    return None


async def _orders(p: _Pending, sources: Sources, ids: frozenset[str]) -> None:
    for order in (await sources.erp.orders(sorted(ids))).values():
        state = {"status": order.status.value, "credit_block": order.credit_block}
        changed, _ = await p.compare(f"order:{order.id}", state)
        if changed:
            payload = {**state, "delivery_block": order.delivery_block, "customer_id": order.customer_id}
            p.emit("OrderStatusChanged", "erp", f"order:{order.id}", BusinessKeys(order_ids=(order.id,)), payload)


async def _shipments(p: _Pending, sources: Sources, ids: frozenset[str], covered: set[str]) -> None:
    if not ids:
        return
    wanted = sorted(ids)
    if "erp" in covered:
        for s in (await sources.erp.shipments(wanted)).values():
            changed, previous = await p.compare(f"shipment:{s.id}", s.status.value)
            if changed:
                keys = BusinessKeys(shipment_ids=(s.id,), order_ids=(s.order_id,) if s.order_id else ())
                shipped = s.shipped_at.isoformat() if s.shipped_at else None
                payload = {"status": s.status.value, "previous_status": previous, "shipped_at": shipped}
                p.emit("ShipmentStatusChanged", "erp", f"shipment:{s.id}", keys, payload)
    if "wms" in covered:
        for progress in (await sources.wms.shipments(wanted)).values():
            changed, previous = await p.compare(f"stage:{progress.shipment_id}", progress.stage.value)
            if changed:
                lots = tuple(dict.fromkeys(a.lot_id for a in progress.allocations))
                keys = BusinessKeys(shipment_ids=(progress.shipment_id,), lot_ids=lots)
                payload = {"stage": progress.stage.value, "previous_stage": previous}
                p.emit("AllocationChanged", "wms", f"shipment:{progress.shipment_id}", keys, payload)


async def _lots(p: _Pending, sources: Sources, ids: frozenset[str], covered: set[str]) -> None:
    if not ids:
        return
    wanted = sorted(ids)
    if "qms" in covered:
        qualities, holds, deviations = await asyncio.gather(
            sources.qms.lots(wanted), sources.qms.holds_by_lot(wanted), sources.qms.deviations_by_lot(wanted)
        )
        for lot_id, q in qualities.items():
            changed, previous = await p.compare(f"disposition:{lot_id}", q.disposition.value)
            if changed:
                payload = {"disposition": q.disposition.value, "previous_disposition": previous, "decided_by": None}
                p.emit("LotDispositionChanged", "qms", f"lot:{lot_id}", BusinessKeys(lot_ids=(lot_id,)), payload)
        for hold in (h for hs in holds.values() for h in hs):
            changed, _ = await p.compare(f"hold:{hold.id}", hold.status.value)
            if changed:
                kind = "HoldPlaced" if hold.status.value == "ACTIVE" else "HoldReleased"
                keys = BusinessKeys(lot_ids=(hold.lot_id,))
                p.emit(kind, "qms", f"lot:{hold.lot_id}", keys, hold_to_dict(hold))
        for d in (d for ds in deviations.values() for d in ds):
            changed, _ = await p.compare(f"deviation:{d.id}", d.status.value)
            if changed:
                kind = "DeviationOpened" if d.status.value == "OPEN" else "DeviationClosed"
                payload = {"id": d.id, "lot_id": d.lot_id, "status": d.status.value, "title": d.title}
                p.emit(kind, "qms", f"deviation:{d.id}:{d.status.value}", BusinessKeys(lot_ids=(d.lot_id,)), payload)
    if "wms" in covered:
        stock = await sources.wms.stock_by_lot(wanted)
        for lot_id in wanted:
            records = stock.get(lot_id, [])
            blocked = any(s.status is StockStatus.BLOCKED for s in records)
            status = (StockStatus.BLOCKED if blocked else StockStatus.UNRESTRICTED).value
            changed, _ = await p.compare(f"stock:{lot_id}", status)
            if changed:
                payload = {"status": status, "locations": sorted({s.location for s in records})}
                p.emit("StockStatusChanged", "wms", f"lot:{lot_id}", BusinessKeys(lot_ids=(lot_id,)), payload)


async def run_poller(
    feed: ChangeFeed,
    systems: Iterable[str],
    sources: Sources,
    bus: EventBus,
    memory: Memory,
    *,
    every: float,
    site: str | None = None,
) -> None:
    """Poll forever (until cancelled), every ``every`` seconds; a failing poll is logged and tried again."""
    covered = tuple(systems)
    while True:
        try:
            await poll_once(feed, covered, sources, bus, memory, site)
        except SourceError as exc:
            log.warning("change poll failed; will retry", extra={"feed": feed.name, "error": exc.message})
        except Exception:  # a poller must outlive one bad poll: it is logged, and the watermark stays where it was
            log.exception("change poll failed unexpectedly; will retry", extra={"feed": feed.name})
        await asyncio.sleep(every)
