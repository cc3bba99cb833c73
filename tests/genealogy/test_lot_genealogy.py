"""``lotGenealogy`` through GraphQL against the reference plant, checked against a plain BFS over its raw edge table;
the traces and the merge and split shapes also over a live Tryton, checked against its productions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Gateway, Plant
from tests.genealogy.conftest import GatewayWith, Upstream
from tests.genealogy.reference import Closure, Genealogy

TRACE = """query($lot: ID!, $direction: TraceDirection!, $depth: Int) {
  lotGenealogy(lotId: $lot, direction: $direction, maxDepth: $depth) {
    root { id } direction maxDepth truncated truncation { reason limit message }
    nodes { depth direction lot { id } }
    edges { from to quantity uom workOrder occurredAt }
    cycles { lotIds }
    summary { lots edges depth backwardLots forwardLots levels { direction depth lots edges newLots } }
  } }"""


async def trace(gateway: Gateway, lot: str, direction: str, depth: int | None) -> dict[str, Any]:
    body = await gateway.query(TRACE, {"lot": lot, "direction": direction, "depth": depth})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["lotGenealogy"]
    return result


def expected(genealogy: Genealogy, lot: str, direction: str, depth: int) -> dict[str, Closure]:
    walks = {"BACKWARD": [False], "FORWARD": [True], "BOTH": [False, True]}[direction]
    return {
        "FORWARD" if forward else "BACKWARD": genealogy.closure(lot, forward=forward, max_depth=depth)
        for forward in walks
    }


def check_against(genealogy: Genealogy, result: dict[str, Any], lot: str, direction: str, depth: int) -> None:
    closures = expected(genealogy, lot, direction, depth)
    nodes = {(n["lot"]["id"], n["direction"], n["depth"]) for n in result["nodes"]}
    want = {(lot, direction, 0)} | {
        (other, way, d) for way, closure in closures.items() for other, d in closure.depth.items() if other != lot
    }
    assert nodes == want
    assert len(result["nodes"]) == len(want), "a lot listed twice in one direction"
    edges = {(e["from"], e["to"]) for e in result["edges"]}
    assert edges == set().union(*(c.edges for c in closures.values()))
    assert len(result["edges"]) == len(edges)
    for e in result["edges"]:
        _, _, quantity, uom, work_order, occurred_at = genealogy.rows[(e["from"], e["to"])]
        assert (e["quantity"], e["uom"], e["workOrder"]) == (quantity, uom, work_order)
        assert datetime.fromisoformat(e["occurredAt"]) == datetime.fromisoformat(occurred_at)
    truncated = any(c.truncated for c in closures.values())
    assert result["truncated"] is truncated
    assert result["truncation"] == (
        None if not truncated else {"reason": "MAX_DEPTH", "limit": depth, "message": result["truncation"]["message"]}
    )
    summary = result["summary"]
    assert summary["lots"] == len({n[0] for n in nodes})
    assert summary["edges"] == len(edges)
    assert summary["depth"] == max(n[2] for n in nodes)
    for way, key in (("BACKWARD", "backwardLots"), ("FORWARD", "forwardLots")):
        assert summary[key] == (len(closures[way].depth) - 1 if way in closures else 0)
    assert result["root"] == {"id": lot}
    assert result["direction"] == direction
    assert result["maxDepth"] == depth


CASES = [
    ("raw_wide", "FORWARD"),
    ("merge", "BACKWARD"),
    ("split", "FORWARD"),
    ("multi_customer", "BACKWARD"),
    ("multi_customer", "BOTH"),
    ("merge", "BOTH"),
]


TRACES = [("contract", which, direction, depth) for depth in (0, 1, 3, 10) for which, direction in CASES]
TRACES += [("tryton", which, direction, 10) for which, direction in CASES]  # Tryton's three levels, whole
TRACES += [("tryton", "merge", "BOTH", 1), ("tryton", "raw_wide", "FORWARD", 0)]  # and cut short
"""Every case over the reference plant; over Tryton (a gateway of its own costs a login per system) each case whole,
and two cut short."""


@pytest.mark.parametrize(("upstream", "which", "direction", "depth"), TRACES, indirect=["upstream"])
async def test_traces_match_a_plain_bfs_over_the_raw_edge_table(
    upstream: Upstream, which: str, direction: str, depth: int
) -> None:
    lot = upstream.lots[which]
    result = await trace(upstream.gateway, lot, direction, depth)
    check_against(upstream.genealogy, result, lot, direction, depth)


async def test_the_demo_lots_trace_to_the_end(gateway: Gateway, manifest: dict[str, Any], genealogy: Genealogy) -> None:
    backward = await trace(gateway, manifest["demo"]["lot_backward"], "BACKWARD", 30)
    check_against(genealogy, backward, manifest["demo"]["lot_backward"], "BACKWARD", 30)
    assert not backward["truncated"]
    assert backward["summary"]["depth"] >= 3
    forward = await trace(gateway, manifest["lots"]["raw_wide"], "FORWARD", 30)
    assert forward["summary"]["lots"] == manifest["lots"]["raw_wide_reach"] + 1
    assert forward["summary"]["depth"] == manifest["lots"]["raw_wide_depth"]


async def test_merges_and_splits_show_in_the_graph(upstream: Upstream) -> None:
    merge = await trace(upstream.gateway, upstream.lots["merge"], "BACKWARD", 1)
    assert len([e for e in merge["edges"] if e["to"] == upstream.lots["merge"]]) >= 3
    split = await trace(upstream.gateway, upstream.lots["split"], "FORWARD", 1)
    assert len([e for e in split["edges"] if e["from"] == upstream.lots["split"]]) >= 3


async def test_a_cycle_in_the_source_data_is_walked_once_and_reported(
    gateway: Gateway, manifest: dict[str, Any], genealogy: Genealogy
) -> None:
    cycle = manifest["lots"]["cycle"]
    result = await trace(gateway, cycle[0], "BOTH", 30)
    check_against(genealogy, result, cycle[0], "BOTH", 30)
    assert result["cycles"] == [{"lotIds": sorted(cycle)}]
    assert result["truncated"] is False
    clean = await trace(gateway, manifest["lots"]["merge"], "BOTH", 30)
    assert clean["cycles"] == []


async def test_requests_per_trace_are_one_per_level_and_kind(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: 20) {
             summary { lots levels { lots newLots } } nodes { lot { id kind disposition holds { id } } } } }""",
        {"lot": manifest["lots"]["raw_wide"]},
    )
    assert "errors" not in body, body
    levels = body["data"]["lotGenealogy"]["summary"]["levels"]
    assert all(level["lots"] <= 500 for level in levels)
    assert len(levels) == manifest["lots"]["raw_wide_depth"] + 1
    assert all(node["lot"]["kind"] and node["lot"]["disposition"] for node in body["data"]["lotGenealogy"]["nodes"])
    filled = 1 + sum(1 for level in levels if level["newLots"])  # the root, then each level that found lots
    stats = await plant_admin.stats()
    assert stats["mes"] == {"GET /genealogy": len(levels), "GET /lots": filled}
    assert stats["qms"] == {"GET /lots": filled, "GET /holds": filled}
    assert stats["wms"] == {}
    assert stats["erp"] == {}


