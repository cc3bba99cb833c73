"""EPCIS events as lots and genealogy edges (plain functions over ``sources.epcis.events.Event``).

- A lot's id is what the gateway calls it: the lot number of a GS1 lot class (LGTIN URN or Digital Link), the EPC
  or EPC class itself otherwise (a GDST lot URN, a serialised item, a class pattern).
- A TransformationEvent links each of its inputs to each of its outputs. The edge carries the input's quantity; with
  several outputs, the input is shared among them in proportion to their quantities (when they can be added up),
  else the edge has no quantity. The work order is the event's ``prodorder`` business transaction, else its
  transformationID, else its eventID.
- A lot's master: made by a TransformationEvent (quantity, time, place of that event), else commissioned by an
  ObjectEvent ``ADD`` (the same), else only seen (the first quantity it is seen with). It is RAW when no event made
  it from inputs, FINISHED when made but never consumed, INTERMEDIATE otherwise (as far as the events tell).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sources import gs1, units
from sources.epcis.events import Event, Quantity
from sources.records import GenealogyEdge, Lot, LotKind

BT_PREFIX = re.compile(r"urn:epcglobal:cbv:bt:\d{13}:|urn:lotgraph:workorder:")
"""A CBV business transaction id (the GLN of the party that issued it, then its own id), or a work order of a
lotgraph export."""


def lot_id(epc: str) -> str:
    try:
        return gs1.lot_id_of(epc)
    except gs1.IdentifierError:
        return epc


def product_of(epc: str) -> str:
    """The product a lot class belongs to: the GTIN of a GS1 class, the product class of a GDST lot class."""
    try:
        found = gs1.gs1_lot(epc)
    except gs1.IdentifierError:
        found = None
    if found is not None:
        return found.gtin
    if ":product:lot:class:" in epc:
        head, _, tail = epc.partition(":product:lot:class:")
        return f"{head}:product:class:" + ".".join(tail.split(".")[:2])
    return epc


def work_order(event: Event) -> str | None:
    for transaction in event.biz_transactions:
        if transaction.type == "prodorder":
            found = BT_PREFIX.match(transaction.id)
            return transaction.id[found.end() :] if found else transaction.id
    return event.transformation_id or event.event_id


def _sides(event: Event) -> tuple[list[Quantity], list[Quantity]]:
    inputs = [*event.input_quantities, *(Quantity(e, None, None) for e in event.input_epcs)]
    outputs = [*event.output_quantities, *(Quantity(e, None, None) for e in event.output_epcs)]
    return inputs, outputs


def _shares(outputs: list[Quantity]) -> list[float | None]:
    if len(outputs) == 1:
        return [1.0]
    based = [units.to_base(o.quantity, o.uom) if o.quantity is not None else None for o in outputs]
    if any(b is None for b in based) or len({b[1] for b in based if b}) != 1:
        return [None] * len(outputs)
    total = sum(b[0] for b in based if b)
    return [b[0] / total if b and total else None for b in based]


def edges_of(event: Event) -> list[GenealogyEdge]:
    if event.type != "TransformationEvent":
        return []
    inputs, outputs = _sides(event)
    order = work_order(event)
    edges = []
    for output, share in zip(outputs, _shares(outputs), strict=True):
        for given in inputs:
            if lot_id(given.epc_class) == lot_id(output.epc_class):
                continue  # the same lot on both sides (a lot reworked in place) is no genealogy edge
            quantity = None if given.quantity is None or share is None else round(given.quantity * share, 6)
            edges.append(
                GenealogyEdge(
                    input_lot_id=lot_id(given.epc_class),
                    output_lot_id=lot_id(output.epc_class),
                    quantity=quantity,
                    uom=units.plain(given.uom) if given.uom and quantity is not None else None,
                    work_order_id=order,
                    occurred_at=event.event_time,
                )
            )
    return edges


def lots_of(events: Iterable[Event], ids: Iterable[str]) -> dict[str, Lot]:
    """The masters of ``ids`` as the events tell them (a lot no event names is absent)."""
    wanted = set(ids)
    made: dict[str, tuple[Event, Quantity]] = {}
    added: dict[str, tuple[Event, Quantity]] = {}
    seen: dict[str, tuple[Event, Quantity]] = {}
    consumed: set[str] = set()
    for event in sorted(events, key=lambda e: e.event_time):
        inputs, outputs = _sides(event) if event.type == "TransformationEvent" else ([], [])
        consumed.update(lot_id(i.epc_class) for i in inputs)
        for q in outputs:
            made.setdefault(lot_id(q.epc_class), (event, q))
        if event.type == "ObjectEvent" and event.action == "ADD":
            for q in (*event.quantities, *(Quantity(e, None, None) for e in event.epcs)):
                added.setdefault(lot_id(q.epc_class), (event, q))
        for q in (*event.quantities, *inputs, *(Quantity(e, None, None) for e in event.epcs)):
            seen.setdefault(lot_id(q.epc_class), (event, q))
    found: dict[str, Lot] = {}
    for lot in wanted:
        origin = made.get(lot) or added.get(lot) or seen.get(lot)
        if origin is None:
            continue
        event, q = origin
        kind = LotKind.RAW if lot not in made else LotKind.INTERMEDIATE if lot in consumed else LotKind.FINISHED
        found[lot] = Lot(
            id=lot,
            product_id=product_of(q.epc_class),
            kind=kind,
            quantity=q.quantity if q.quantity is not None else 1.0,
            uom=units.plain(q.uom) if q.uom else "EA",
            produced_at=event.event_time if lot in made or lot in added else None,
            plant=event.biz_location,
            work_order_id=work_order(event) if lot in made else None,
            supplier=None,
            gtin=_gtin(q.epc_class),
        )
    return found


def _gtin(epc: str) -> str | None:
    try:
        found = gs1.gs1_lot(epc)
    except gs1.IdentifierError:
        return None
    return found.gtin if found else None
