"""Several gateway replicas on one real Redis: an event recorded on one reaches subscribers on every one; a Redis
restart in the middle of a stream loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.events.conftest import RedisServer
from tests.events.live import DEADLINE, GraphQLWS, Stack, eventually, log_of, stack

HOLD_EVENTS = """subscription($lots: [ID!], $after: String) {
  holdEvents(lotIds: $lots, after: $after) { cursor type source correlationId payload } }"""

PLACE = """mutation($input: PlaceHoldInput!) { placeHold(input: $input) {
  correlationId holds { id lotId } errors { code message } } }"""


def redis_env(url: str, prefix: str) -> dict[str, str]:
    return {"LOTGRAPH_BUS": "redis", "LOTGRAPH_REDIS_URL": url, "LOTGRAPH_REDIS_PREFIX": prefix}


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    name = f"lotgraph-test-{uuid.uuid4().hex}:"
    yield name
    client = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=f"*{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def place_hold_on(live: Stack, replica: int, lot: str) -> dict[str, Any]:
    variables = {"input": {"lotIds": [lot], "reasonCode": "OTHER", "idempotencyKey": uuid.uuid4().hex}}
    async with httpx.AsyncClient(base_url=live.gateways[replica].url, timeout=DEADLINE) as client:
        response = await client.post("/graphql", json={"query": PLACE, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["placeHold"]
    assert payload["errors"] == [], payload
    return payload


async def test_a_hold_placed_on_one_replica_reaches_a_subscriber_on_the_other(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path, redis_url: str, prefix: str
) -> None:
    plant_dir, manifest = plant_data
    lot = manifest["demo"]["lot_forward"]
    async with (
        stack(plant_dir, manifest, tmp_path, replicas=2, env=redis_env(redis_url, prefix)) as live,
        GraphQLWS(live.gateways[1].ws_url) as on_b,
    ):
        await on_b.subscribe("1", HOLD_EVENTS, {"lots": [lot], "after": await live.head(1)})
        placed = await place_hold_on(live, 0, lot)
        event = (await on_b.next("1"))["holdEvents"]
        # the QMS's own webhook for the same hold (to replica A) is the same fact: recorded once
        sender = live.plant.app.state.webhooks
        await eventually(lambda: sender.pending("qms") == 0, "the QMS's webhooks delivered")
        recorded = await log_of(live.services(1).bus)
    hold_id = placed["holds"][0]["id"]
    assert event["type"] == "HoldPlaced"
    assert event["payload"]["id"] == hold_id
    assert event["correlationId"] == placed["correlationId"]
    assert [e.type for e in recorded if e.payload.get("id") == hold_id] == ["HoldPlaced"]
    assert any(e.source == "qms" and e.type == "LotDispositionChanged" for e in recorded)


async def test_a_redis_restart_mid_stream_loses_no_event(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path, redis_server: RedisServer
) -> None:
    plant_dir, manifest = plant_data
    lot = manifest["demo"]["lot_forward"]
    async with (
        stack(plant_dir, manifest, tmp_path, replicas=2, env=redis_env(redis_server.url, "restart:")) as live,
        GraphQLWS(live.gateways[1].ws_url) as on_b,
    ):
        await on_b.subscribe("1", HOLD_EVENTS, {"lots": [lot], "after": await live.head(1)})
        before = [(await live.place_hold(lot))["id"] for _ in range(2)]
        got = [(await on_b.next("1"))["holdEvents"]["payload"]["id"] for _ in range(2)]
        redis_server.stop()
        during = [(await live.place_hold(lot))["id"] for _ in range(3)]  # the plant's webhooks now get 503
        sender = live.plant.app.state.webhooks
        await eventually(lambda: sender.stats.failures.get("qms", 0) > 0, "webhooks refused while Redis is down")
        redis_server.start()
        after = [(await live.place_hold(lot))["id"] for _ in range(2)]
        got += [(await on_b.next("1"))["holdEvents"]["payload"]["id"] for _ in range(5)]
    assert got == before + during + after