async def test_a_trace_without_lot_data_reads_only_genealogy_and_masters(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """fragment L on Lot { id quantity }
           query($lot: ID!) { lotGenealogy(lotId: $lot) { root { ...L } nodes { lot { ...L } } } }""",
        {"lot": manifest["demo"]["lot_backward"]},
    )
    assert "errors" not in body, body
    stats = await plant_admin.stats()
    assert set(stats["mes"]) == {"GET /genealogy", "GET /lots"}
    assert stats["qms"] == stats["wms"] == stats["erp"] == {}


async def test_a_trace_asking_no_master_field_reads_the_roots_master_alone(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    query = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: 20) {
                 summary { lots %s } nodes { depth lot { id site disposition %s } } } }"""
    lot = {"lot": manifest["lots"]["raw_wide"]}
    await plant_admin.reset_stats()
    lean = await gateway.query(query % ("", ""), lot)
    assert "errors" not in lean, lean
    assert (await plant_admin.stats())["mes"].get("GET /lots", 0) <= 1  # the root (cached or not): it must exist
    # A master field of the nodes, or a count of their masters, reads them all (the MES cache may answer some).
    with_kind = await gateway.query(query % ("", "kind"), lot)
    nodes = with_kind["data"]["lotGenealogy"]["nodes"]
    assert all(node["lot"].pop("kind") for node in nodes), with_kind
    assert nodes == lean["data"]["lotGenealogy"]["nodes"]
    by_kind = await gateway.query(query % ("byKind { kind lots }", ""), lot)
    summary = by_kind["data"]["lotGenealogy"]["summary"]
    assert all(count["kind"] for count in summary["byKind"]), by_kind
    assert sum(count["lots"] for count in summary["byKind"]) == summary["lots"]


async def test_lot_fields_asked_through_fragments_are_read_during_the_walk(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """fragment Q on Lot { disposition stock { quantity } }
           query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD) {
             summary { levels { newLots } } nodes { ... on GenealogyNode { lot { id ...Q } } } } }""",
        {"lot": manifest["lots"]["split"]},
    )
    assert "errors" not in body, body
    filled = 1 + sum(1 for level in body["data"]["lotGenealogy"]["summary"]["levels"] if level["newLots"])
    stats = await plant_admin.stats()
    assert stats["qms"] == {"GET /lots": filled}
    assert stats["wms"] == {"GET /stock": filled}


async def test_defaults_are_backward_and_ten_levels(gateway: Gateway, manifest: dict[str, Any]) -> None:
    body = await gateway.query(
        "query($lot: ID!) { lotGenealogy(lotId: $lot) { direction maxDepth nodes { direction } } }",
        {"lot": manifest["lots"]["merge"]},
    )
    result = body["data"]["lotGenealogy"]
    assert (result["direction"], result["maxDepth"]) == ("BACKWARD", 10)
    assert {n["direction"] for n in result["nodes"]} == {"BACKWARD"}


async def test_the_server_caps_the_depth_and_says_so(
    gateway_with: GatewayWith, manifest: dict[str, Any], genealogy: Genealogy
) -> None:
    lot = manifest["lots"]["raw_wide"]
    async with gateway_with(LOTGRAPH_GENEALOGY_MAX_DEPTH="2") as gateway:
        for asked in (10, None):
            result = await trace(gateway, lot, "FORWARD", asked)
            assert result["maxDepth"] == 2
            assert result["truncation"]["reason"] == "SERVER_MAX_DEPTH"
            assert result["truncation"]["limit"] == 2
            closure = genealogy.closure(lot, forward=True, max_depth=2)
            assert {n["lot"]["id"]: n["depth"] for n in result["nodes"]} == closure.depth
        within = await trace(gateway, lot, "FORWARD", 1)
        assert within["truncation"]["reason"] == "MAX_DEPTH"


async def test_the_node_limit_stops_the_walk_level_by_level(
    gateway_with: GatewayWith, manifest: dict[str, Any], genealogy: Genealogy
) -> None:
    lot = manifest["lots"]["raw_wide"]
    reference = genealogy.closure(lot, forward=True, max_depth=30).depth
    async with gateway_with(LOTGRAPH_GENEALOGY_MAX_NODES="50") as gateway:
        result = await trace(gateway, lot, "FORWARD", 20)
    assert result["truncated"] is True
    assert result["truncation"]["reason"] == "NODE_LIMIT"
    assert result["summary"]["lots"] == len(result["nodes"]) == 50
    got = {n["lot"]["id"]: n["depth"] for n in result["nodes"]}
    assert all(reference[lot_id] == depth for lot_id, depth in got.items())
    last = max(got.values())
    assert {i for i, d in got.items() if d < last} == {i for i, d in reference.items() if d < last}
    assert all(e["from"] in got and e["to"] in got for e in result["edges"])


async def test_the_time_budget_stops_a_slow_walk(
    gateway_with: GatewayWith, plant_admin: Plant, manifest: dict[str, Any], genealogy: Genealogy
) -> None:
    lot = manifest["lots"]["raw_wide"]
    reference = genealogy.closure(lot, forward=True, max_depth=30).depth
    await plant_admin.faults("mes", latency_ms=100)
    async with gateway_with(LOTGRAPH_GENEALOGY_TIME_BUDGET="0.25") as gateway:
        result = await trace(gateway, lot, "FORWARD", 20)
    assert result["truncation"]["reason"] == "TIME_BUDGET"
    assert result["truncation"]["limit"] == 0.25
    got = {n["lot"]["id"]: n["depth"] for n in result["nodes"]}
    assert 1 < len(got) < len(reference)
    assert all(reference[lot_id] == depth for lot_id, depth in got.items())


async def test_an_unknown_lot_is_a_typed_error(gateway: Gateway) -> None:
    for field in ("lotGenealogy", "recallImpact"):
        body = await gateway.query(f'{{ {field}(lotId: "LOT-999999") {{ maxDepth }} }}')
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["LOT_NOT_FOUND"]
        assert "LOT-999999" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "arguments",
    ['lotId: "LOT-000001", maxDepth: -1', 'lotId: "LOT-000001,LOT-000002"', 'lotId: " "'],
)
async def test_bad_arguments_are_refused_before_any_upstream_call(
    gateway: Gateway, plant_admin: Plant, arguments: str
) -> None:
    await plant_admin.reset_stats()
    for field in ("lotGenealogy", "recallImpact"):
        body = await gateway.query(f"{{ {field}({arguments}) {{ maxDepth }} }}")
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]
    assert all(not counts for counts in (await plant_admin.stats()).values())


async def test_mes_down_is_a_typed_error_and_nothing_is_invented(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.faults("mes", outage=True)
    for field in ("lotGenealogy", "recallImpact"):
        body = await gateway.query(
            f"query($lot: ID!) {{ {field}(lotId: $lot) {{ maxDepth truncated }} }}", {"lot": manifest["lots"]["merge"]}
        )
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "SOURCE_UNAVAILABLE", "source": "mes"}]


async def test_mes_failing_mid_walk_is_a_typed_error(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.faults("mes", garbage=True)
    body = await gateway.query(
        "query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD) { nodes { depth } } }",
        {"lot": manifest["lots"]["raw_wide"]},
    )
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SOURCE_PROTOCOL_ERROR"}
