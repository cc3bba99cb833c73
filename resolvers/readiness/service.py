"""Readiness of shipments: fetch fresh records from ERP, QMS and WMS in two parallel steps, then decide.

Step 1 asks the ERP for the shipments with their orders, customers and products (one expanded read) and, at the
same time, the WMS for their warehouse progress (it needs only the shipment ids). Step 2, once the lots are known,
asks the QMS for the lots' quality status: disposition, active holds and open deviations in one read. That is three
upstream calls per decision, whatever the number of shipments (chunked at the batch limit), and two round trips on
the critical path; systems without the combined reads answer them from their single reads (sources/combined.py).
Nothing here is read from a cache: a decision always stands on fresh data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
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
from sources.combined import LotQuality
from sources.errors import SourceError
from sources.records import Deviation, Hold, QualityLot, WarehouseStage

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


def _loader(loaders: Loaders) -> Loader[Readiness | None]:
    """Every shipment an operation asks about is decided in one batch."""

    async def fetch(shipment_ids: list[str]) -> dict[str, Readiness | None]:
        # decided per site (docs/sites.md): a site that cannot answer leaves the others' decisions alone
        by_site = [list(ids.values()) for ids in loaders.sources.ids.by_site(shipment_ids).values()]
        stage = loaders.config.readiness_stage
        decided = await asyncio.gather(*(decide(loaders.sources, stage, ids) for ids in by_site))
        return {r.shipment_id: r for batch in decided for r in batch}

    return Loader(fetch, None)


READINESS = LoaderKind(_loader)


async def readiness_of(ctx: Context, shipment_ids: Sequence[str]) -> list[Readiness]:
    """The readiness of each shipment, in the order asked, through this operation's loaders."""
    decided = await ctx.loaders.of(READINESS).load_many(list(shipment_ids))
    return [r for r in decided if r is not None]


async def decide(sources: Sources, stage: WarehouseStage, shipment_ids: Sequence[str]) -> list[Readiness]:
    """Decide for ``shipment_ids``: three calls on systems that have the combined reads (sources/combined.py)."""
    ids = list(dict.fromkeys(shipment_ids))
    seen = _Observer()
    expanded, progress = await asyncio.gather(
        seen.call("erp", sources.erp.shipments_expanded(ids)), seen.call("wms", sources.wms.shipments(ids))
    )
    found = {} if isinstance(expanded, SourceError) else expanded
    lot_ids = list(dict.fromkeys(lot for x in found.values() for lot in x.shipment.lot_ids))
    status_of_lots = await seen.call("qms", sources.qms.quality_status(lot_ids))
    quality, holds, deviations = _quality_inputs(status_of_lots)
    evaluated_at = datetime.now(UTC)
    observations = seen.observations()
    results = []
    for shipment_id in ids:
        x = found.get(shipment_id)
        if x is None:
            missing = expanded if isinstance(expanded, SourceError) else None
            status, blockers, checks = _without_shipment(shipment_id, missing)
        else:
            in_warehouse = _pick(progress, shipment_id)
            decision = evaluate(
                ReadinessInputs(
                    shipment=x.shipment,
                    order=x.order,
                    products={p.id: p for p in x.products},
                    customer=x.customer,
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


def _quality_inputs(
    found: Fetched[dict[str, LotQuality]],
) -> tuple[Fetched[dict[str, QualityLot]], Fetched[dict[str, list[Hold]]], Fetched[dict[str, list[Deviation]]]]:
    """The rules' three QMS inputs from one quality-status answer (each the error when it failed)."""
    if isinstance(found, SourceError):
        return found, found, found
    quality = {lot: q.quality for lot, q in found.items() if q.quality is not None}
    holds = {lot: list(q.active_holds) for lot, q in found.items()}
    return quality, holds, {lot: list(q.open_deviations) for lot, q in found.items()}


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
