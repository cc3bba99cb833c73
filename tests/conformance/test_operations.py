"""Operations endpoints of a gateway wired to the reference plant in process: /metrics and /readyz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, load_settings
from tests.conftest import PLANT, Plant


@dataclass
class Gw:
    client: httpx.AsyncClient
    plant: httpx.AsyncClient

    async def query(self, query: str, **headers: str) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query}, headers=headers)
        body: dict[str, Any] = response.json()
        return body

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = await self.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }


def settings_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    return {**env, "LOTGRAPH_DATA_DIR": str(tmp_path), "LOTGRAPH_AUTH_MODE": "none", **extra}


@pytest.fixture
async def gw(plant: Starlette, tmp_path: Path) -> AsyncIterator[Gw]:
    settings = load_settings(settings_env(tmp_path))
    transport = httpx.ASGITransport(app=plant)
    app = create_app(settings, transports=dict.fromkeys(SOURCES, transport))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    plant_client = httpx.AsyncClient(transport=transport, base_url=PLANT)
    async with app.router.lifespan_context(app), client, plant_client:
        yield Gw(client, plant_client)


def value(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


SHIPMENTS = (
    "query Dock { shipments(first: 5) { edges { node { id warehouseStage lines { lots { id disposition } } } } } }"
)


async def test_operations_are_counted_by_name_type_and_outcome(gw: Gw) -> None:
    assert "errors" not in await gw.query(SHIPMENTS)
    await gw.query("query Broken { nosuchfield }")
    await gw.query("{ order(id:")
    await gw.query("query Partial { shipments(first: 0) { totalCount } __typename }")
    m = await gw.metrics()
    assert value(m, "lotgraph_graphql_operations_total", operation="Dock", type="query", outcome="ok") == 1
    assert value(m, "lotgraph_graphql_operations_total", operation="Broken", type="query", outcome="failed") == 1
    assert value(m, "lotgraph_graphql_operations_total", operation="anonymous", type="unknown", outcome="failed") == 1
    assert value(m, "lotgraph_graphql_operations_total", operation="Partial", type="query", outcome="failed") == 1
    assert value(m, "lotgraph_graphql_operation_duration_seconds_count", type="query") == 3
    assert value(m, "lotgraph_graphql_operation_duration_seconds_count", type="unknown") == 1


async def test_upstream_calls_are_counted_by_source_and_outcome(gw: Gw, plant_admin: Plant) -> None:
    await gw.query(SHIPMENTS)
    m = await gw.metrics()
    for source in ("erp", "wms", "mes", "qms"):
        assert value(m, "lotgraph_upstream_call_duration_seconds_count", source=source, outcome="ok") >= 1, source
    assert value(m, "lotgraph_upstream_call_duration_seconds_bucket", source="erp", outcome="ok", le="+Inf") >= 1

    await plant_admin.faults("qms", outage=True)
    body = await gw.query(SHIPMENTS)
    assert {e["extensions"]["source"] for e in body["errors"]} == {"qms"}
    m = await gw.metrics()
    failed = {
        dict(labels)["outcome"]: count
        for (name, labels), count in m.items()
        if name == "lotgraph_upstream_call_duration_seconds_count" and dict(labels)["source"] == "qms"
    }
    assert sum(count for outcome, count in failed.items() if outcome != "ok") >= 1, failed
    assert value(m, "lotgraph_graphql_operations_total", operation="Dock", type="query", outcome="partial") == 1


async def test_breaker_state_is_shown_per_source(gw: Gw) -> None:
    m = await gw.metrics()
    for source in SOURCES:
        assert value(m, "lotgraph_source_breaker_state", source=source, state="CLOSED") == 1
        assert value(m, "lotgraph_source_breaker_state", source=source, state="OPEN") == 0
        assert (("lotgraph_source_calls_in_flight", (("source", source),))) in m


async def test_business_figures_match_the_systems_of_record(gw: Gw) -> None:
    holds: list[dict[str, Any]] = []
    after = None
    while True:
        page = (
            await gw.plant.post(
                "/qms/holds/search", json={"status": "ACTIVE", "limit": 500, **({"after": after} if after else {})}
            )
        ).json()
        holds += page["items"]
        if not page["next_after"]:
            break
        after = page["next_after"]
    assert holds, "the generated plant has active holds"
    lots = sorted({h["lot_id"] for h in holds})
    stock = (await gw.plant.get("/wms/stock", params={"lot_ids": ",".join(lots)})).json()["items"]
    blocked: dict[str, float] = {}
    for s in stock:
        if s["status"] == "BLOCKED":
            blocked[s["uom"]] = blocked.get(s["uom"], 0.0) + s["quantity"]
    oldest = min(datetime.fromisoformat(h["placed_at"].replace("Z", "+00:00")) for h in holds)

    m = await gw.metrics()
    assert value(m, "lotgraph_active_holds") == len(holds)
    assert value(m, "lotgraph_sampler_up", sampler="holds") == 1
    assert blocked, "the plant blocks the stock of lots on hold"
    for uom, quantity in blocked.items():
        assert value(m, "lotgraph_blocked_stock_quantity", uom=uom) == pytest.approx(quantity)
    age = value(m, "lotgraph_oldest_active_hold_age_seconds")
    assert age == pytest.approx((datetime.now(UTC) - oldest).total_seconds(), abs=60)
    assert value(m, "lotgraph_pending_actions", status="PENDING") == 0
    assert ("lotgraph_pending_actions", (("status", "FAILED"),)) in m
    assert value(m, "lotgraph_sampler_up", sampler="dead_letters") == 1


async def test_a_failing_sampler_is_reported_not_fatal(gw: Gw, plant_admin: Plant) -> None:
    await plant_admin.faults("qms", outage=True)
    m = await gw.metrics()
    assert value(m, "lotgraph_sampler_up", sampler="holds") == 0
    assert value(m, "lotgraph_sampler_up", sampler="sources") == 1


async def test_readyz_names_every_dependency_with_state_and_latency(gw: Gw, plant_admin: Plant) -> None:
    response = await gw.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) >= {"erp", "qms", "mes", "wms", "bus", "store"}
    assert all(c["status"] == "up" and c["seconds"] >= 0 for c in body["checks"].values())

    await plant_admin.faults("wms", outage=True)
    response = await gw.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["wms"]["status"] == "down"
    assert "WMS" in body["checks"]["wms"]["error"]
    assert all(c["status"] == "up" for name, c in body["checks"].items() if name != "wms")
    assert (await gw.client.get("/healthz")).status_code == 200  # alive, only not ready


async def test_readyz_is_503_until_started(tmp_path: Path) -> None:
    app = create_app(load_settings(settings_env(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "starting"
