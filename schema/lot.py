"""Lots and what the QMS and WMS know of them: disposition, holds, deviations, certificate, stock."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import custody as custody_resolvers
from resolvers import lots as lot_resolvers
from resolvers.genealogy import trace as trace_resolvers
from resolvers.genealogy.model import TraceDirection
from resolvers.lots import LotRef
from resolvers.sites import site_of
from schema.custody import Aggregation, Containment, CustodyEvent
from schema.enums import DeviationStatus, HoldStatus, LotDisposition, LotKind, Severity, StockStatus
from schema.info import Info
from schema.master import Product
from schema.planning import Maybe, planned
from schema.sites import SITE_HELP
from sources import records

if TYPE_CHECKING:
    from schema.genealogy import GenealogyLink


@strawberry.type(description="A certificate of analysis on file in the QMS.")
class CertificateOfAnalysis:
    id: strawberry.ID
    issued_at: datetime | None

    @classmethod
    def of(cls, quality: records.QualityLot | None) -> CertificateOfAnalysis | None:
        if quality is None or quality.coa is None:
            return None
        return cls(id=strawberry.ID(quality.coa.id), issued_at=quality.coa.issued_at)


@strawberry.type(description="A quality hold on a lot, as recorded in the QMS (the system of record).")
class Hold:
    id: strawberry.ID
    lot_id: strawberry.ID
    status: HoldStatus
    reason_code: str = strawberry.field(description="The QMS's reason code.")
    comment: str | None
    placed_by: str | None
    placed_at: datetime | None
    released_by: str | None
    released_at: datetime | None
    release_comment: str | None
    correlation_id: str | None = strawberry.field(description="Correlation id of the request that placed it.")

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @strawberry.field(description="The lot on hold.")
    async def lot(self, info: Info) -> Lot:
        (ref,) = await lot_resolvers.lot_refs(info.context, [self.lot_id])
        return Lot.of(ref)

    @classmethod
    def of(cls, h: records.Hold) -> Hold:
        return cls(
            id=strawberry.ID(h.id),
            lot_id=strawberry.ID(h.lot_id),
            status=h.status,
            reason_code=h.reason_code,
            comment=h.comment,
            placed_by=h.placed_by,
            placed_at=h.placed_at,
            released_by=h.released_by,
            released_at=h.released_at,
            release_comment=h.release_comment,
            correlation_id=h.correlation_id,
        )


@strawberry.type(description="A quality deviation (nonconformance) recorded against a lot in the QMS.")
class Deviation:
    id: strawberry.ID
    status: DeviationStatus
    severity: Severity
    title: str
    opened_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, d: records.Deviation) -> Deviation:
        return cls(
            id=strawberry.ID(d.id),
            status=d.status,
            severity=d.severity,
            title=d.title,
            opened_at=d.opened_at,
            closed_at=d.closed_at,
        )


@strawberry.type(description="Stock of a lot at one location with one status, from the WMS.")
class StockRecord:
    location: str
    quantity: float
    uom: str
    status: StockStatus
    status_since: datetime | None

    @classmethod
    def of(cls, s: records.Stock) -> StockRecord:
        return cls(location=s.location, quantity=s.quantity, uom=s.uom, status=s.status, status_since=s.status_since)


@strawberry.federation.type(
    keys=["id"],
    description="A lot (batch). Master data comes from the MES, disposition, holds, deviations and certificate from "
    "the QMS, stock from the WMS. A field whose source cannot answer is null, with an error naming the source; "
    "the other fields still answer.",
)
class Lot:
    id: strawberry.ID
    ref: strawberry.Private[LotRef]

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @classmethod
    def of(cls, ref: LotRef) -> Lot:
        return cls(id=strawberry.ID(ref.id), ref=ref)

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID, info: Info) -> Lot | None:
        """A federation entity; batched with the other representations through the per-operation loader."""
        ref = await lot_resolvers.lot(info.context, id)
        return cls.of(ref) if ref else None

    def _master(self) -> records.Lot | None:
        if self.ref.error is not None:
            raise self.ref.error
        return self.ref.record

    @strawberry.field(description="Raw material, intermediate or finished good (MES). Null when the MES has no record.")
    def kind(self) -> LotKind | None:
        master = self._master()
        return master.kind if master else None

    @strawberry.field(description="Quantity produced or received (MES).")
    def quantity(self) -> float | None:
        master = self._master()
        return master.quantity if master else None

    @strawberry.field(description="Unit of measure of the quantity (MES).")
    def uom(self) -> str | None:
        master = self._master()
        return master.uom if master else None

    @strawberry.field(description="When the lot was produced or received (MES).")
    def produced_at(self) -> datetime | None:
        master = self._master()
        return master.produced_at if master else None

    @strawberry.field(description="Plant that made or received the lot (MES).")
    def plant(self) -> str | None:
        master = self._master()
        return master.plant if master else None

    @strawberry.field(description="Work order that produced the lot; null for received raw material (MES).")
    def work_order(self) -> str | None:
        master = self._master()
        return master.work_order_id if master else None

    @strawberry.field(description="Supplier of a raw-material lot (MES).")
    def supplier(self) -> str | None:
        master = self._master()
        return master.supplier if master else None

    @strawberry.field(description="GTIN-14 of the lot's product (MES), when the MES knows it.")
    def gtin(self) -> str | None:
        master = self._master()
        return master.gtin if master else None

    @strawberry.field(
        description="The lot as an EPC class: `urn:epc:class:lgtin:<company prefix>.<item ref>.<lot>` when its GTIN "
        "is known; the lot's id when that is an EPC class already (a lot read from EPCIS); else null. Any lot "
        "argument accepts it."
    )
    def epc_class(self, info: Info) -> str | None:
        master = self._master()
        length = info.context.config.gs1_company_prefix_length
        return lot_resolvers.epc_class(self.ref.id, master.gtin if master else None, length)

    @strawberry.field(
        description="The lot as a GS1 Digital Link URI (`https://id.gs1.org/01/<GTIN>/10/<lot>`) when its GTIN is "
        "known. Any lot argument accepts it, on any resolver host."
    )
    def digital_link(self, info: Info) -> str | None:
        master = self._master()
        return lot_resolvers.digital_link(
            self.ref.id, master.gtin if master else None, info.context.config.gs1_resolver
        )

    @strawberry.field(description="The product of the lot (MES record, ERP product).")
    async def product(self, info: Info) -> Product | None:
        master = self._master()
        if master is None:
            return None
        product = await info.context.loaders.products.load(master.product_id)
        return Product.of(product) if product else None

    @strawberry.field(
        description="Usage decision in the QMS. Null when the QMS has no record of the lot.",
        graphql_type=LotDisposition | None,
    )
    def disposition(self, info: Info) -> Maybe[LotDisposition | None]:
        return planned(info, self.ref, lambda found: found[0].disposition if found[0] else None)

    @strawberry.field(description="When the QMS last changed the disposition.", graphql_type=datetime | None)
    def disposition_at(self, info: Info) -> Maybe[datetime | None]:
        return planned(info, self.ref, lambda found: found[0].disposition_at if found[0] else None)

    @strawberry.field(description="Expiry (or retest) date in the QMS.", graphql_type=date | None)
    def expiry_date(self, info: Info) -> Maybe[date | None]:
        return planned(info, self.ref, lambda found: found[0].expiry_date if found[0] else None)

    @strawberry.field(
        description="Certificate of analysis on file in the QMS, if any.", graphql_type=CertificateOfAnalysis | None
    )
    def certificate_of_analysis(self, info: Info) -> Maybe[CertificateOfAnalysis | None]:
        return planned(info, self.ref, lambda found: CertificateOfAnalysis.of(found[0]))

    @strawberry.field(
        description="Quality holds on the lot (QMS), optionally of one status.", graphql_type=list[Hold] | None
    )
    def holds(self, info: Info, status: HoldStatus | None = None) -> Maybe[list[Hold] | None]:
        return planned(info, self.ref, lambda found: [Hold.of(h) for h in found[0] if status in (None, h.status)])

    @strawberry.field(
        description="Deviations recorded against the lot (QMS), optionally of one status.",
        graphql_type=list[Deviation] | None,
    )
    def deviations(self, info: Info, status: DeviationStatus | None = None) -> Maybe[list[Deviation] | None]:
        return planned(info, self.ref, lambda found: [Deviation.of(d) for d in found[0] if status in (None, d.status)])

    @strawberry.field(
        description="Stock of the lot by location and status (WMS).", graphql_type=list[StockRecord] | None
    )
    def stock(self, info: Info) -> Maybe[list[StockRecord] | None]:
        return planned(info, self.ref, lambda found: [StockRecord.of(s) for s in found[0]])

    @strawberry.field(description="The lots that went into this lot, one level back, with the quantities (MES).")
    async def inputs(self, info: Info) -> list[Annotated[GenealogyLink, strawberry.lazy("schema.genealogy")]] | None:
        from schema.genealogy import GenealogyLink  # schema.genealogy builds on Lot

        links = await trace_resolvers.links(info.context, self.ref.id, TraceDirection.BACKWARD)
        return [GenealogyLink.of(edge, other) for edge, other in links]

    @strawberry.field(description="The lots this lot went into, one level forward, with the quantities (MES).")
    async def outputs(self, info: Info) -> list[Annotated[GenealogyLink, strawberry.lazy("schema.genealogy")]] | None:
        from schema.genealogy import GenealogyLink  # schema.genealogy builds on Lot

        links = await trace_resolvers.links(info.context, self.ref.id, TraceDirection.FORWARD)
        return [GenealogyLink.of(edge, other) for edge, other in links]

    @strawberry.field(
        description="Who held the lot where, when: its shipping and receiving events, oldest first, naming the lot "
        "or a container it was packed in (MES: EPCIS events, or Tryton's shipment moves)."
    )
    async def custody(self, info: Info) -> list[CustodyEvent] | None:
        return [CustodyEvent.of(e) for e in await custody_resolvers.custody(info.context, self.ref.id)]

    @strawberry.field(
        description="What the lot was packed in (SSCC pallets and cases) and what it contains (MES, from EPCIS "
        "aggregation events). Null with NOT_SUPPORTED_BY_SOURCE when the MES keeps no containers."
    )
    async def containment(self, info: Info) -> Containment | None:
        packed_in, contains = await custody_resolvers.containment(info.context, self.ref.id)
        return Containment(
            packed_in=[Aggregation.of(a) for a in packed_in], contains=[Aggregation.of(a) for a in contains]
        )
