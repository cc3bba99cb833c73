"""Holds across real processes: gateway replicas sharing Redis or PostgreSQL against one real plant, and a gateway
killed while an action is pending."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import launch
from bench.launch import Launched
from tests.holds.conftest import PENDING, PLACE, PlantState, gateway_process, new_key
from tests.waits import eventually

SHORT_LEASE = {"LOTGRAPH_HOLDS_LEASE_SECONDS": "3"}
"""The retry worker of the killed gateway may die holding the action's lease: another takes it over after this."""


async def replicas_on(plant_url: str, tmp_path: Path, count: int, **env: str) -> list[Launched]:
    """``count`` gateway replicas on the plant with the same settings, started together."""
    starts = (launch.started(gateway_process, plant_url, tmp_path / f"gateway-{n}", **env) for n in range(count))
    return list(await asyncio.gather(*starts))


async def _place(client: httpx.AsyncClient, url: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{url}/graphql", json={"query": PLACE, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["placeHold"]
    return payload


@pytest.mark.parametrize(("store", "replicas"), [("redis", 1), ("redis", 2), ("postgres", 3)])
async def test_a_duplicate_storm_across_replicas_sharing_the_store_creates_one_hold(
    tmp_path: Path,
    plant_data: tuple[Path, dict[str, Any]],
    redis_url: str,
    redis_prefix: str,
    postgres_url: str,
    store: str,
    replicas: int,
) -> None:
    data_dir, manifest = plant_data
    lot = manifest["demo"]["hold_lot"]
    shared = {"LOTGRAPH_STORE": "redis", "LOTGRAPH_REDIS_URL": redis_url, "LOTGRAPH_REDIS_PREFIX": redis_prefix}
    if store == "postgres":
        shared = {"LOTGRAPH_STORE": "postgres", "LOTGRAPH_POSTGRES_URL": postgres_url}
    async with launch.running(launch.plant, data_dir) as plant:
        gateways: list[Launched] = []
        try:
            gateways += await replicas_on(plant.url, tmp_path, replicas, **shared)
            async with httpx.AsyncClient(timeout=30) as client:
                await client.post(f"{plant.url}/qms/admin/stats/reset")
                request = {"input": {"lotIds": [lot], "reasonCode": "RECALL", "idempotencyKey": new_key()}}
                answers = await asyncio.gather(
                    *(_place(client, gateways[n % replicas].url, request) for n in range(50))
                )
                hold_ids = {h["id"] for a in answers for h in a["holds"]}
                assert len(hold_ids) == 1
                for answer in answers:
                    assert answer["complete"] or [e["code"] for e in answer["errors"]] == ["IN_PROGRESS"]
                assert sum(1 for a in answers if a["complete"] and not a["replayed"]) == 1

                state = PlantState(httpx.AsyncClient(base_url=plant.url, timeout=10))
                async with state.client:
                    assert [h["id"] for h in await state.holds(lot)] == list(hold_ids)
                    assert await state.stock_statuses(lot) == {"BLOCKED"}
                stats = (await client.get(f"{plant.url}/qms/admin/stats")).json()["requests"]
                assert stats["POST /holds"] == 1

                # Every replica knows the key now: a replay anywhere, another request under it refused anywhere.
                for gateway in gateways:
                    assert (await _place(client, gateway.url, request))["replayed"] is True
                    other = {"input": {**request["input"], "reasonCode": "OTHER"}}
                    refused = await _place(client, gateway.url, other)
                    assert [e["code"] for e in refused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        finally:
            for gateway in gateways:
                await gateway.astop()


async def test_a_gateway_killed_while_an_action_is_pending_completes_it_after_restart(
    tmp_path: Path, plant_data: tuple[Path, dict[str, Any]]
) -> None:
    data_dir, manifest = plant_data
    lot = manifest["demo"]["hold_lot"]
    gateway_dir = tmp_path / "gateway"
    async with launch.running(launch.plant, data_dir) as plant, httpx.AsyncClient(timeout=30) as client:
        state = PlantState(httpx.AsyncClient(base_url=plant.url, timeout=10))
        async with state.client:
            gateway = await launch.started(gateway_process, plant.url, gateway_dir, **SHORT_LEASE)
            try:
                assert (await client.put(f"{plant.url}/wms/admin/faults", json={"outage": True})).status_code == 200
                request = {"input": {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
                response = await client.post(f"{gateway.url}/graphql", json={"query": PLACE, "variables": request})
                payload = response.json()["data"]["placeHold"]
                (action,) = payload["pendingActions"]
                assert payload["complete"] is False
            finally:
                await gateway.astop(signal.SIGKILL)  # no graceful shutdown: the store must hold the action anyway
            assert (await client.put(f"{plant.url}/wms/admin/faults", json={"outage": False})).status_code == 200
            assert await state.stock_statuses(lot) == {"UNRESTRICTED"}

            restarted = await launch.started(gateway_process, plant.url, gateway_dir, **SHORT_LEASE)
            try:

                async def done() -> dict[str, Any] | None:
                    response = await client.post(
                        f"{restarted.url}/graphql", json={"query": PENDING, "variables": {"status": ["DONE"]}}
                    )
                    found = [a for a in response.json()["data"]["pendingActions"] if a["id"] == action["id"]]
                    return found[0] if found else None

                finished = await eventually(done, "the restarted gateway completes the pending block")
                assert finished["correlationId"] == payload["correlationId"]
                assert await state.stock_statuses(lot) == {"BLOCKED"}
                replay = await client.post(f"{restarted.url}/graphql", json={"query": PLACE, "variables": request})
                assert replay.json()["data"]["placeHold"]["holds"] == payload["holds"]
            finally:
                await restarted.astop()
