"""Reading the large answers (a trace's lot masters, genealogy edges and dispositions; the ERP's shipments, orders,
customers and products) without a call per field.

``parse`` reads a record through ``Fields``, a method call and checks per field: for the 30,000-lot trace that is
about a quarter of a million calls per kind, and a page of 50 shipments with their orders is read on every request
of a shipment list. The readers here take the JSON object as a dict, read its fields directly and check their types
inline; any surprise (a missing field, a wrong type, a bad timestamp or enum value) makes ``parse_all`` (or
``page``) read the whole answer again through ``parse``'s reader, which names the bad field in the same
``SourceProtocolError``. Both readers give equal records for a well-formed answer (tests/unit/test_bulk_parse.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sources import records as r
from sources.combined import ExpandedShipment
from sources.contract import parse

T = TypeVar("T")

_LOT_KINDS: dict[Any, r.LotKind] = {kind.value: kind for kind in r.LotKind}
_DISPOSITIONS: dict[Any, r.Disposition] = {d.value: d for d in r.Disposition}
_ORDER_STATUSES: dict[Any, r.OrderStatus] = {s.value: s for s in r.OrderStatus}
_SHIPMENT_STATUSES: dict[Any, r.ShipmentStatus] = {s.value: s for s in r.ShipmentStatus}
_NUMBER = (int, float)
_ABSENT: list[Any] = []  # an absent list reads as empty (``Fields.array``); never mutated


class _Surprise(Exception):
    """Internal: this answer needs the checked reader."""


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Surprise
    return value


def _opt_text(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise _Surprise
    return value


def _opt_number(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) not in _NUMBER:
        raise _Surprise
    return float(value)


def _number(value: Any) -> float:
    if type(value) not in _NUMBER:
        raise _Surprise
    return float(value)


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _Surprise
    return value


def _opt_integer(value: Any) -> int | None:
    if value is not None and type(value) is not int:
        raise _Surprise
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise _Surprise
    return value


def _array(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Surprise
    return value


def _opt_datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(_text(value))


def _opt_date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(_text(value)[:10])


def lot(d: dict[str, Any]) -> r.Lot:
    quantity = d["quantity"]
    if type(quantity) not in _NUMBER:
        raise _Surprise
    return r.Lot(
        _text(d["id"]),
        _text(d["product_id"]),
        _LOT_KINDS[d["kind"]],
        float(quantity),
        _text(d["uom"]),
        _opt_datetime(d.get("produced_at")),
        _opt_text(d.get("plant")),
        _opt_text(d.get("work_order_id")),
        _opt_text(d.get("supplier")),
        _opt_text(d.get("gtin")),
    )


def genealogy_edge(d: dict[str, Any]) -> r.GenealogyEdge:
    return r.GenealogyEdge(
        _text(d["input_lot_id"]),
        _text(d["output_lot_id"]),
        _opt_number(d.get("quantity")),
        _opt_text(d.get("uom")),
        _opt_text(d.get("work_order_id")),
        _opt_datetime(d.get("occurred_at")),
    )


def quality_lot(d: dict[str, Any]) -> r.QualityLot:
    coa = d.get("coa")
    return r.QualityLot(
        _text(d["lot_id"]),
        _opt_text(d.get("product_id")),
        _DISPOSITIONS[d["disposition"]],
        _opt_datetime(d.get("disposition_at")),
        _opt_date(d.get("expiry_date")),
        None if coa is None else r.Certificate(_text(coa["id"]), _opt_datetime(coa.get("issued_at"))),
    )


def customer(d: dict[str, Any]) -> r.Customer:
    return r.Customer(
        _text(d["id"]), _text(d["name"]), _opt_text(d.get("country")) or "", _flag(d.get("coa_required", False))
    )


def product(d: dict[str, Any]) -> r.Product:
    return r.Product(
        _text(d["id"]),
        _text(d["name"]),
        _text(d["uom"]),
        _flag(d.get("coa_required", False)),
        _opt_integer(d.get("shelf_life_days")),
    )


def sales_order(d: dict[str, Any]) -> r.SalesOrder:
    shipment_ids = _array(d.get("shipment_ids", _ABSENT))
    for shipment_id in shipment_ids:
        if type(shipment_id) is not str:
            raise _Surprise
    return r.SalesOrder(
        _text(d["id"]),
        _text(d["customer_id"]),
        _ORDER_STATUSES[d["status"]],
        _opt_date(d.get("order_date")),
        _opt_date(d.get("requested_date")),
        _flag(d.get("credit_block", False)),
        _opt_datetime(d.get("credit_block_since")),
        _flag(d.get("delivery_block", False)),
        _opt_text(d.get("delivery_block_reason")),
        _opt_datetime(d.get("delivery_block_since")),
        tuple(
            r.OrderLine(_integer(x["line_no"]), _text(x["product_id"]), _number(x["quantity"]), _text(x["uom"]))
            for x in _array(d.get("lines", _ABSENT))
        ),
        tuple(shipment_ids),
    )


def shipment(d: dict[str, Any]) -> r.Shipment:
    return r.Shipment(
        _text(d["id"]),
        _text(d["order_id"]),
        _text(d["customer_id"]),
        _SHIPMENT_STATUSES[d["status"]],
        _opt_text(d.get("warehouse")),
        _opt_date(d.get("ship_date")),
        _opt_datetime(d.get("shipped_at")),
        tuple([_shipment_line(x) for x in _array(d.get("lines", _ABSENT))]),
    )


def _shipment_line(d: dict[str, Any]) -> r.ShipmentLine:
    line_no, order_line_no, product_id, quantity, uom = (
        d["line_no"],
        d.get("order_line_no"),
        d["product_id"],
        d["quantity"],
        d["uom"],
    )
    if (
        type(line_no) is not int
        or (order_line_no is not None and type(order_line_no) is not int)
        or type(product_id) is not str
        or type(quantity) not in _NUMBER
        or type(uom) is not str
    ):
        raise _Surprise
    return r.ShipmentLine(line_no, order_line_no, product_id, float(quantity), uom, _lots(d.get("lots", _ABSENT)))


def _lots(values: Any) -> tuple[r.LotAssignment, ...]:
    """A line's lot assignments: the most numerous records of a shipment list, so checked inline."""
    lots = []
    for a in _array(values):
        lot_id, quantity = a["lot_id"], a["quantity"]
        if type(lot_id) is not str or type(quantity) not in _NUMBER:
            raise _Surprise
        lots.append(r.LotAssignment(lot_id, float(quantity)))
    return tuple(lots)


