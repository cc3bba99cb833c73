"""Custody and containment in the exports: the MES's shipping, receiving and aggregation events of a trace's lots.

- EPCIS: each custody event once (several lots may share it: a pallet shipped), an ObjectEvent ``OBSERVE`` naming
  the containers it named (``epcList``) and the lots it named (``quantityList``), with its business step,
  disposition, places, parties and business transaction; each aggregation event once, an AggregationEvent with
  its parent and children. Events keep the eventID the source gave them.
- FSMA 204: a Shipping or Receiving row per custody event and lot, with the parties (Ship From, Ship To).

A custody event that is a delivery the ERP already gives (its business transaction the delivery's id, or
``urn:lotgraph:shipment:<id>``; shipped) is left out: the export writes that delivery once, from the ERP. So is a
receiving of a lot whose own row is Receiving (a lot with a supplier).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from resolvers.traceability.export_meta import stamp
from resolvers.traceability.trace_records import TraceRecords
from sources import units
from sources.custody import Aggregation, CustodyEvent
from sources.records import ShipmentStatus

SHIPMENT = "urn:lotgraph:shipment:"


def _covered(records: TraceRecords) -> set[str]:
    shipped = [s.id for s in records.shipments if s.status is ShipmentStatus.SHIPPED]
    return {*shipped, *(SHIPMENT + s for s in shipped)}


def moves(records: TraceRecords) -> Iterator[CustodyEvent]:
    """The custody events of the trace's lots, by lot in the trace's order, but those the export writes otherwise."""
    covered = _covered(records)
    for lot_id in records.trace.lot_ids:
        found = records.custody.get(lot_id)
        lot = records.masters.get(lot_id)
        for move in found.moves if found else ():
            if move.reference in covered:
                continue
            if move.biz_step == "receiving" and lot is not None and lot.supplier and move.container is None:
                continue
            yield move


def place_element(value: str | None) -> dict[str, str] | None:
    """An EPCIS place (readPoint, bizLocation, source or destination) of a plant location or an SGLN."""
    return {"id": value if ":" in value else f"urn:lotgraph:location:{value}"} if value else None


def _parties(party: str | None, place: str | None, field: str) -> list[dict[str, str]]:
    found = [("owning_party", party), ("location", place)]
    return [{"type": kind, field: value} for kind, value in found if value]


def move_event(shared: list[CustodyEvent], name: Callable[[str], str]) -> dict[str, Any]:
    first = shared[0]
    event: dict[str, Any] = {"type": "ObjectEvent", "eventTime": stamp(first.at), "eventTimeZoneOffset": "+00:00"}
    if first.event_id:
        event["eventID"] = first.event_id
    containers = sorted({m.container for m in shared if m.container})
    if containers:
        event["epcList"] = containers
    direct = [m for m in shared if m.container is None]
    if direct:
        event["quantityList"] = [quantity_element(name(m.lot_id), m.quantity, m.uom) for m in direct]
    event.update({"action": "OBSERVE", "bizStep": first.biz_step})
    if first.disposition:
        event["disposition"] = first.disposition
    for key, value in (("readPoint", first.read_point), ("bizLocation", first.biz_location)):
        if place_element(value):
            event[key] = place_element(value)
    if first.reference:
        event["bizTransactionList"] = [{"type": first.reference_type or "desadv", "bizTransaction": first.reference}]
    if sources := _parties(first.from_party, first.from_location, "source"):
        event["sourceList"] = sources
    if destinations := _parties(first.to_party, first.to_location, "destination"):
        event["destinationList"] = destinations
    return event


def aggregation_event(found: Aggregation, name: Callable[[str], str]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "AggregationEvent", "eventTime": stamp(found.at), "eventTimeZoneOffset": "+00:00"}
    if found.event_id:
        event["eventID"] = found.event_id
    event["parentID"] = found.parent_id
    instances = [c.id for c in found.children if c.id.startswith("urn:epc:id:")]
    classes = [c for c in found.children if not c.id.startswith("urn:epc:id:")]
    if instances:
        event["childEPCs"] = instances
    if classes:
        event["childQuantityList"] = [quantity_element(name(c.id), c.quantity, c.uom) for c in classes]
    event["action"] = found.action
    if found.biz_step:
        event["bizStep"] = found.biz_step
    for key, value in (("readPoint", found.read_point), ("bizLocation", found.biz_location)):
        if place_element(value):
            event[key] = place_element(value)
    return event


def quantity_element(epc: str, amount: float | None, uom: str | None) -> dict[str, Any]:
    """An EPCIS quantity element of a lot class, its unit as a UN/CEFACT code."""
    element: dict[str, Any] = {"epcClass": epc}
    if amount is not None:
        element["quantity"] = amount
        if uom:
            element["uom"] = units.code_of(uom)
    return element


def epcis_events(records: TraceRecords, name: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    """The custody events (each once, with every lot of the trace it concerns), then the aggregation events."""
    shared: dict[str, list[CustodyEvent]] = {}
    for move in moves(records):
        shared.setdefault(move.event_id or f"{move.lot_id}@{move.at.isoformat()}", []).append(move)
    for group in shared.values():
        yield move_event(group, name)
    seen: set[str] = set()
    for lot_id in records.trace.lot_ids:
        found = records.custody.get(lot_id)
        for aggregation in found.aggregations if found else ():
            key = aggregation.event_id or f"{aggregation.parent_id}@{aggregation.at.isoformat()}"
            if key not in seen:
                seen.add(key)
                yield aggregation_event(aggregation, name)


def fsma_rows(records: TraceRecords, description: Callable[[str], str]) -> Iterator[list[Any]]:
    """A Shipping or Receiving row per custody event and lot (the columns of ``resolvers.traceability.fsma``)."""
    for move in moves(records):
        lot = records.masters.get(move.lot_id)
        shipping = move.biz_step == "shipping"
        place = (move.from_location if shipping else move.to_location) or move.biz_location or ""
        yield [
            move.lot_id,
            (lot.supplier or lot.plant or "") if lot else "",
            (lot.gtin or "") if lot else "",
            description(move.lot_id),
            move.quantity if move.quantity is not None else "",
            move.uom or "",
            place,
            stamp(move.at),
            "Shipping" if shipping else "Receiving",
            move.reference_type or "",
            move.reference or "",
            "",
            "",
            move.to_party or move.to_location or "",
            move.from_party or move.from_location or "",
        ]
