"""Custody (who held a lot where, when) and containment (what it was packed in), from the MES's EPCIS events."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import custody as found


@strawberry.type(
    description="A lot changing hands or place: an EPCIS `shipping` or `receiving` event that names the lot, or "
    "names a container (an SSCC pallet) the lot was packed in at the time. Parties and places are GS1 GLNs "
    "(`urn:epc:id:pgln:…`, `urn:epc:id:sgln:…`) where the source has them, its own URIs otherwise."
)
class CustodyEvent:
    event_id: str | None = strawberry.field(description="The EPCIS eventID.")
    at: datetime = strawberry.field(description="When it happened (eventTime).")
    biz_step: str = strawberry.field(description="`shipping` or `receiving` (CBV business step).")
    disposition: str | None = strawberry.field(description="CBV disposition after the event (`in_transit` …).")
    from_party: str | None = strawberry.field(description="The owning (else possessing) party it came from.")
    from_location: str | None = strawberry.field(description="The place it came from (source of type location).")
    to_party: str | None = strawberry.field(description="The owning (else possessing) party it went to.")
    to_location: str | None = strawberry.field(description="The place it went to (destination of type location).")
    biz_location: str | None = strawberry.field(description="Where the event left it (bizLocation).")
    read_point: str | None = strawberry.field(description="Where the event was seen (readPoint).")
    container: str | None = strawberry.field(
        description="The container the event names, when the lot travelled in it; null when the event names the lot."
    )
    sscc: str | None = strawberry.field(description="The container's SSCC (18 digits), when it is a valid SSCC.")
    quantity: float | None = strawberry.field(description="Quantity of the lot (shipped, received or packed).")
    uom: str | None
    reference_type: str | None = strawberry.field(
        description="The CBV type of the event's first business transaction (`desadv`, `po` …)."
    )
    reference: str | None = strawberry.field(description="That business transaction's id.")

    @classmethod
    def of(cls, e: found.CustodyEvent) -> CustodyEvent:
        return cls(
            event_id=e.event_id,
            at=e.at,
            biz_step=e.biz_step,
            disposition=e.disposition,
            from_party=e.from_party,
            from_location=e.from_location,
            to_party=e.to_party,
            to_location=e.to_location,
            biz_location=e.biz_location,
            read_point=e.read_point,
            container=e.container,
            sscc=found.sscc(e.container),
            quantity=e.quantity,
            uom=e.uom,
            reference_type=e.reference_type,
            reference=e.reference,
        )


@strawberry.type(description="One child of an aggregation: a lot (its id) or an instance EPC, and the quantity.")
class PackedItem:
    id: str = strawberry.field(description="A lot id (any lot argument accepts it) or an EPC.")
    quantity: float | None
    uom: str | None

    @classmethod
    def of(cls, c: found.Contained) -> PackedItem:
        return cls(id=c.id, quantity=c.quantity, uom=c.uom)


@strawberry.type(
    description="An EPCIS AggregationEvent: children packed into (`ADD`), seen in (`OBSERVE`) or taken out of "
    "(`DELETE`) a parent container. A `DELETE` without children empties the container."
)
class Aggregation:
    event_id: str | None = strawberry.field(description="The EPCIS eventID.")
    at: datetime = strawberry.field(description="When it happened (eventTime).")
    action: str = strawberry.field(description="`ADD`, `OBSERVE` or `DELETE`.")
    biz_step: str | None = strawberry.field(description="CBV business step (`packing`, `unpacking` …).")
    parent_id: str = strawberry.field(description="The container (parentID), e.g. an SSCC URN.")
    sscc: str | None = strawberry.field(description="The container's SSCC (18 digits), when it is a valid SSCC.")
    biz_location: str | None
    read_point: str | None
    children: list[PackedItem] = strawberry.field(description="What the event puts in or takes out.")

    @classmethod
    def of(cls, a: found.Aggregation) -> Aggregation:
        return cls(
            event_id=a.event_id,
            at=a.at,
            action=a.action,
            biz_step=a.biz_step,
            parent_id=a.parent_id,
            sscc=found.sscc(a.parent_id),
            biz_location=a.biz_location,
            read_point=a.read_point,
            children=[PackedItem.of(c) for c in a.children],
        )


@strawberry.type(description="What a lot was packed in, and what it contains when it is a container itself.")
class Containment:
    packed_in: list[Aggregation] = strawberry.field(
        description="Aggregations with the lot among the children, and the unpacking of those containers, oldest "
        "first: each one's `children` are everything it packed (the pallet's other lots too)."
    )
    contains: list[Aggregation] = strawberry.field(description="Aggregations with the lot as the parent.")
