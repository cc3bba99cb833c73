"""A trace as an EPCIS 2.0 ``EPCISQueryDocument`` (JSON-LD), written event by event.

The events behind the trace, rebuilt from its records so that any source kind gives the same document:

- each lot of the trace made from inputs: a TransformationEvent (inputs with the quantities consumed, the lot with
  its quantity, the work order as a ``prodorder`` business transaction, the lot number in ILMD);
- each lot made from nothing (raw material): an ObjectEvent ``ADD``, ``commissioning``;
- each shipped delivery carrying lots of the trace: an ObjectEvent ``OBSERVE``, ``shipping``, ``in_transit``, with
  the delivery as a ``desadv`` business transaction and the customer as the owning party at the destination;
- the MES's custody and aggregation events of the trace's lots (``resolvers.traceability.custody_export``).

Lots are named by EPC class (``sources.gs1.epc_class_of``); quantities carry UN/CEFACT unit codes. The document says
when it was asked for and produced and which systems the records came from (``lotgraph:export``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from resolvers.traceability import custody_export
from resolvers.traceability.custody_export import quantity_element
from resolvers.traceability.export_meta import ExportMeta, stamp
from resolvers.traceability.trace_records import TraceRecords
from sources import gs1
from sources.records import Lot, Shipment, ShipmentStatus

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"lotgraph": "urn:lotgraph:epcis:"},
]
CHUNK_BYTES = 64 * 1024


class Namer:
    """EPC classes of the lots of a trace (and of their inputs outside it, named by id)."""

    def __init__(self, records: TraceRecords, company_prefix_length: int) -> None:
        self.masters = records.masters
        self.length = company_prefix_length

    def __call__(self, lot_id: str) -> str:
        master = self.masters.get(lot_id)
        return gs1.epc_class_of(lot_id, master.gtin if master else None, self.length)


def _place(value: str | None) -> dict[str, Any]:
    place = custody_export.place_element(value)
    return {"bizLocation": place} if place else {}


def lot_event(records: TraceRecords, lot: Lot, name: Namer) -> dict[str, Any] | None:
    edges = records.edges_into.get(lot.id) or []
    when = edges[0].occurred_at if edges and edges[0].occurred_at else lot.produced_at
    if when is None:
        return None
    output = quantity_element(name(lot.id), lot.quantity, lot.uom)
    event: dict[str, Any] = {"eventTime": stamp(when), "eventTimeZoneOffset": "+00:00"}
    if edges:
        event = {
            "type": "TransformationEvent",
            **event,
            "inputQuantityList": [quantity_element(name(e.input_lot_id), e.quantity, e.uom) for e in edges],
            "outputQuantityList": [output],
        }
    else:
        event = {"type": "ObjectEvent", **event, "action": "ADD", "quantityList": [output]}
    event.update({"bizStep": "commissioning", "disposition": "active", **_place(lot.plant)})
    order = lot.work_order_id or (edges[0].work_order_id if edges else None)
    if order:
        event["bizTransactionList"] = [{"type": "prodorder", "bizTransaction": _transaction(order)}]
    if ":" not in lot.id:
        event["ilmd"] = {"cbvmda:lotNumber": lot.id}
    return event


def shipping_event(shipment: Shipment, lot_ids: set[str], name: Namer) -> dict[str, Any] | None:
    when = shipment.shipped_at
    lines = [(a, line.uom) for line in shipment.lines for a in line.lots if a.lot_id in lot_ids]
    if when is None or not lines or shipment.status is not ShipmentStatus.SHIPPED:
        return None
    return {
        "type": "ObjectEvent",
        "eventTime": stamp(when),
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "quantityList": [quantity_element(name(a.lot_id), a.quantity, uom) for a, uom in lines],
        "bizStep": "shipping",
        "disposition": "in_transit",
        **_place(shipment.warehouse),
        "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:lotgraph:shipment:{shipment.id}"}],
        "destinationList": [{"type": "owning_party", "destination": f"urn:lotgraph:customer:{shipment.customer_id}"}],
    }


def _transaction(order: str) -> str:
    return order if order.startswith("urn:") else f"urn:lotgraph:workorder:{order}"


def events(records: TraceRecords, company_prefix_length: int) -> Iterator[dict[str, Any]]:
    name = Namer(records, company_prefix_length)
    for lot_id in records.trace.lot_ids:
        lot = records.masters.get(lot_id)
        event = lot_event(records, lot, name) if lot else None
        if event is not None:
            yield event
    ids = set(records.trace.lot_ids)
    for shipment in records.shipments:
        event = shipping_event(shipment, ids, name)
        if event is not None:
            yield event
    yield from custody_export.epcis_events(records, name)


def document(records: TraceRecords, meta: ExportMeta, company_prefix_length: int) -> Iterator[bytes]:
    """The document in chunks of about 64 KiB; never the whole of it in memory."""
    head = {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": stamp(meta.started_at),
        "lotgraph:export": meta.header(),
    }
    opening = json.dumps(head)[:-1]
    buffer = [
        opening,
        ', "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [',
    ]
    size, first = 0, True
    for event in events(records, company_prefix_length):
        text = json.dumps(event, separators=(",", ":"))
        buffer.append(text if first else "," + text)
        first = False
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    buffer.append("]}}}}")
    yield "".join(buffer).encode()
