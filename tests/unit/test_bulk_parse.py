"""The direct readers of the large answers (sources/contract/bulk.py) give the records the checked readers of
sources/contract/parse.py give, read a well-formed answer without a ``Fields`` per record, and on any surprise
answer exactly as the checked readers do (the same ``SourceProtocolError``, caused by the same bad field)."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from sources.contract import bulk, erp, parse
from sources.errors import SourceProtocolError

LOTS: list[dict[str, Any]] = [
    {
        "id": "LOT-1",
        "product_id": "P-1",
        "kind": "RAW",
        "quantity": 12,
        "uom": "kg",
        "produced_at": "2026-03-01T08:00:00+00:00",
        "plant": "PL1",
        "work_order_id": None,
        "supplier": "ACME",
    },
    {
        "id": "LOT-2",
        "product_id": "P-2",
        "kind": "FINISHED",
        "quantity": 2.5,
        "uom": "ea",
        "produced_at": None,
        "work_order_id": "WO-9",
        "gtin": "09506000134352",
    },
]
EDGES: list[dict[str, Any]] = [
    {
        "input_lot_id": "LOT-1",
        "output_lot_id": "LOT-2",
        "quantity": 3,
        "uom": "kg",
        "work_order_id": "WO-9",
        "occurred_at": "2026-03-02T10:00:00Z",
    },
    {"input_lot_id": "LOT-2", "output_lot_id": "LOT-3", "quantity": None, "uom": None},
]
QUALITY: list[dict[str, Any]] = [
    {
        "lot_id": "LOT-1",
        "product_id": "P-1",
        "disposition": "RELEASED",
        "disposition_at": "2026-03-01T09:00:00+00:00",
        "expiry_date": "2027-03-01",
        "coa": {"id": "COA-1", "issued_at": "2026-03-01T09:30:00+00:00"},
    },
    {"lot_id": "LOT-2", "disposition": "ON_HOLD", "coa": None},
]
CUSTOMERS: list[dict[str, Any]] = [
    {"id": "C-1", "name": "Acme", "country": "DE", "coa_required": True},
    {"id": "C-2", "name": "Beta", "country": None},
    {"id": "C-3", "name": "Gamma", "country": "", "coa_required": False},
]
PRODUCTS: list[dict[str, Any]] = [
    {"id": "P-1", "name": "Whey", "uom": "kg", "coa_required": True, "shelf_life_days": 365},
    {"id": "P-2", "name": "Box", "uom": "ea", "shelf_life_days": None},
    {"id": "P-3", "name": "Salt", "uom": "kg", "coa_required": False},
]
ORDERS: list[dict[str, Any]] = [
    {
        "id": "SO-1",
        "customer_id": "C-1",
        "status": "RELEASED",
        "order_date": "2026-03-01",
        "requested_date": "2026-03-10T00:00:00Z",
        "credit_block": False,
        "credit_block_since": None,
        "delivery_block": True,
        "delivery_block_reason": "CREDIT",
        "delivery_block_since": "2026-03-02T08:00:00+00:00",
        "lines": [
            {"line_no": 1, "product_id": "P-1", "quantity": 10, "uom": "kg"},
            {"line_no": 2, "product_id": "P-2", "quantity": 2.5, "uom": "ea"},
        ],
        "shipment_ids": ["SH-1", "SH-2"],
    },
    {"id": "SO-2", "customer_id": "C-2", "status": "CREATED"},
    {
        "id": "SO-3",
        "customer_id": "C-2",
        "status": "CANCELLED",
        "order_date": None,
        "requested_date": None,
        "credit_block": True,
        "credit_block_since": "2026-03-04T09:30:00",
        "delivery_block_reason": None,
        "lines": [],
        "shipment_ids": [],
    },
]
SHIPMENTS: list[dict[str, Any]] = [
    {
        "id": "SH-1",
        "order_id": "SO-1",
        "customer_id": "C-1",
        "status": "SHIPPED",
        "warehouse": "WH1",
        "ship_date": "2026-03-05",
        "shipped_at": "2026-03-05T14:00:00Z",
        "lines": [
            {
                "line_no": 1,
                "order_line_no": 1,
                "product_id": "P-1",
                "quantity": 10.0,
                "uom": "kg",
                "lots": [{"lot_id": "LOT-1", "quantity": 6}, {"lot_id": "LOT-2", "quantity": 4.0}],
            },
            {"line_no": 2, "order_line_no": None, "product_id": "P-2", "quantity": 2, "uom": "ea"},
            {"line_no": 3, "product_id": "P-3", "quantity": 1, "uom": "kg", "lots": []},
        ],
    },
    {"id": "SH-2", "order_id": "SO-1", "customer_id": "C-1", "status": "PLANNED", "ship_date": "2026-03-06T00:00:00"},
    {
        "id": "SH-3",
        "order_id": "SO-3",
        "customer_id": "C-2",
        "status": "CANCELLED",
        "warehouse": None,
        "ship_date": None,
        "shipped_at": None,
        "lines": [],
    },
]
EXPANDED: list[dict[str, Any]] = [
    {"shipment": SHIPMENTS[0], "order": ORDERS[0], "customer": CUSTOMERS[0], "products": PRODUCTS[:2]},
    {"shipment": SHIPMENTS[1], "order": ORDERS[1], "customer": CUSTOMERS[1], "products": []},
    {"shipment": SHIPMENTS[2], "order": None, "customer": None},
]
READERS: list[tuple[Callable[[parse.Fields], Any], list[dict[str, Any]]]] = [
    (parse.lot, LOTS),
    (parse.genealogy_edge, EDGES),
    (parse.quality_lot, QUALITY),
    (parse.customer, CUSTOMERS),
    (parse.product, PRODUCTS),
    (parse.sales_order, ORDERS),
    (parse.shipment, SHIPMENTS),
    (erp.expanded, EXPANDED),
]
DIRECT: dict[Callable[[parse.Fields], Any], Callable[[dict[str, Any]], Any]] = {erp.expanded: bulk.expanded_shipment}
"""Direct readers the adapter names itself (``bulk.FAST`` has the others)."""


def _direct(source: str, items: list[Any], reader: Callable[[parse.Fields], Any]) -> list[Any]:
    return bulk.parse_all(source, items, reader, DIRECT.get(reader))


def _items(reader: Callable[[parse.Fields], Any]) -> list[dict[str, Any]]:
    return next(items for r, items in READERS if r is reader)


class CountedFields(parse.Fields):
    made = 0

    def __init__(self, value: Any) -> None:
        CountedFields.made += 1
        super().__init__(value)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountedFields]:
    CountedFields.made = 0
    monkeypatch.setattr(parse, "Fields", CountedFields)
    return CountedFields


@pytest.mark.parametrize(("reader", "items"), READERS)
def test_well_formed_answers_read_alike_without_a_fields_per_record(
    reader: Callable[[parse.Fields], Any], items: list[dict[str, Any]], counted: type[CountedFields]
) -> None:
    fast = _direct("mes", items * 50, reader)
    assert counted.made == 0
    assert fast == parse.parse_all("mes", items * 50, reader)
    assert counted.made >= len(items) * 50  # the checked reader: one (or more) per record


def _spoil(item: dict[str, Any], key: str | tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of ``item`` with ``key`` (or the field at a path of keys and list indices) set to ``value``, or
    removed when ``value`` is ``KeyError``."""
    spoiled = copy.deepcopy(item)
    *path, last = key if isinstance(key, tuple) else (key,)
    inner: Any = spoiled
    for step in path:
        inner = inner[step]
    if value is KeyError:
        del inner[last]
    else:
        inner[last] = value
    return spoiled


