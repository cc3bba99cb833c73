"""Custody (``Lot.custody``) and containment (``Lot.containment``) over the plant's EPCIS query interface, read by
either MES kind.

The GDST chain (tests/epcis/data/gdst_data_withmasterdata.jsonld) says, read by hand:

- farmed tuna FF: shipped by fishfarm.1u to processor.1u on 2022-01-20 (12,000 kg), received at processor.plant1u on
  2022-01-21 (the receiving event names no parties);
- wild tuna FM: received from fisherman01.1u by processor.1u on 2022-01-23 (9,876 kg);
- cans P: packed into pallet ``urn:epc:id:sscc:08600031303.0004`` on 2022-01-28 (5,000 kg), the pallet (named
  alone) shipped by processor.1u to importer.1u on 2022-01-29 and received at importer.123u on 2022-02-03, emptied
  on 2022-02-04; packed again on 2022-03-01 and emptied on 2022-03-04 with no custody event between. The pallet's
  URN has 15 digits where an SSCC has 17, so it has no SSCC digits.

The generated plant: every shipped delivery is one pallet (SSCC 4012345 + the delivery's number) that carries its
lots from the warehouse to the customer; every raw lot with a supplier was received from it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.conftest import Plant
from tests.epcis.conftest import GDST, graphql_over, load_plant, plant_app
from tests.epcis.test_gdst_traces import FF, FM, P

PARTY = "urn:gdst:example.org:party:"
PLACE = "urn:gdst:example.org:location:loc:"
PALLET = "urn:epc:id:sscc:08600031303.0004"

CUSTODY = """query($ids: [ID!]!) { lots(ids: $ids, first: 100) { edges { node {
  id
  custody { eventId at bizStep fromParty fromLocation toParty toLocation bizLocation readPoint container sscc
            quantity uom referenceType reference }
  containment { packedIn { at action bizStep parentId sscc children { id quantity uom } } contains { parentId } }
} } } }"""


@pytest.fixture
async def gdst(tmp_path: Path) -> AsyncIterator[Starlette]:
    async with plant_app(load_plant(tmp_path, GDST)) as app:
        yield app


async def lots_of(plant: Starlette, kind: str, ids: list[str], per_page: int = 1000) -> dict[str, Any]:
    async with graphql_over(plant, mes_kind=kind, per_page=per_page) as run:
        data = await run(CUSTODY, {"ids": ids})
    return {edge["node"]["id"]: edge["node"] for edge in data["lots"]["edges"]}


def moves(node: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c["at"][:10], c["bizStep"], c["fromParty"], c["toParty"], c["bizLocation"], c["container"], c["quantity"])
        for c in node["custody"]
    ]


@pytest.mark.parametrize("kind", ["contract", "epcis"])
async def test_gdst_custody_directly_and_through_the_pallet(gdst: Starlette, kind: str) -> None:
    found = await lots_of(gdst, kind, [FF, FM, P])
    assert moves(found[FF]) == [
        ("2022-01-20", "shipping", PARTY + "fishfarm.1u", PARTY + "processor.1u", PLACE + "fishfarm.1u", None, 12000.0),
        ("2022-01-21", "receiving", None, None, PLACE + "processor.plant1u", None, 12000.0),
    ]
    assert moves(found[FM]) == [
        ("2022-01-23", "receiving", PARTY + "fisherman01.1u", PARTY + "processor.1u", PLACE + "processor.plant1u", None,
         9876.0),
    ]  # fmt: skip
    assert moves(found[P]) == [
        ("2022-01-29", "shipping", PARTY + "processor.1u", PARTY + "importer.1u", PLACE + "processor.plant1u", PALLET,
         5000.0),
        ("2022-02-03", "receiving", None, None, PLACE + "importer.123u", PALLET, 5000.0),
    ]  # fmt: skip
    assert {c["sscc"] for c in found[P]["custody"]} == {None}  # 15 digits: not a valid SSCC
    packed = [(a["at"][:10], a["action"], a["bizStep"], a["parentId"]) for a in found[P]["containment"]["packedIn"]]
    assert packed == [
        ("2022-01-28", "ADD", "packing", PALLET),
        ("2022-02-04", "DELETE", "unpacking", PALLET),
        ("2022-03-01", "ADD", "packing", PALLET),
        ("2022-03-04", "DELETE", "unpacking", PALLET),
    ]
    assert found[P]["containment"]["packedIn"][0]["children"] == [{"id": P, "quantity": 5000.0, "uom": "kg"}]
    assert found[FF]["containment"] == {"packedIn": [], "contains": []}


async def test_custody_follows_every_page(gdst: Starlette) -> None:
    one_per_page = await lots_of(gdst, "epcis", [FF, P], per_page=1)
    assert moves(one_per_page[P]) == moves((await lots_of(gdst, "epcis", [P]))[P])
    assert len(one_per_page[FF]["custody"]) == 2
    assert len(one_per_page[P]["containment"]["packedIn"]) == 4


def shipped_delivery(plant_dir: Path) -> dict[str, Any]:
    """A shipped delivery of the generated plant carrying several lots, read from its ERP's database."""
    with sqlite3.connect(plant_dir / "erp.db") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM shipments WHERE status = 'SHIPPED' ORDER BY id").fetchall()
    for row in rows:
        lines = json.loads(row["lines"])
        lots = {a["lot_id"]: (a["quantity"], line["uom"]) for line in lines for a in line["lots"]}
        if len(lots) >= 3:
            return {**dict(row), "lots": lots}
    raise AssertionError("the generated plant has no shipped delivery of three lots")


