"""The same trace over the contract MES and over the EPCIS adapter (the plant's EPCIS query interface over the same
data) is the same graph: lots, depths, edges with quantity, unit, work order and time, and each lot's quantity, unit,
work order, GTIN and EPC class.

Left out of the comparison, because EPCIS events do not carry them: a lot's kind (events tell raw, made, made and
consumed — not finished), its plant and supplier codes, and when a made lot was produced (the event's time is the
time of the consumption, which the edges carry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from api.settings import SOURCES, load_settings
from tests.conftest import PLANT, TEST_SECRET, gateway_over
from tests.epcis.conftest import graphql_over

TRACE = """query($lot: ID!, $direction: TraceDirection!) {
  lotGenealogy(lotId: $lot, direction: $direction, maxDepth: 30) {
    root { id } truncated
    nodes { depth direction lot { id quantity uom workOrder gtin epcClass digitalLink } }
    edges { from to quantity uom workOrder occurredAt }
    summary { lots edges depth levels { direction depth lots edges newLots } }
  } }"""


def canonical(result: dict[str, Any]) -> dict[str, Any]:
    return {
        **result,
        "nodes": sorted(result["nodes"], key=lambda n: (n["direction"], n["depth"], n["lot"]["id"])),
        "edges": sorted(result["edges"], key=lambda e: (e["from"], e["to"])),
    }


@pytest.mark.parametrize("direction", ["BACKWARD", "FORWARD", "BOTH"])
async def test_contract_and_epcis_give_the_same_trace(
    plant: Starlette, manifest: dict[str, Any], direction: str
) -> None:
    lot = manifest["demo"]["lot_forward"] if direction == "FORWARD" else manifest["demo"]["lot_backward"]
    results = []
    for kind in ("contract", "epcis"):
        async with graphql_over(plant, mes_kind=kind) as run:
            results.append(canonical((await run(TRACE, {"lot": lot, "direction": direction}))["lotGenealogy"]))
    contract, epcis = results
    assert contract["summary"]["lots"] > 5
    assert contract == epcis


async def test_the_gateway_reads_genealogy_from_epcis_when_told(
    plant: Starlette, manifest: dict[str, Any], tmp_path: Path
) -> None:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    env |= {"LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0"}
    env |= {"LOTGRAPH_DATA_DIR": str(tmp_path / "gateway")}
    lot = manifest["demo"]["lot_backward"]
    answers = []
    for extra in ({}, {"LOTGRAPH_MES_KIND": "epcis", "LOTGRAPH_MES_URL": f"{PLANT}/mes/epcis"}):
        async with gateway_over(plant, load_settings({**env, **extra})) as gateway:
            body = await gateway.query(TRACE, {"lot": lot, "direction": "BOTH"})
            assert "errors" not in body, body
            answers.append(canonical(body["data"]["lotGenealogy"]))
            health = await gateway.query("{ sourceHealth { source state } }")
            assert {"source": "mes", "state": "CLOSED"} in health["data"]["sourceHealth"]
    assert answers[0] == answers[1]