def expanded_shipment(d: dict[str, Any]) -> ExpandedShipment:
    """The ERP's ``GET /shipments/expanded`` item: ``erp.expanded``'s direct reader."""
    order, found = d.get("order"), d.get("customer")
    return ExpandedShipment(
        shipment(d["shipment"]),
        None if order is None else sales_order(order),
        None if found is None else customer(found),
        tuple(product(p) for p in _array(d.get("products", _ABSENT))),
    )


FAST: dict[Callable[..., Any], Callable[[dict[str, Any]], Any]] = {
    parse.lot: lot,
    parse.genealogy_edge: genealogy_edge,
    parse.quality_lot: quality_lot,
    parse.customer: customer,
    parse.product: product,
    parse.sales_order: sales_order,
    parse.shipment: shipment,
}


_SURPRISES = (_Surprise, KeyError, TypeError, ValueError, AttributeError)


def parse_all(
    source: str,
    items: list[Any],
    reader: Callable[[parse.Fields], T],
    direct: Callable[[dict[str, Any]], T] | None = None,
) -> list[T]:
    """``parse.parse_all``, through ``direct`` (by default the direct reader ``FAST`` has for ``reader``) when there
    is one and the answer is as expected."""
    fast = direct or FAST.get(reader)
    if fast is not None:
        try:
            return [fast(item) for item in items]
        except _SURPRISES:
            pass
    return parse.parse_all(source, items, reader)


def page(source: str, body: Any, reader: Callable[[parse.Fields], T]) -> r.Page[T]:
    """``parse.page``, its items through the direct reader ``FAST`` has for ``reader``, on the same terms."""
    fast = FAST.get(reader)
    if fast is not None:
        try:
            items, total = _array(body.get("items", _ABSENT)), _integer(body["total"])
            after = _opt_text(body.get("next_after"))
            return r.Page([fast(item) for item in items], total, after is not None)
        except _SURPRISES:
            pass
    return parse.page(source, body, reader)
