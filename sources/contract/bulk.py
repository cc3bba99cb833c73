"""Reading the large answers of a trace (lot masters, genealogy edges, dispositions) without a call per field.

``parse`` reads a record through ``Fields``, a method call and checks per field: for the 30,000-lot trace that is
about a quarter of a million calls per kind. The readers here take the JSON object as a dict, read its fields
directly and check their types inline; any surprise (a missing field, a wrong type, a bad timestamp or enum value)
makes ``parse_all`` read the whole answer again through ``parse``'s reader, which names the bad field in the same
``SourceProtocolError``. Both readers give equal records for a well-formed answer (tests/unit/test_bulk_parse.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sources import records as r
from sources.contract import parse

T = TypeVar("T")

_LOT_KINDS: dict[Any, r.LotKind] = {kind.value: kind for kind in r.LotKind}
_DISPOSITIONS: dict[Any, r.Disposition] = {d.value: d for d in r.Disposition}
_NUMBER = (int, float)


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


def _opt_datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(_text(value))


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
    expiry = _opt_text(d.get("expiry_date"))
    return r.QualityLot(
        _text(d["lot_id"]),
        _opt_text(d.get("product_id")),
        _DISPOSITIONS[d["disposition"]],
        _opt_datetime(d.get("disposition_at")),
        None if expiry is None else date.fromisoformat(expiry[:10]),
        None if coa is None else r.Certificate(_text(coa["id"]), _opt_datetime(coa.get("issued_at"))),
    )


FAST: dict[Callable[..., Any], Callable[[dict[str, Any]], Any]] = {
    parse.lot: lot,
    parse.genealogy_edge: genealogy_edge,
    parse.quality_lot: quality_lot,
}


def parse_all(source: str, items: list[Any], reader: Callable[[parse.Fields], T]) -> list[T]:
    """``parse.parse_all``, through the direct reader when ``reader`` has one and the answer is as expected."""
    fast = FAST.get(reader)
    if fast is not None:
        try:
            return [fast(item) for item in items]
        except (_Surprise, KeyError, TypeError, ValueError, AttributeError):
            pass
    return parse.parse_all(source, items, reader)
