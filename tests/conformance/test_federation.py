"""Apollo Federation v2: `lotgraph serve --federation` is a subgraph with Lot, SalesOrder and Shipment as entities
keyed by id. @apollo/composition composes it beside a second subgraph that extends Shipment, @apollo/gateway serves
the supergraph, and queries crossing both answer; entity resolution is batched."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, load_settings
from tests.conformance.conftest import gateway_env, start_gateway
from tests.conformance.node import run_node
from tests.conftest import PLANT, Plant


@pytest.fixture(scope="module")
def subgraph(live_plant: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("federation-gateway")
    env = gateway_env(live_plant, directory / "data")
    process, url = start_gateway(env, "--federation", log=directory / "gateway.log")
    try:
        yield url
    finally:
        assert process.stop() == 0, process.tail()


def test_the_subgraph_declares_its_entities(subgraph: str) -> None:
    sdl = httpx.post(subgraph, json={"query": "{ _service { sdl } }"}, timeout=10).json()["data"]["_service"]["sdl"]
    assert "specs.apollo.dev/federation/v2" in sdl
    for entity in ("Lot", "SalesOrder", "Shipment"):
        assert f'type {entity} @key(fields: "id")' in sdl


def test_apollo_gateway_serves_queries_across_both_subgraphs(npm: Path, live_plant: str, subgraph: str) -> None:
    page = httpx.post(subgraph, json={"query": "{ shipments(first: 5) { edges { node { id } } } }"}, timeout=10)
    ids = [edge["node"]["id"] for edge in page.json()["data"]["shipments"]["edges"]]
    assert len(ids) == 5

    answer = run_node("federation.mjs", subgraph, live_plant, json.dumps(ids), timeout=90)

    crossing = answer["crossing"]
    assert "errors" not in crossing, crossing
    nodes = [edge["node"] for edge in crossing["data"]["shipments"]["edges"]]
    assert [n["id"] for n in nodes] == ids
    assert all(n["trackingNumber"] == f"TRK-{n['id']}" and n["status"] and n["order"]["id"] for n in nodes)

    entities = answer["entities"]
    assert "errors" not in entities, entities
    deliveries = entities["data"]["deliveries"]
    assert [d["shipment"]["id"] for d in deliveries] == ids
    assert all(d["shipment"]["status"] and d["shipment"]["lines"] for d in deliveries)
    # five shipment representations in one _entities request: one batched ERP read
    assert answer["erpRequests"] == {"GET /shipments": 1}, answer["erpRequests"]


@pytest.fixture
async def federated(plant: Starlette, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    settings = load_settings(
        {**env, "LOTGRAPH_DATA_DIR": str(tmp_path), "LOTGRAPH_FEDERATION": "true", "LOTGRAPH_AUTH_MODE": "none"}
    )
    transport = httpx.ASGITransport(app=plant)
    app = create_app(settings, transports=dict.fromkeys(SOURCES, transport))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    async with app.router.lifespan_context(app), client:
        yield client


ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Lot { id disposition }
  ... on SalesOrder { id orderStatus: status }
  ... on Shipment { id shipmentStatus: status }
} }"""


async def entities(client: httpx.AsyncClient, representations: list[dict[str, str]]) -> Any:
    response = await client.post("/graphql", json={"query": ENTITIES, "variables": {"r": representations}})
    assert response.status_code == 200, response.text
    return response.json()


async def test_n_representations_cost_one_upstream_call_per_kind(
    federated: httpx.AsyncClient, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    lots = [f"LOT-{i:06d}" for i in range(1, 21)]
    page = await federated.post(
        "/graphql", json={"query": "{ shipments(first: 20) { edges { node { id orderId } } } }"}
    )
    shipments = [edge["node"] for edge in page.json()["data"]["shipments"]["edges"]]
    representations = (
        [{"__typename": "Lot", "id": lot} for lot in lots]
        + [{"__typename": "Shipment", "id": s["id"]} for s in shipments]
        + [{"__typename": "SalesOrder", "id": s["orderId"]} for s in shipments]
    )
    await plant_admin.reset_stats()
    body = await entities(federated, representations)
    assert "errors" not in body, body
    answers = body["data"]["_entities"]
    assert [a["id"] for a in answers] == [r["id"] for r in representations]
    stats = await plant_admin.stats()
    assert stats["erp"] == {"GET /shipments": 1, "GET /orders": 1}
    assert stats["mes"] == {"GET /lots": 1}
    assert stats["qms"] == {"GET /lots": 1}


async def test_an_unknown_entity_is_null(federated: httpx.AsyncClient, plant_admin: Plant) -> None:
    body = await entities(
        federated, [{"__typename": "Shipment", "id": "DL-NOPE"}, {"__typename": "Lot", "id": "LOT-NOPE"}]
    )
    assert body["data"]["_entities"] == [None, None]
