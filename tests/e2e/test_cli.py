"""The `lotgraph` command as a user runs it: real processes, real ports, real HTTP."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from bench import launch
from bench.launch import LOTGRAPH, Demo


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    async with launch.running(launch.demo, tmp_path / "demo") as running:
        yield running


async def test_the_demo_answers_the_done_when_query(demo: Demo) -> None:
    query = (
        "query($id: ID!) { order(id: $id) { status "
        "shipments { id lines { lots { id disposition stock { status } } } } } }"
    )
    tokens = demo.tokens
    assert set(tokens) == {"admin", "quality", "shipping", "viewer"}, demo.banner
    async with httpx.AsyncClient(base_url=demo.gateway, timeout=10) as client:
        manifest = (await client.get(f"{demo.plant}/admin/manifest")).json()
        variables = {"id": manifest["orders"]["ready"][0]}
        body = {"query": query, "variables": variables}
        anonymous = (await client.post("/graphql", json=body)).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        quality = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {tokens['quality']}"})
        assert quality.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        client.headers["Authorization"] = f"Bearer {tokens['shipping']}"
        response = await client.post("/graphql", json=body, headers={"X-Correlation-ID": "e2e-1"})
        assert response.status_code == 200
        assert response.headers["X-Correlation-ID"] == "e2e-1"
        answer = response.json()
        assert "errors" not in answer
        assert answer["data"]["order"]["status"] == "RELEASED"
        lots = [lot for s in answer["data"]["order"]["shipments"] for line in s["lines"] for lot in line["lots"]]
        assert lots
        assert all(lot["disposition"] == "RELEASED" and lot["stock"] for lot in lots)

        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200
        assert "graphiql" in ide.text.lower()
        assert (await client.get("/healthz")).json() == {"status": "ok"}

        await client.put(f"{demo.plant}/qms/admin/faults", json={"outage": True})
        response = await client.post("/graphql", json=body)
        assert response.status_code == 200
        errors = response.json()["errors"]
        assert {(e["extensions"]["code"], e["extensions"]["source"]) for e in errors} == {("SOURCE_UNAVAILABLE", "qms")}

    assert await demo.astop() == 0


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_bad_setting_stops_start_up_with_one_line() -> None:
    urls = {f"LOTGRAPH_{s}_URL": f"http://127.0.0.1:9/{s.lower()}" for s in ("ERP", "QMS", "MES", "WMS")}
    code, _, err = await _run("serve", env={**urls, "LOTGRAPH_QMS_TIMEOUT": "abc"})
    assert code == 2
    assert err.strip().splitlines() == [
        "lotgraph: setting LOTGRAPH_QMS_TIMEOUT: must be a number of seconds, got 'abc'"
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTGRAPH_")}
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH, "serve", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    _, err_bytes = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert err_bytes.decode().strip().startswith("lotgraph: setting LOTGRAPH_ERP_URL: missing")


async def test_export_schema_prints_the_sdl(tmp_path: Path) -> None:
    code, out, _ = await _run("export-schema")
    assert code == 0
    assert "type Query {" in out
    assert "order(id: ID!): SalesOrder" in out
    target = tmp_path / "schema.graphql"
    code, _, _ = await _run("export-schema", "--output", str(target))
    assert code == 0
    assert target.read_text() == out


async def _ws(demo: Demo, init: dict[str, object]) -> websockets.ClientConnection:
    url = demo.gateway.replace("http://", "ws://") + "/graphql"
    ws = await websockets.connect(url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": init}))
    return ws


async def test_websocket_clients_authenticate_in_connection_init(demo: Demo) -> None:
    tokens = demo.tokens
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": "subscription { holdEvents { type cursor } }"}}

    bad = await _ws(demo, {"Authorization": "Bearer not-a-token"})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(bad.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403

    ws = await _ws(demo, {})
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps(subscribe))
    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "error", message  # anonymous: refused before validation, as the protocol's error
    assert [e["extensions"]["code"] for e in message["payload"]] == ["UNAUTHENTICATED"]
    await ws.close()

    ws = await _ws(demo, {"Authorization": f"Bearer {tokens['shipping']}"})
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps(subscribe))
    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "next", message  # refused before it runs: one result with the error, then complete
    assert message["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["FORBIDDEN"]
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "complete"
    await ws.close()

    ws = await _ws(demo, {"Authorization": f"Bearer {tokens['quality']}"})
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps(subscribe))
    await ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"  # subscribed, no error
    await ws.close()
