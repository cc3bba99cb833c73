"""``Lot.inputs`` and ``Lot.outputs``: one level of genealogy from any lot, batched across lots (the edges also over
a live Tryton)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import Gateway, Plant
from tests.genealogy.conftest import Upstream

LINKS = """query($ids: [ID!]) { lots(ids: $ids) { edges { node { id
    inputs { lot { id kind } quantity uom workOrder occurredAt }
    outputs { lot { id kind } quantity uom workOrder occurredAt } } } } }"""


async def test_inputs_and_outputs_are_the_edges_of_the_raw_table(upstream: Upstream) -> None:
    lots, genealogy = upstream.lots, upstream.genealogy
    ids = [lots["merge"], lots["split"], lots["raw_wide"]]
    body = await upstream.gateway.query(LINKS, {"ids": ids})
    assert "errors" not in body, body
    nodes = {edge["node"]["id"]: edge["node"] for edge in body["data"]["lots"]["edges"]}
    assert set(nodes) == set(ids)
    for lot_id, node in nodes.items():
        assert [link["lot"]["id"] for link in node["inputs"]] == sorted(genealogy.inputs.get(lot_id, []))
        assert [link["lot"]["id"] for link in node["outputs"]] == sorted(genealogy.outputs.get(lot_id, []))
        for link, (source, target) in [(x, (x["lot"]["id"], lot_id)) for x in node["inputs"]] + [
            (x, (lot_id, x["lot"]["id"])) for x in node["outputs"]
        ]:
            _, _, quantity, uom, work_order, occurred_at = genealogy.rows[(source, target)]
            assert (link["quantity"], link["uom"], link["workOrder"]) == (quantity, uom, work_order)
            assert datetime.fromisoformat(link["occurredAt"]) == datetime.fromisoformat(occurred_at)
            assert link["lot"]["kind"] in ("RAW", "INTERMEDIATE", "FINISHED")
    assert len(nodes[lots["merge"]]["inputs"]) >= 3
    assert len(nodes[lots["split"]]["outputs"]) >= 3
    assert nodes[lots["raw_wide"]]["inputs"] == []


async def test_links_of_many_lots_cost_one_request_per_direction(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    ids = [manifest["lots"]["merge"], manifest["lots"]["split"], *manifest["lots"]["held"]]
    await plant_admin.reset_stats()
    body = await gateway.query(LINKS, {"ids": ids})
    assert "errors" not in body, body
    stats = await plant_admin.stats()
    assert stats["mes"]["GET /genealogy"] == 2
    assert stats["mes"]["GET /lots"] <= 3


async def test_nested_links_batch_per_level(gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """query($id: ID!) { lot(id: $id) {
             inputs { lot { inputs { lot { inputs { lot { id disposition } } } } } } } }""",
        {"id": manifest["demo"]["lot_backward"]},
    )
    assert "errors" not in body, body
    stats = await plant_admin.stats()
    assert stats["mes"]["GET /genealogy"] == 3
    assert stats["qms"] == {"GET /lots": 1}


async def test_mes_down_nulls_the_links_with_an_error_naming_it(gateway: Gateway, plant_admin: Plant) -> None:
    await plant_admin.faults("mes", outage=True)
    body = await gateway.query(
        "{ shipments(first: 3) { edges { node { id lines { lots { id inputs { lot { id } } } } } } } }"
    )
    lots = [lot for e in body["data"]["shipments"]["edges"] for line in e["node"]["lines"] for lot in line["lots"]]
    assert lots
    assert all(lot["id"] and lot["inputs"] is None for lot in lots)
    assert {(e["extensions"]["code"], e["extensions"]["source"]) for e in body["errors"]} == {
        ("SOURCE_UNAVAILABLE", "mes")
    }
