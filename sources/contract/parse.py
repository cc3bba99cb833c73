"""Reading upstream JSON into records. Anything of the wrong shape becomes a ``SourceProtocolError``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from sources import records as r
from sources.errors import SourceProtocolError

E = TypeVar("E", bound=Enum)
T = TypeVar("T")


class _Shape(Exception):
    """Internal: a field is missing or of the wrong type."""


class Fields:
    """Typed access to one JSON object; every getter raises ``_Shape`` on a mismatch."""

    __slots__ = ("_d",)

    def __init__(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise _Shape("expected an object")
        self._d: dict[str, Any] = value

    def text(self, key: str) -> str:
        value = self._d.get(key)
        if not isinstance(value, str):
            raise _Shape(f"{key}: expected a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._d.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _Shape(f"{key}: expected a string")
        return value

    def number(self, key: str) -> float:
        value = self._d.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Shape(f"{key}: expected a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self._d.get(key) is None else self.number(key)

    def integer(self, key: str) -> int:
        value = self._d.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Shape(f"{key}: expected an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self._d.get(key) is None else self.integer(key)

    def flag(self, key: str) -> bool:
        value = self._d.get(key, False)
        if not isinstance(value, bool):
            raise _Shape(f"{key}: expected a boolean")
        return value

    def opt_datetime(self, key: str) -> datetime | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise _Shape(f"{key}: expected a timestamp") from exc

    def opt_date(self, key: str) -> date | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError as exc:
            raise _Shape(f"{key}: expected a date") from exc

    def enum(self, key: str, kind: type[E]) -> E:
        try:
            return kind(self.text(key))
        except ValueError as exc:
            raise _Shape(f"{key}: unknown value") from exc

    def array(self, key: str) -> list[Any]:
        value = self._d.get(key, [])
        if not isinstance(value, list):
            raise _Shape(f"{key}: expected a list")
        return value

    def obj(self, key: str) -> Fields | None:
        value = self._d.get(key)
        return None if value is None else Fields(value)

    def one(self, key: str) -> Fields:
        return Fields(self._d.get(key))


def parse_all(source: str, items: list[Any], reader: Callable[[Fields], T]) -> list[T]:
    """Read every item, or raise one ``SourceProtocolError`` naming the source and the first bad field."""
    try:
        return [reader(Fields(item)) for item in items]
    except _Shape as exc:
        raise SourceProtocolError(source, f"{source.upper()} answered a record of an unexpected shape") from exc


def parse_one(source: str, item: Any, reader: Callable[[Fields], T]) -> T:
    return parse_all(source, [item], reader)[0]


def page(source: str, body: Any, reader: Callable[[Fields], T]) -> r.Page[T]:
    """Read a search answer: ``{"items": [...], "total": N, "next_after": id | null}``."""
    items, total, next_after = parse_one(
        source, body, lambda f: (f.array("items"), f.integer("total"), f.opt_text("next_after"))
    )
    return r.Page(parse_all(source, items, reader), total, next_after is not None)


# -- ERP ---------------------------------------------------------------------------------------------------------


def customer(f: Fields) -> r.Customer:
    return r.Customer(f.text("id"), f.text("name"), f.opt_text("country") or "", f.flag("coa_required"))


def product(f: Fields) -> r.Product:
    return r.Product(
        f.text("id"), f.text("name"), f.text("uom"), f.flag("coa_required"), f.opt_integer("shelf_life_days")
    )


def sales_order(f: Fields) -> r.SalesOrder:
    return r.SalesOrder(
        id=f.text("id"),
        customer_id=f.text("customer_id"),
        status=f.enum("status", r.OrderStatus),
        order_date=f.opt_date("order_date"),
        requested_date=f.opt_date("requested_date"),
        credit_block=f.flag("credit_block"),
        credit_block_since=f.opt_datetime("credit_block_since"),
        delivery_block=f.flag("delivery_block"),
        delivery_block_reason=f.opt_text("delivery_block_reason"),
        delivery_block_since=f.opt_datetime("delivery_block_since"),
        lines=tuple(_order_line(Fields(line)) for line in f.array("lines")),
        shipment_ids=tuple(_strings(f.array("shipment_ids"))),
    )


def _order_line(f: Fields) -> r.OrderLine:
    return r.OrderLine(f.integer("line_no"), f.text("product_id"), f.number("quantity"), f.text("uom"))


def shipment(f: Fields) -> r.Shipment:
    return r.Shipment(
        id=f.text("id"),
        order_id=f.text("order_id"),
        customer_id=f.text("customer_id"),
        status=f.enum("status", r.ShipmentStatus),
        warehouse=f.opt_text("warehouse"),
        ship_date=f.opt_date("ship_date"),
        shipped_at=f.opt_datetime("shipped_at"),
        lines=tuple(_shipment_line(Fields(line)) for line in f.array("lines")),
    )


def _shipment_line(f: Fields) -> r.ShipmentLine:
    lots = tuple(r.LotAssignment(a.text("lot_id"), a.number("quantity")) for a in (Fields(x) for x in f.array("lots")))
    return r.ShipmentLine(
        f.integer("line_no"),
        f.opt_integer("order_line_no"),
        f.text("product_id"),
        f.number("quantity"),
        f.text("uom"),
        lots,
    )


# -- QMS ---------------------------------------------------------------------------------------------------------


def quality_lot(f: Fields) -> r.QualityLot:
    coa = f.obj("coa")
    return r.QualityLot(
        lot_id=f.text("lot_id"),
        product_id=f.opt_text("product_id"),
        disposition=f.enum("disposition", r.Disposition),
        disposition_at=f.opt_datetime("disposition_at"),
        expiry_date=f.opt_date("expiry_date"),
        coa=None if coa is None else r.Certificate(coa.text("id"), coa.opt_datetime("issued_at")),
    )


def hold(f: Fields) -> r.Hold:
    return r.Hold(
        id=f.text("id"),
        lot_id=f.text("lot_id"),
        status=f.enum("status", r.HoldStatus),
        reason_code=f.text("reason_code"),
        comment=f.opt_text("comment"),
        placed_by=f.opt_text("placed_by"),
        placed_at=f.opt_datetime("placed_at"),
        released_by=f.opt_text("released_by"),
        released_at=f.opt_datetime("released_at"),
        release_comment=f.opt_text("release_comment"),
        correlation_id=f.opt_text("correlation_id"),
    )


def deviation(f: Fields) -> r.Deviation:
    return r.Deviation(
        id=f.text("id"),
        lot_id=f.text("lot_id"),
        status=f.enum("status", r.DeviationStatus),
        severity=f.enum("severity", r.Severity),
        title=f.text("title"),
        opened_at=f.opt_datetime("opened_at"),
        closed_at=f.opt_datetime("closed_at"),
    )


# -- MES ---------------------------------------------------------------------------------------------------------


def lot(f: Fields) -> r.Lot:
    return r.Lot(
        id=f.text("id"),
        product_id=f.text("product_id"),
        kind=f.enum("kind", r.LotKind),
        quantity=f.number("quantity"),
        uom=f.text("uom"),
        produced_at=f.opt_datetime("produced_at"),
        plant=f.opt_text("plant"),
        work_order_id=f.opt_text("work_order_id"),
        supplier=f.opt_text("supplier"),
        gtin=f.opt_text("gtin"),
    )


def genealogy_edge(f: Fields) -> r.GenealogyEdge:
    return r.GenealogyEdge(
        input_lot_id=f.text("input_lot_id"),
        output_lot_id=f.text("output_lot_id"),
        quantity=f.opt_number("quantity"),
        uom=f.opt_text("uom"),
        work_order_id=f.opt_text("work_order_id"),
        occurred_at=f.opt_datetime("occurred_at"),
    )


# -- WMS ---------------------------------------------------------------------------------------------------------


def stock(f: Fields) -> r.Stock:
    return r.Stock(
        lot_id=f.text("lot_id"),
        location=f.text("location"),
        quantity=f.number("quantity"),
        uom=f.text("uom"),
        status=f.enum("status", r.StockStatus),
        status_since=f.opt_datetime("status_since"),
    )


def shipment_progress(f: Fields) -> r.ShipmentProgress:
    return r.ShipmentProgress(
        shipment_id=f.text("shipment_id"),
        stage=f.enum("stage", r.WarehouseStage),
        stage_at=f.opt_datetime("stage_at"),
        allocations=tuple(_allocation(Fields(a)) for a in f.array("allocations")),
    )


def _allocation(f: Fields) -> r.Allocation:
    return r.Allocation(
        line_no=f.integer("line_no"),
        lot_id=f.text("lot_id"),
        location=f.opt_text("location"),
        quantity=f.number("quantity"),
        stock_status=f.enum("stock_status", r.StockStatus),
    )


def _strings(values: list[Any]) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise _Shape("expected a list of strings")
    return values
