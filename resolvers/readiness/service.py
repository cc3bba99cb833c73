"""Readiness of shipments: fetch fresh records from ERP, QMS and WMS in two parallel steps, then decide.

Step 1 asks the ERP for the shipments and, at the same time, the WMS for their warehouse progress (it needs only
the shipment ids). Step 2, once the lots are known, asks the ERP for orders, products and customers and the QMS
for quality records, active holds and open deviations, all at once. The critical path is two upstream round
trips, and every call carries every shipment of the request (one request per source and entity kind per step,
chunked at the batch limit). Nothing here is read from a cache: a decision always stands on fresh data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from resolvers.context import Context
from resolvers.loaders import Loader, LoaderKind, Loaders
from resolvers.readiness.model import (
    Blocker,
    BlockerCode,
    Check,
    CheckStatus,
    Fetched,
    Observation,
    Readiness,
    ReadinessInputs,
    ReadinessStatus,
)
from resolvers.readiness.rules import evaluate
from sources.bundle import Sources
from sources.errors import SourceError
from sources.records import DeviationStatus, HoldStatus, Shipment, WarehouseStage

T = TypeVar("T")


class _Observer:
    """Times every call of a decision and keeps one observation per source."""

    def __init__(self) -> None:
        self._calls: dict[str, list[tuple[datetime, float, SourceError | None]]] = {}

    async def call(self, source: str, work: Awaitable[T]) -> Fetched[T]:
        started = time.perf_counter()
        error: SourceError | None = None
        try:
            return await work
        except SourceError as exc:
            error = exc
            return exc
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self._calls.setdefault(source, []).append((datetime.now(UTC), elapsed, error))

    def observations(self) -> list[Observation]:
        result = []
        for source in ("erp", "qms", "wms"):
            calls = self._calls.get(source, [])
            errors = [e for _, _, e in calls if e is not None]
            result.append(
                Observation(
                    source=source,
                    fetched_at=max((at for at, _, _ in calls), default=None),
                    latency_ms=round(max(ms for _, ms, _ in calls), 2) if calls else None,
                    from_cache=False,
                    ok=bool(calls) and not errors,
                    error=errors[0].message if errors else None,
                )
            )
        return result


ShipmentFetch = Callable[[list[str]], Awaitable[dict[str, Shipment]]]


def _loader(loaders: Loaders) -> Loader[Readiness | None]:
    """Every shipment an operation asks about is decided in one batch, over shipments the operation has loaded."""

    async def shipments(ids: list[str]) -> dict[str, Shipment]:
        return {s.id: s for s in await loaders.shipments.load_many(ids) if s is not None}

    async def fetch(shipment_ids: list[str]) -> dict[str, Readiness | None]:
        # decided per site (docs/sites.md): a site that cannot answer leaves the others' decisions alone
        by_site = [list(ids.values()) for ids in loaders.sources.ids.by_site(shipment_ids).values()]
        stage = loaders.config.readiness_stage
        decided = await asyncio.gather(*(decide(loaders.sources, stage, ids, shipments) for ids in by_site))
        return {r.shipment_id: r for batch in decided for r in batch}

    return Loader(fetch, None)


READINESS = LoaderKind(_loader)


async def readiness_of(ctx: Context, shipment_ids: Sequence[str]) -> list[Readiness]:
    """The readiness of each shipment, in the order asked, through this operation's loaders."""
    decided = await ctx.loaders.of(READINESS).load_many(list(shipment_ids))
    return [r for r in decided if r is not None]


async def decide(
    sources: Sources, stage: WarehouseStage, shipment_ids: Sequence[str], fetch_shipments: ShipmentFetch | None = None
) -> list[Readiness]:
    """Decide for ``shipment_ids``. ``fetch_shipments`` (default: the ERP adapter) lets a caller serve shipments
    it already holds; it runs in step 1, beside the WMS call, so the critical path stays two round trips."""
    ids = list(dict.fromkeys(shipment_ids))
    seen = _Observer()
    fetched_shipments, progress = await asyncio.gather(
        seen.call("erp", (fetch_shipments or sources.erp.shipments)(ids)),
        seen.call("wms", sources.wms.shipments(ids)),
    )
    shipments = {} if isinstance(fetched_shipments, SourceError) else fetched_shipments
    open_ = list(shipments.values())
    lot_ids = list(dict.fromkeys(lot for s in open_ for lot in s.lot_ids))

    orders, products, customers, quality, holds, deviations = await asyncio.gather(
        seen.call("erp", sources.erp.orders({s.order_id for s in open_})),
        seen.call("erp", sources.erp.products({line.product_id for s in open_ for line in s.lines}, fresh=True)),
        seen.call("erp", sources.erp.customers({s.customer_id for s in open_}, fresh=True)),
        seen.call("qms", sources.qms.lots(lot_ids)),
        seen.call("qms", sources.qms.holds_by_lot(lot_ids, HoldStatus.ACTIVE)),
        seen.call("qms", sources.qms.deviations_by_lot(lot_ids, DeviationStatus.OPEN)),
    )
    evaluated_at = datetime.now(UTC)
    observations = seen.observations()
    results = []
    for shipment_id in ids:
        shipment = shipments.get(shipment_id)
        if shipment is None:
            missing = fetched_shipments if isinstance(fetched_shipments, SourceError) else None
            status, blockers, checks = _without_shipment(shipment_id, missing)
        else:
            order = _pick(orders, shipment.order_id)
            customer = _pick(customers, shipment.customer_id)
            in_warehouse = _pick(progress, shipment_id)
            decision = evaluate(
                ReadinessInputs(
                    shipment=shipment,
                    order=order,
                    products=products,
                    customer=customer,
                    quality=quality,
                    holds=holds,
                    deviations=deviations,
                    progress=in_warehouse,
                    today=evaluated_at.date(),
                    required_stage=stage,
                )
            )
            status, blockers, checks = decision.status, decision.blockers, decision.checks
        results.append(Readiness(shipment_id, status, blockers, checks, evaluated_at, stage, observations))
    return results


def _pick(found: dict[str, T] | SourceError, key: str) -> T | SourceError | None:
    return found if isinstance(found, SourceError) else found.get(key)


def _without_shipment(
    shipment_id: str, error: SourceError | None
) -> tuple[ReadinessStatus, list[Blocker], list[Check]]:
    """No shipment record: the ERP is down (UNKNOWN, source named) or does not know the id (UNKNOWN, not found)."""
    if error is not None:
        blocker = Blocker(BlockerCode.SOURCE_UNAVAILABLE, error.source, f"{error.message}: readiness cannot be decided")
        return ReadinessStatus.UNKNOWN, [blocker], [Check("shipment_open", "erp", CheckStatus.NOT_RUN, error.message)]
    blocker = Blocker(BlockerCode.SHIPMENT_NOT_FOUND, "erp", f"Shipment {shipment_id} is not in the ERP")
    return ReadinessStatus.UNKNOWN, [blocker], [Check("shipment_open", "erp", CheckStatus.FAILED, blocker.message)]
