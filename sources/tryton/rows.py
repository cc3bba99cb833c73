"""Reading Tryton's answers: dotted-path rows into plain values, and customer shipments into lines.

A ``read`` with dotted field paths answers related records nested under the first name followed by a dot:
``read([1], ["inventory_moves.lot.number"])`` gives ``{"inventory_moves.": [{"id": 3, "lot.": {"number": "L1"}}]}``.
Anything missing or of the wrong type raises ``SourceProtocolError`` naming the source, as every adapter does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from sources.errors import SourceProtocolError

T = TypeVar("T")
Row = dict[str, Any]


class Rows:
    """Typed access to one Tryton row, for one source."""

    def __init__(self, source: str, row: Row) -> None:
        self.source = source
        self.row = row

    def _bad(self, path: str) -> SourceProtocolError:
        return SourceProtocolError(self.source, f"{self.source.upper()} answered a record without a valid {path}")

    def get(self, path: str) -> Any:
        """The value at a dotted path (``lot.number``), or None when a link on the way is empty."""
        value: Any = self.row
        parts = path.split(".")
        for part in parts[:-1]:
            value = value.get(f"{part}.") if isinstance(value, dict) else None
            if value is None:
                return None
        return value.get(parts[-1]) if isinstance(value, dict) else None

    def text(self, path: str) -> str:
        value = self.get(path)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._bad(path)

    def opt_text(self, path: str) -> str | None:
        value = self.get(path)
        return value if isinstance(value, str) and value else None

    def number(self, path: str) -> float:
        value = self.get(path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self._bad(path)

    def ident(self, path: str = "id") -> int:
        value = self.get(path)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self._bad(path)

    def opt_date(self, path: str) -> date | None:
        value = self.get(path)
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else None

    def opt_datetime(self, path: str) -> datetime | None:
        value = self.get(path)
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(), UTC)
        return None

    def link(self, name: str) -> Rows:
        """The record a Many2One points at (empty when it points nowhere)."""
        value = self.row.get(f"{name}.")
        if value is not None and not isinstance(value, dict):
            raise self._bad(name)
        return Rows(self.source, value or {})

    def children(self, name: str) -> list[Rows]:
        value = self.row.get(f"{name}.")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._bad(name)
        return [Rows(self.source, v) for v in value]

    @property
    def changed_at(self) -> datetime | None:
        return self.opt_datetime("write_date") or self.opt_datetime("create_date")


def rows(source: str, items: Iterable[Row]) -> list[Rows]:
    return [Rows(source, item) for item in items]


def reference_id(value: Any, model: str) -> int | None:
    """The id of a Reference field's value (``"stock.move,12"``) when it points at ``model``."""
    if isinstance(value, str) and value.startswith(f"{model},"):
        tail = value.split(",", 1)[1]
        return int(tail) if tail.lstrip("-").isdigit() and int(tail) >= 0 else None
    return None


def index(items: Iterable[T], key: Callable[[T], str]) -> dict[str, T]:
    return {key(item): item for item in items}


# -- customer shipments ------------------------------------------------------------------------------------------

SHIPMENT_MOVE_FIELDS = [
    "outgoing_moves.product.code",
    "outgoing_moves.quantity",
    "outgoing_moves.unit.symbol",
    "outgoing_moves.state",
    "outgoing_moves.lot.number",
    "outgoing_moves.origin",
    "inventory_moves.lot.number",
    "inventory_moves.quantity",
    "inventory_moves.state",
    "inventory_moves.origin",
    "inventory_moves.from_location.code",
]


@dataclass(frozen=True, slots=True)
class MoveLine:
    """One line of a customer shipment: an outgoing move (warehouse output → customer) and the inventory moves
    (storage → output) that carry its lots and its reservation."""

    line_no: int
    outgoing: Rows
    inventory: list[Rows]


def move_lines(shipment: Rows) -> list[MoveLine]:
    """Lines numbered 1… in the order of the outgoing moves' ids, each with the inventory moves whose origin is it
    (cancelled moves left out, and the empty outgoing moves Tryton keeps between picking and packing)."""
    outgoing = sorted(
        (m for m in shipment.children("outgoing_moves") if m.get("state") != "cancelled" and m.get("quantity")),
        key=_id,
    )
    inventory = [m for m in shipment.children("inventory_moves") if m.get("state") != "cancelled"]
    lines = []
    for line_no, move in enumerate(outgoing, start=1):
        mine = [m for m in inventory if reference_id(m.get("origin"), "stock.move") == move.ident()]
        lines.append(MoveLine(line_no, move, mine))
    return lines


def _id(move: Rows) -> int:
    return move.ident()
