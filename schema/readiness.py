"""Shipment readiness: the one governed answer to "can this shipment go?", with its reasons."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from resolvers.errors import InputError
from resolvers.paging import MAX_IDS
from resolvers.readiness import model as rules
from resolvers.readiness.model import Observation, Readiness
from resolvers.readiness.service import readiness_of
from schema.enums import WarehouseStage
from schema.info import Info

strawberry.enum(
    rules.ReadinessStatus,
    description="READY only when every check ran on fresh data and passed; UNKNOWN when a source needed for a "
    "check could not answer (never READY then); NOT_READY otherwise.",
)
strawberry.enum(rules.CheckStatus, description="PASSED, FAILED, or NOT_RUN because its source could not answer.")
strawberry.enum(rules.BlockerCode, description="Why a shipment cannot go.")

ReadinessStatus: TypeAlias = rules.ReadinessStatus
CheckStatus: TypeAlias = rules.CheckStatus
BlockerCode: TypeAlias = rules.BlockerCode


@strawberry.type(description="One reason a shipment cannot go, with what it concerns.")
class ReadinessBlocker:
    code: BlockerCode
    source: str = strawberry.field(description="The system that reported it: erp, qms or wms.")
    message: str = strawberry.field(description="For a person: what is wrong.")
    lot_id: strawberry.ID | None
    order_id: strawberry.ID | None
    line_no: int | None
    since: datetime | None = strawberry.field(description="Since when, where the source knows.")


@strawberry.type(description="One rule of readiness and how it went.")
class ReadinessCheck:
    name: str
    source: str
    status: CheckStatus
    detail: str


@strawberry.type(description="What one source contributed to the decision.")
class SourceObservation:
    source: str
    fetched_at: datetime | None = strawberry.field(description="When its last answer arrived.")
    latency_ms: float | None = strawberry.field(description="Its slowest call for this decision, in milliseconds.")
    from_cache: bool = strawberry.field(description="Always false: readiness reads fresh data.")
    ok: bool
    error: str | None


@strawberry.type(description="Whether a shipment is ready to ship, and why not.")
class ShipmentReadiness:
    shipment_id: strawberry.ID
    status: ReadinessStatus
    ready: bool
    blockers: list[ReadinessBlocker] = strawberry.field(description="Every blocker, not only the first.")
    checks: list[ReadinessCheck]
    evaluated_at: datetime
    required_stage: WarehouseStage = strawberry.field(description="Warehouse stage the shipment must have reached.")
    observations: list[SourceObservation]

    @classmethod
    def of(cls, r: Readiness) -> ShipmentReadiness:
        return cls(
            shipment_id=strawberry.ID(r.shipment_id),
            status=r.status,
            ready=r.ready,
            blockers=[
                ReadinessBlocker(
                    code=b.code,
                    source=b.source,
                    message=b.message,
                    lot_id=strawberry.ID(b.lot_id) if b.lot_id else None,
                    order_id=strawberry.ID(b.order_id) if b.order_id else None,
                    line_no=b.line_no,
                    since=b.since,
                )
                for b in r.blockers
            ],
            checks=[ReadinessCheck(name=c.name, source=c.source, status=c.status, detail=c.detail) for c in r.checks],
            evaluated_at=r.evaluated_at,
            required_stage=r.required_stage,
            observations=[_observation(o) for o in r.observations],
        )


def _observation(o: Observation) -> SourceObservation:
    return SourceObservation(
        source=o.source,
        fetched_at=o.fetched_at,
        latency_ms=o.latency_ms,
        from_cache=o.from_cache,
        ok=o.ok,
        error=o.error,
    )


async def load_readiness(info: Info, shipment_ids: list[str]) -> list[ShipmentReadiness]:
    return [ShipmentReadiness.of(r) for r in await readiness_of(info.context, shipment_ids)]


@strawberry.type
class ReadinessQuery:
    @strawberry.field(description="Can this shipment go? One fail-closed decision over ERP, QMS and WMS.")
    async def shipment_readiness(self, info: Info, shipment_id: strawberry.ID) -> ShipmentReadiness:
        (decided,) = await load_readiness(info, [shipment_id])
        return decided

    @strawberry.field(description="Readiness of up to 500 shipments, in the order asked, decided in one batch.")
    async def shipments_readiness(self, info: Info, shipment_ids: list[strawberry.ID]) -> list[ShipmentReadiness]:
        if len(shipment_ids) > MAX_IDS:
            raise InputError(f"shipmentIds: at most {MAX_IDS} ids per request, got {len(shipment_ids)}")
        return await load_readiness(info, list(dict.fromkeys(shipment_ids)))
