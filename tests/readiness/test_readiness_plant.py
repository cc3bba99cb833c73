"""Readiness against the reference plant: the generator's scenarios, outages, batching, and no stale cache. The
scenario tests also run over a live Tryton (kind ``tryton``): the same rules, the same answers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.adapters import open_sources
from api.settings import SOURCES, Settings
from sources.combined import expanded_by_reads, quality_by_reads
from sources.records import ShipmentFilter
from tests.conftest import FreshPlant, Gateway, Plant, gateway_over
from tests.tryton_server import EXPRESSIBLE, Tryton, gateway_on, plant_manifest, tryton_settings

READINESS = """query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) {
    shipmentId status ready evaluatedAt requiredStage
    blockers { code source message lotId orderId lineNo since }
    checks { name source status detail }
    observations { source fetchedAt latencyMs fromCache ok error } } }"""


async def _readiness(gateway: Gateway, ids: list[str]) -> list[dict[str, Any]]:
    body = await gateway.query(READINESS, {"ids": ids})
    assert "errors" not in body, body
    result: list[dict[str, Any]] = body["data"]["shipmentsReadiness"]
    return result


@dataclass
class Upstream:
    """The gateway over one kind of upstream, with that upstream's manifest and the blocker codes its data shows."""

    gateway: Gateway
    manifest: dict[str, Any]
    codes: frozenset[str]


ALL_CODES = frozenset(
    {
        "CREDIT_BLOCK",
        "DELIVERY_BLOCK",
        "ORDER_NOT_RELEASED",
        "LOT_NOT_RELEASED",
        "LOT_ON_HOLD",
        "OPEN_DEVIATION",
        "COA_MISSING",
        "LOT_EXPIRED",
        "STOCK_BLOCKED",
        "ALLOCATION_INCOMPLETE",
        "PICKING_INCOMPLETE",
        "NOT_STAGED",
    }
)


@pytest.fixture(params=["contract", "tryton"])
async def upstream(
    request: pytest.FixtureRequest,
    settings: Settings,
    plant: Starlette,
    manifest: dict[str, Any],
    tryton: Tryton,
    tmp_path: Path,
) -> AsyncIterator[Upstream]:
    """The same suite over both kinds of adapter: the reference plant (contract) and a live Tryton."""
    if request.param == "contract":
        async with gateway_over(plant, settings) as gateway:
            yield Upstream(gateway, manifest, ALL_CODES)
    else:
        async with gateway_on(tryton_settings(tryton, tmp_path / "tryton-gateway")) as gateway:
            yield Upstream(gateway, plant_manifest(tryton.manifest), EXPRESSIBLE)


async def test_ready_shipments_are_ready(upstream: Upstream) -> None:
    gateway, manifest = upstream.gateway, upstream.manifest
    ready = manifest["shipments"]["ready"]
    assert len(ready) >= 3
    for answer in await _readiness(gateway, ready):
        assert answer["status"] == "READY", answer["blockers"]
        assert answer["ready"] is True
        assert answer["blockers"] == []
        assert {c["status"] for c in answer["checks"]} == {"PASSED"}
        assert {(o["source"], o["ok"], o["fromCache"]) for o in answer["observations"]} == {
            ("erp", True, False),
            ("qms", True, False),
            ("wms", True, False),
        }
        assert answer["requiredStage"] == "STAGED"


async def test_blocked_shipments_name_every_blocker(upstream: Upstream) -> None:
    gateway, manifest = upstream.gateway, upstream.manifest
    blocked = manifest["shipments"]["blocked"]
    answers = {a["shipmentId"]: a for a in await _readiness(gateway, [b["id"] for b in blocked])}
    codes_seen: set[str] = set()
    for case in blocked:
        answer = answers[case["id"]]
        codes = {b["code"] for b in answer["blockers"]}
        assert answer["status"] == "NOT_READY", case
        assert codes == set(case["expected"]), (case, answer["blockers"])
        assert all(b["message"] and b["source"] in ("erp", "qms", "wms") for b in answer["blockers"])
        codes_seen |= codes
    assert codes_seen >= upstream.codes


@pytest.mark.parametrize("system", ["erp", "qms", "wms"])
async def test_a_system_in_outage_makes_it_unknown_naming_it(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any], system: str
) -> None:
    await plant_admin.faults(system, outage=True)
    ids = [*manifest["shipments"]["ready"][:2], manifest["shipments"]["blocked"][0]["id"]]
    for answer in await _readiness(gateway, ids):
        assert answer["status"] == "UNKNOWN"
        assert answer["ready"] is False
        unavailable = [b for b in answer["blockers"] if b["code"] == "SOURCE_UNAVAILABLE"]
        assert [b["source"] for b in unavailable] == [system]
        not_run = {c["source"] for c in answer["checks"] if c["status"] == "NOT_RUN"}
        assert not_run == {system} if system != "erp" else not_run <= {"erp", "qms"}
        observation = next(o for o in answer["observations"] if o["source"] == system)
        assert observation["ok"] is False
        assert observation["error"]


