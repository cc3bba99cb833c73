"""Traces over the GDST seafood chain, loaded into a plant and read through either MES kind.

What the file says (tests/epcis/data/gdst_data_withmasterdata.jsonld, 17 events):

    feed F (10,000 kg) + fry H (1,000 kg)      --farmHarvest-->  farmed tuna FF (12,000 kg)
    FF 12,000 kg + wild tuna FM 10,000 kg       --commingling-->  commingled C (22,000 kg)
    C 9,876 kg                                  --commissioning-> cans P (5,000 kg), packed into an SSCC, shipped
    FM was landed as 9,876 kg (fishingEvent ADD), yet 10,000 kg of it went into C: 124 kg more than there was.

So: backward from P, six lots (P; C; FF, FM; F, H) and five edges, three levels deep; forward from F, four lots.
Mass balance (no stock or deliveries in this plant): F, H and FF are used up exactly; FM is 124 kg short (flagged);
C keeps 12,124 kg and P 5,000 kg that nothing accounts for (flagged).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.epcis.conftest import GDST, graphql_over, load_plant, plant_app

LOT = "urn:gdst:example.org:product:lot:class:"
F, H, FF = (LOT + x for x in ("feedmill.1u.ff11252021", "hatchery.1u.tf12012021", "fishfarm.1u.farmed-tuna-01192022"))
FM, C, P = (
    LOT + x for x in ("fisherman01.tunau.v1-0122-2022", "processor.10u.commingle-01232022", "processor.2u.v1-0122-2022")
)

TRACE = """query($lot: ID!, $direction: TraceDirection!) {
  lotGenealogy(lotId: $lot, direction: $direction) {
    nodes { depth lot { id quantity uom epcClass } }
    edges { from to quantity uom workOrder occurredAt }
    massBalance {
      balanced flaggedLots
      transformations { workOrder outputLotIds inputLotIds uom inputQuantity outputQuantity difference }
      lots { lotId uom produced consumed shipped inStock unaccounted balanced }
    } } }"""


@pytest.fixture(scope="module")
def gdst_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_plant(tmp_path_factory.mktemp("gdst"), GDST)


@pytest.fixture
async def gdst(gdst_dir: Path) -> AsyncIterator[Starlette]:
    async with plant_app(gdst_dir) as app:
        yield app


async def trace(plant: Starlette, kind: str, lot: str, direction: str) -> dict[str, Any]:
    async with graphql_over(plant, mes_kind=kind) as run:
        data = await run(TRACE, {"lot": lot, "direction": direction})
    result: dict[str, Any] = data["lotGenealogy"]
    return result


@pytest.mark.parametrize("kind", ["contract", "epcis"])
async def test_backward_from_the_cans_reaches_feed_fry_and_wild_tuna(gdst: Starlette, kind: str) -> None:
    result = await trace(gdst, kind, P, "BACKWARD")
    assert {(n["lot"]["id"], n["depth"]) for n in result["nodes"]} == {(P, 0), (C, 1), (FF, 2), (FM, 2), (F, 3), (H, 3)}
    assert {(e["from"], e["to"], e["quantity"], e["uom"]) for e in result["edges"]} == {
        (F, FF, 10000.0, "kg"),
        (H, FF, 1000.0, "kg"),
        (FF, C, 12000.0, "kg"),
        (FM, C, 10000.0, "kg"),
        (C, P, 9876.0, "kg"),
    }
    assert {n["lot"]["epcClass"] for n in result["nodes"]} == {P, C, FF, FM, F, H}


@pytest.mark.parametrize("kind", ["contract", "epcis"])
async def test_forward_from_the_feed_reaches_the_cans(gdst: Starlette, kind: str) -> None:
    result = await trace(gdst, kind, F, "FORWARD")
    assert [(n["lot"]["id"], n["depth"]) for n in result["nodes"]] == [(F, 0), (FF, 1), (C, 2), (P, 3)]


@pytest.mark.parametrize("kind", ["contract", "epcis"])
async def test_mass_balance_flags_what_the_file_does_not_account_for(gdst: Starlette, kind: str) -> None:
    balance = (await trace(gdst, kind, P, "BACKWARD"))["massBalance"]
    lots = {b["lotId"]: (b["produced"], b["consumed"], b["unaccounted"], b["balanced"]) for b in balance["lots"]}
    assert lots == {
        F: (10000.0, 10000.0, 0.0, True),
        H: (1000.0, 1000.0, 0.0, True),
        FF: (12000.0, 12000.0, 0.0, True),
        FM: (9876.0, 10000.0, -124.0, False),
        C: (22000.0, 9876.0, 12124.0, False),
        P: (5000.0, 0.0, 5000.0, False),
    }
    assert (balance["balanced"], balance["flaggedLots"]) == (False, 3)
    made = {
        t["outputLotIds"][0]: (t["inputQuantity"], t["outputQuantity"], t["difference"])
        for t in balance["transformations"]
    }
    assert made == {FF: (11000.0, 12000.0, 1000.0), C: (22000.0, 22000.0, 0.0), P: (9876.0, 5000.0, -4876.0)}


async def test_both_mes_kinds_give_the_same_trace(gdst: Starlette) -> None:
    for lot, direction in ((P, "BACKWARD"), (F, "FORWARD"), (C, "BOTH")):
        assert await trace(gdst, "contract", lot, direction) == await trace(gdst, "epcis", lot, direction)


async def test_mass_balance_asked_through_a_fragment_is_read_after_the_walk(gdst: Starlette) -> None:
    # the walk reads the audit along only when it sees massBalance among the fields; behind a fragment it reads it
    # afterwards, with the same answer
    query = TRACE.replace("massBalance {", "... on Genealogy { massBalance {") + " }"
    async with graphql_over(gdst, mes_kind="contract") as run:
        behind = (await run(query, {"lot": P, "direction": "BACKWARD"}))["lotGenealogy"]["massBalance"]
    assert behind == (await trace(gdst, "contract", P, "BACKWARD"))["massBalance"]
