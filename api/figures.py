"""Figures for ``/metrics`` that live elsewhere, sampled before a scrape (``Metrics.watch``).

- Holds, from the systems of record through the source adapters: active holds (the QMS's count), the age of the
  oldest one, and the BLOCKED stock of the lots they are on (the WMS contract has no search by stock status, so
  blocked stock is read for the lots under an active hold). Paged at the contract's limit, at most ``MAX_PAGES``.
- Pending actions and dead letters, from the durable stores, by status (counted up to ``STORE_LIMIT`` each).
- Open shipments (PLANNED, IN_PROGRESS) by readiness, decided fresh as ``shipmentsReadiness`` does, in batches
  of ``PAGE`` (at most ``PAGE * MAX_PAGES`` shipments).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from api.metrics import Metrics
from resolvers.holds.model import ActionStatus
from resolvers.readiness.service import decide
from sources.bundle import Sources
from sources.deadletters import DeadLetterStatus, DeadLetterStore
from sources.records import Hold, HoldStatus, ShipmentFilter, ShipmentStatus, StockStatus, WarehouseStage
from sources.store import ActionQuery, Store

PAGE = 500
MAX_PAGES = 20
STORE_LIMIT = 10_000


def watch_holds(
    metrics: Metrics, sources: Sources, *, interval: float, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    async def sample() -> None:
        holds, total = await active_holds(sources)
        placed = [h.placed_at for h in holds if h.placed_at is not None]
        stock = await sources.wms.stock_by_lot({h.lot_id for h in holds})
        blocked: dict[str, float] = {}
        for records in stock.values():
            for s in records:
                if s.status is StockStatus.BLOCKED:
                    blocked[s.uom] = blocked.get(s.uom, 0.0) + s.quantity
        metrics.active_holds.set(total)
        metrics.oldest_active_hold_age.set(max(0.0, (now() - min(placed)).total_seconds()) if placed else 0.0)
        metrics.blocked_stock.clear()
        for uom, quantity in blocked.items():
            metrics.blocked_stock.labels(uom).set(quantity)

    metrics.watch("holds", sample, interval=interval)


async def active_holds(sources: Sources) -> tuple[list[Hold], int]:
    """The active holds (at most ``PAGE * MAX_PAGES``) and how many there are in all."""
    holds: list[Hold] = []
    after: str | None = None
    total = 0
    for _ in range(MAX_PAGES):
        page = await sources.qms.search_holds(
            status=HoldStatus.ACTIVE, lot_id=None, reason_code=None, limit=PAGE, after=after
        )
        total = max(total, page.total)
        holds.extend(page.items)
        if not page.has_more or not page.items:
            break
        after = page.items[-1].id
    return holds, total


AGE_BANDS = ((60.0, "<1m"), (3600.0, "1m-1h"), (86400.0, "1h-1d"), (float("inf"), ">1d"))
OPEN = (ActionStatus.PENDING.value, ActionStatus.FAILED.value)


def action_ages(created: list[tuple[str, float]], now: float) -> tuple[dict[str, float], dict[tuple[str, str], int]]:
    """From (status, created_at) of open actions: the oldest age per status, and counts per (status, age band)."""
    oldest = dict.fromkeys(OPEN, 0.0)
    bands = {(status, band): 0 for status in OPEN for _, band in AGE_BANDS}
    for status, at in created:
        age = max(0.0, now - at)
        oldest[status] = max(oldest.get(status, 0.0), age)
        band = next(name for limit, name in AGE_BANDS if age < limit)
        bands[(status, band)] = bands.get((status, band), 0) + 1
    return oldest, bands


def watch_store(metrics: Metrics, store: Store, dead_letters: DeadLetterStore, *, interval: float) -> None:
    async def actions() -> dict[str, int]:
        found = await store.actions(ActionQuery(statuses=OPEN, limit=STORE_LIMIT))
        oldest, bands = action_ages([(row.status, row.created_at) for row in found], datetime.now(UTC).timestamp())
        for status, age in oldest.items():
            metrics.pending_action_age.labels(status).set(age)
        for (status, band), count in bands.items():
            metrics.pending_actions_by_age.labels(status, band).set(count)
        return {status: await store.count_actions(ActionQuery(statuses=(status,))) for status in OPEN}

    async def letters() -> dict[str, int]:
        counts = {}
        for status in DeadLetterStatus:
            found = await dead_letters.list(status=status, source=None, first=STORE_LIMIT, after=None)
            counts[status.value] = len(found)
        return counts

    metrics.watch_counts(metrics.pending_actions, actions, name="pending_actions", interval=interval, known=OPEN)
    metrics.watch_counts(metrics.dead_letters, letters, name="dead_letters", interval=interval)


def watch_readiness(metrics: Metrics, sources: Sources, stage: WarehouseStage, *, interval: float) -> None:
    open_shipments = ShipmentFilter(statuses=[ShipmentStatus.PLANNED, ShipmentStatus.IN_PROGRESS])

    async def count() -> dict[str, int]:
        counts: dict[str, int] = {}
        after: str | None = None
        for _ in range(MAX_PAGES):
            page = await sources.erp.search_shipments(open_shipments, limit=PAGE, after=after)
            for decided in await decide(sources, stage, [s.id for s in page.items]):
                counts[decided.status.value] = counts.get(decided.status.value, 0) + 1
            if not page.has_more or not page.items:
                break
            after = page.items[-1].id
        return counts

    metrics.watch_open_shipments(count, interval=interval)
