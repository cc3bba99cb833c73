"""The direct readers of a trace's large answers (sources/contract/bulk.py) give the records the checked readers of
sources/contract/parse.py give, read a well-formed answer without a ``Fields`` per record, and on any surprise
answer exactly as the checked readers do (the same ``SourceProtocolError``, caused by the same bad field)."""

from collections.abc import Callable
from typing import Any

import pytest

from sources.contract import bulk, parse
from sources.errors import SourceProtocolError

LOTS = [
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
EDGES = [
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
QUALITY = [
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
READERS: list[tuple[Callable[[parse.Fields], Any], list[dict[str, Any]]]] = [
    (parse.lot, LOTS),
    (parse.genealogy_edge, EDGES),
    (parse.quality_lot, QUALITY),
]


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
    fast = bulk.parse_all("mes", items * 50, reader)
    assert counted.made == 0
    assert fast == parse.parse_all("mes", items * 50, reader)
    assert counted.made >= len(items) * 50  # the checked reader: one (or more) per record


def _spoil(item: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    spoiled = dict(item)
    if value is KeyError:
        del spoiled[key]
    else:
        spoiled[key] = value
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
]


@pytest.mark.parametrize(("reader", "bad"), SPOILED)
def test_a_surprise_answers_as_the_checked_reader(reader: Callable[[parse.Fields], Any], bad: dict[str, Any]) -> None:
    items = [*READERS[[r for r, _ in READERS].index(reader)][1], bad]
    with pytest.raises(SourceProtocolError) as checked:
        parse.parse_all("qms", items, reader)
    with pytest.raises(SourceProtocolError) as direct:
        bulk.parse_all("qms", items, reader)
    assert str(direct.value) == str(checked.value)
    assert str(direct.value.__cause__) == str(checked.value.__cause__)


def test_an_item_that_is_not_an_object_answers_as_the_checked_reader() -> None:
    for item in ("LOT-1", None, [1, 2]):
        with pytest.raises(SourceProtocolError) as direct:
            bulk.parse_all("mes", [*LOTS, item], parse.lot)
        assert str(direct.value.__cause__) == "expected an object"