SPOILED = [
    (parse.lot, _spoil(LOTS[0], "id", KeyError)),
    (parse.lot, _spoil(LOTS[0], "id", 7)),
    (parse.lot, _spoil(LOTS[0], "kind", "GAS")),
    (parse.lot, _spoil(LOTS[0], "kind", ["RAW"])),
    (parse.lot, _spoil(LOTS[0], "quantity", True)),
    (parse.lot, _spoil(LOTS[0], "quantity", "12")),
    (parse.lot, _spoil(LOTS[0], "produced_at", "yesterday")),
    (parse.lot, _spoil(LOTS[0], "plant", 3)),
    (parse.genealogy_edge, _spoil(EDGES[0], "output_lot_id", None)),
    (parse.genealogy_edge, _spoil(EDGES[0], "quantity", False)),
    (parse.genealogy_edge, _spoil(EDGES[0], "occurred_at", 20260302)),
    (parse.quality_lot, _spoil(QUALITY[0], "disposition", "MAYBE")),
    (parse.quality_lot, _spoil(QUALITY[0], "expiry_date", "soon")),
    (parse.quality_lot, _spoil(QUALITY[0], "coa", ["COA-1"])),
    (parse.quality_lot, _spoil(QUALITY[0], "coa", {"issued_at": None})),
    (parse.customer, _spoil(CUSTOMERS[0], "id", KeyError)),
    (parse.customer, _spoil(CUSTOMERS[0], "name", 7)),
    (parse.customer, _spoil(CUSTOMERS[0], "country", ["DE"])),
    (parse.customer, _spoil(CUSTOMERS[0], "coa_required", None)),
    (parse.customer, _spoil(CUSTOMERS[0], "coa_required", 1)),
    (parse.product, _spoil(PRODUCTS[0], "uom", None)),
    (parse.product, _spoil(PRODUCTS[0], "coa_required", "yes")),
    (parse.product, _spoil(PRODUCTS[0], "shelf_life_days", True)),
    (parse.product, _spoil(PRODUCTS[0], "shelf_life_days", 365.0)),
    (parse.product, _spoil(PRODUCTS[0], "shelf_life_days", "365")),
    (parse.sales_order, _spoil(ORDERS[0], "status", "OPEN")),
    (parse.sales_order, _spoil(ORDERS[0], "status", None)),
    (parse.sales_order, _spoil(ORDERS[0], "status", "released")),
    (parse.sales_order, _spoil(ORDERS[0], "customer_id", KeyError)),
    (parse.sales_order, _spoil(ORDERS[0], "order_date", "soon")),
    (parse.sales_order, _spoil(ORDERS[0], "order_date", 20260301)),
    (parse.sales_order, _spoil(ORDERS[0], "requested_date", "2026-13-01")),
    (parse.sales_order, _spoil(ORDERS[0], "credit_block", None)),
    (parse.sales_order, _spoil(ORDERS[0], "delivery_block", 0)),
    (parse.sales_order, _spoil(ORDERS[0], "credit_block_since", "later")),
    (parse.sales_order, _spoil(ORDERS[0], "delivery_block_reason", 5)),
    (parse.sales_order, _spoil(ORDERS[0], "lines", None)),
    (parse.sales_order, _spoil(ORDERS[0], "lines", {"line_no": 1})),
    (parse.sales_order, _spoil(ORDERS[0], "lines", ["L-1"])),
    (parse.sales_order, _spoil(ORDERS[0], ("lines", 1, "quantity"), True)),
    (parse.sales_order, _spoil(ORDERS[0], ("lines", 1, "quantity"), "2.5")),
    (parse.sales_order, _spoil(ORDERS[0], ("lines", 0, "line_no"), 1.0)),
    (parse.sales_order, _spoil(ORDERS[0], ("lines", 0, "line_no"), False)),
    (parse.sales_order, _spoil(ORDERS[0], ("lines", 0, "uom"), KeyError)),
    (parse.sales_order, _spoil(ORDERS[0], "shipment_ids", ["SH-1", 2])),
    (parse.sales_order, _spoil(ORDERS[0], "shipment_ids", "SH-1")),
    (parse.shipment, _spoil(SHIPMENTS[0], "status", "LOST")),
    (parse.shipment, _spoil(SHIPMENTS[0], "order_id", None)),
    (parse.shipment, _spoil(SHIPMENTS[0], "warehouse", ["WH1"])),
    (parse.shipment, _spoil(SHIPMENTS[0], "ship_date", 20260305)),
    (parse.shipment, _spoil(SHIPMENTS[0], "ship_date", "2026-02-30")),
    (parse.shipment, _spoil(SHIPMENTS[0], "shipped_at", "yesterday")),
    (parse.shipment, _spoil(SHIPMENTS[0], "lines", None)),
    (parse.shipment, _spoil(SHIPMENTS[0], "lines", [7])),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "line_no"), True)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "order_line_no"), "1")),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "order_line_no"), 1.0)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 1, "quantity"), False)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 1, "product_id"), KeyError)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "lots"), None)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "lots"), {"lot_id": "LOT-1"})),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "lots", 1), "LOT-2")),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "lots", 1, "quantity"), True)),
    (parse.shipment, _spoil(SHIPMENTS[0], ("lines", 0, "lots", 1, "lot_id"), None)),
    (erp.expanded, _spoil(EXPANDED[0], "shipment", KeyError)),
    (erp.expanded, _spoil(EXPANDED[0], "shipment", None)),
    (erp.expanded, _spoil(EXPANDED[0], ("shipment", "status"), "LOST")),
    (erp.expanded, _spoil(EXPANDED[0], ("shipment", "lines", 0, "quantity"), True)),
    (erp.expanded, _spoil(EXPANDED[0], "order", ["SO-1"])),
    (erp.expanded, _spoil(EXPANDED[0], ("order", "order_date"), "soon")),
    (erp.expanded, _spoil(EXPANDED[0], "customer", "C-1")),
    (erp.expanded, _spoil(EXPANDED[0], ("customer", "coa_required"), "no")),
    (erp.expanded, _spoil(EXPANDED[0], "products", None)),
    (erp.expanded, _spoil(EXPANDED[0], "products", [True])),
    (erp.expanded, _spoil(EXPANDED[0], ("products", 1, "shelf_life_days"), False)),
]