def sscc_digits(number: int) -> str:
    """GS1 check digit by hand: SSCC = extension 0, prefix 4012345, serial reference (9 digits), check digit."""
    body = f"04012345{number:09d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str(-total % 10)


@pytest.mark.parametrize("kind", ["contract", "epcis"])
async def test_a_shipped_delivery_is_a_pallet_shipped_to_its_customer(
    plant: Starlette, plant_dir: Path, plant_admin: Plant, kind: str
) -> None:
    delivery = shipped_delivery(plant_dir)
    number = int(delivery["id"].rpartition("-")[2])
    pallet = f"urn:epc:id:sscc:4012345.0{number:09d}"
    customer = f"urn:epc:id:pgln:4012345.1{int(delivery['customer_id'][1:]):04d}"
    ids = sorted(delivery["lots"])
    await plant_admin.reset_stats()
    found = await lots_of(plant, kind, ids)
    epcis_calls = (await plant_admin.stats())["mes"]
    for lot_id, (quantity, uom) in delivery["lots"].items():
        shipped = [c for c in found[lot_id]["custody"] if c["reference"] == f"urn:lotgraph:shipment:{delivery['id']}"]
        assert len(shipped) == 1, found[lot_id]["custody"]
        (event,) = shipped
        assert (event["bizStep"], event["container"], event["sscc"]) == ("shipping", pallet, sscc_digits(number))
        assert (event["fromParty"], event["toParty"]) == ("urn:epc:id:pgln:4012345.00000", customer)
        assert event["fromLocation"] == f"urn:epc:id:sgln:4012345.00000.{delivery['warehouse']}"
        assert (event["quantity"], event["uom"], event["referenceType"]) == (quantity, uom, "desadv")
        assert event["at"].startswith(delivery["shipped_at"][:16])
        packing = [a for a in found[lot_id]["containment"]["packedIn"] if a["parentId"] == pallet]
        assert [(a["action"], a["bizStep"]) for a in packing] == [("ADD", "packing")]
        assert {c["id"] for c in packing[0]["children"]} == set(ids)
    # batched: one request per level for all the lots, whatever their number: the lot masters (contract: /lots;
    # EPCIS: the classes of the lot numbers, then their events), the lots' custody events, their pallets' events
    expected = {"GET /lots": 1, "GET /epcis/events": 2} if kind == "contract" else {"GET /epcis/events": 4}
    assert epcis_calls == expected


async def test_a_supplied_raw_lot_was_received_from_its_supplier(plant: Starlette, plant_dir: Path) -> None:
    with sqlite3.connect(plant_dir / "mes.db") as conn:
        lot_id, supplier, plant_code, quantity = conn.execute(
            "SELECT id, supplier, plant, quantity FROM lots WHERE kind = 'RAW' AND supplier IS NOT NULL ORDER BY id"
        ).fetchone()
    with sqlite3.connect(plant_dir / "erp.db") as conn:
        deliveries = conn.execute("SELECT count(*) FROM shipment_lots WHERE lot_id = ?", (lot_id,)).fetchone()[0]
    found = await lots_of(plant, "epcis", [lot_id])
    received = [c for c in found[lot_id]["custody"] if c["bizStep"] == "receiving"]
    assert [(c["fromParty"], c["toParty"], c["toLocation"], c["quantity"]) for c in received] == [
        (
            "urn:lotgraph:supplier:" + supplier.replace(" ", "%20"),
            "urn:epc:id:pgln:4012345.00000",
            f"urn:epc:id:sgln:4012345.00000.{plant_code}",
            quantity,
        )
    ]
    assert len(found[lot_id]["custody"]) == 1 + deliveries  # and a shipping per delivery it went out on, if any