async def test_answered_sources_still_count_when_one_is_down(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    credit = next(b["id"] for b in manifest["shipments"]["blocked"] if b["expected"] == ["CREDIT_BLOCK"])
    await plant_admin.faults("wms", garbage=True)
    (answer,) = await _readiness(gateway, [credit])
    assert answer["status"] == "UNKNOWN"
    assert {b["code"] for b in answer["blockers"]} == {"CREDIT_BLOCK", "SOURCE_UNAVAILABLE"}


ONE_CALL_EACH = {
    "erp": {"GET /shipments/expanded": 1},
    "qms": {"GET /quality-status": 1},
    "wms": {"GET /shipments": 1},
}


@pytest.mark.parametrize("count", [1, 50, 200])
async def test_a_decision_costs_three_calls_whatever_the_number_of_shipments(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any], count: int
) -> None:
    body = await gateway.query("{ shipments(first: 200) { edges { node { id } } } }")
    ready = manifest["shipments"]["ready"][0]  # it has lots: every read of a decision runs
    ids = [ready, *(e["node"]["id"] for e in body["data"]["shipments"]["edges"] if e["node"]["id"] != ready)][:count]
    assert len(ids) == count
    await plant_admin.reset_stats()
    answers = await _readiness(gateway, ids)
    assert [a["shipmentId"] for a in answers] == ids
    stats = await plant_admin.stats()
    assert {system: stats[system] for system in ("erp", "qms", "wms")} == ONE_CALL_EACH
    assert all(not stats.get(system) for system in stats if system not in ONE_CALL_EACH)


async def test_the_combined_reads_answer_what_the_single_reads_do(plant: Starlette, settings: Settings) -> None:
    """The plant's expanded shipment read and quality-status read against the reads they replace (which the
    adapters of systems without them use: sources/combined.py), over every shipment and its lots."""
    sources = open_sources(settings, dict.fromkeys(SOURCES, httpx.ASGITransport(app=plant)))
    try:
        page = await sources.erp.search_shipments(ShipmentFilter(), limit=500, after=None)
        ids = [s.id for s in page.items] + ["DL-0"]
        expanded = await sources.erp.shipments_expanded(ids)
        assert expanded == await expanded_by_reads(sources.erp, ids)
        assert "DL-0" not in expanded
        assert len(expanded) == len(page.items) > 50
        lots = [lot for x in expanded.values() for lot in x.shipment.lot_ids] + ["LOT-NONE"]
        status = await sources.qms.quality_status(lots)
        assert status == await quality_by_reads(sources.qms, lots)
        assert any(q.active_holds for q in status.values())
        assert any(q.open_deviations for q in status.values())
        assert "LOT-NONE" not in status
    finally:
        await sources.aclose()


async def test_readiness_on_orders_and_their_shipments_is_decided_once(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        "query($id: ID!) { order(id: $id) { readiness { status } shipments { id readiness { status } } } }",
        {"id": manifest["orders"]["ready"][0]},
    )
    assert "errors" not in body, body
    order = body["data"]["order"]
    assert len(order["shipments"]) >= 2
    assert [r["status"] for r in order["readiness"]] == ["READY"] * len(order["shipments"])
    assert all(s["readiness"]["status"] == "READY" for s in order["shipments"])
    stats = await plant_admin.stats()
    assert stats["qms"] == {"GET /quality-status": 1}
    assert stats["wms"] == {"GET /shipments": 1}


async def test_readiness_of_a_listed_page_is_one_batch(gateway: Gateway, plant_admin: Plant) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query("{ shipments(first: 30) { edges { node { readiness { shipmentId status } } } } }")
    assert "errors" not in body, body
    assert len(body["data"]["shipments"]["edges"]) == 30
    stats = await plant_admin.stats()
    assert stats["erp"] == {"POST /shipments/search": 1, "GET /shipments/expanded": 1}
    assert stats["qms"] == {"GET /quality-status": 1}
    assert stats["wms"] == {"GET /shipments": 1}


async def test_unknown_shipment_is_unknown_not_ready(gateway: Gateway) -> None:
    body = await gateway.query('{ shipmentReadiness(shipmentId: "DL-0") { status blockers { code source } } }')
    assert body["data"]["shipmentReadiness"] == {
        "status": "UNKNOWN",
        "blockers": [{"code": "SHIPMENT_NOT_FOUND", "source": "erp"}],
    }


async def test_more_than_500_ids_is_a_typed_error(gateway: Gateway) -> None:
    body = await gateway.query(READINESS, {"ids": [f"DL-{i}" for i in range(501)]})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_hold_placed_in_the_qms_flips_the_next_answer(fresh_plant: FreshPlant) -> None:
    shipment_id = fresh_plant.manifest["demo"]["hold_shipment"]
    lot_id = fresh_plant.manifest["demo"]["hold_lot"]
    (before,) = await _readiness(fresh_plant.gateway, [shipment_id])
    assert before["status"] == "READY"
    response = await fresh_plant.admin.client.post(
        "/qms/holds",
        json={"lot_id": lot_id, "reason_code": "OUT_OF_SPEC", "comment": "placed in the QMS", "placed_by": "qa"},
        headers={"Idempotency-Key": "test-hold-1"},
    )
    assert response.status_code == 201, response.text
    (after,) = await _readiness(fresh_plant.gateway, [shipment_id])
    assert after["status"] == "NOT_READY"
    assert {(b["code"], b["lotId"]) for b in after["blockers"]} == {("LOT_ON_HOLD", lot_id)}


async def test_metrics_count_open_shipments_by_readiness(gateway: Gateway, manifest: dict[str, Any]) -> None:
    text = (await gateway.client.get("/metrics", headers={"Authorization": f"Bearer {gateway.bearer}"})).text
    counts = {
        status: float(value)
        for status, value in re.findall(r'^lotgraph_open_shipments\{readiness="(\w+)"\} (\S+)$', text, flags=re.M)
    }
    assert counts["READY"] >= len(manifest["shipments"]["ready"])
    assert counts["NOT_READY"] >= len(manifest["shipments"]["blocked"])
    assert counts["UNKNOWN"] == 0