@pytest.mark.parametrize(("reader", "bad"), SPOILED)
def test_a_surprise_answers_as_the_checked_reader(reader: Callable[[parse.Fields], Any], bad: dict[str, Any]) -> None:
    items = [*_items(reader), bad]
    with pytest.raises(SourceProtocolError) as checked:
        parse.parse_all("qms", items, reader)
    with pytest.raises(SourceProtocolError) as direct:
        _direct("qms", items, reader)
    assert str(direct.value) == str(checked.value)
    assert str(direct.value.__cause__) == str(checked.value.__cause__)


@pytest.mark.parametrize(("reader", "items"), READERS)
def test_an_item_that_is_not_an_object_answers_as_the_checked_reader(
    reader: Callable[[parse.Fields], Any], items: list[dict[str, Any]]
) -> None:
    for item in ("LOT-1", None, [1, 2], 3.5):
        with pytest.raises(SourceProtocolError) as direct:
            _direct("mes", [*items, item], reader)
        assert str(direct.value.__cause__) == "expected an object"


@pytest.mark.parametrize(("reader", "items"), [(r, items) for r, items in READERS if r in bulk.FAST])
@pytest.mark.parametrize("next_after", [None, "X-9"])
def test_a_well_formed_page_reads_alike_without_a_fields_per_record(
    reader: Callable[[parse.Fields], Any],
    items: list[dict[str, Any]],
    next_after: str | None,
    counted: type[CountedFields],
) -> None:
    body = {"items": items * 20, "total": 400, "next_after": next_after}
    fast = bulk.page("erp", body, reader)
    assert counted.made == 0
    assert fast == parse.page("erp", body, reader)
    assert fast.has_more is (next_after is not None)


PAGE: dict[str, Any] = {"items": SHIPMENTS, "total": 3, "next_after": None}
SPOILED_PAGES = [
    _spoil(PAGE, "total", KeyError),
    _spoil(PAGE, "total", True),
    _spoil(PAGE, "total", 3.0),
    _spoil(PAGE, "items", None),
    _spoil(PAGE, "items", {"id": "SH-1"}),
    _spoil(PAGE, "next_after", 4),
    _spoil(PAGE, ("items", 2, "status"), "LOST"),
    _spoil(PAGE, ("items", 0, "lines", 0, "lots", 0, "quantity"), "6"),
    ["SH-1"],
    None,
]


@pytest.mark.parametrize("body", SPOILED_PAGES)
def test_a_surprising_page_answers_as_the_checked_reader(body: Any) -> None:
    with pytest.raises(SourceProtocolError) as checked:
        parse.page("erp", body, parse.shipment)
    with pytest.raises(SourceProtocolError) as direct:
        bulk.page("erp", body, parse.shipment)
    assert str(direct.value) == str(checked.value)
    assert str(direct.value.__cause__) == str(checked.value.__cause__)


def test_an_absent_page_list_reads_as_empty() -> None:
    body = {"total": 0, "next_after": None}
    assert bulk.page("erp", body, parse.shipment) == parse.page("erp", body, parse.shipment)
