"""The `lotgraph` command as a user runs it: real processes, real ports, real HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
START_DEADLINE = 60.0


@dataclass
class Demo:
    process: asyncio.subprocess.Process
    gateway: str
    plant: str
    banner: list[str]


async def _read_banner(process: asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise AssertionError("demo exited before printing its URLs: " + "".join(lines))
        lines.append(line.rstrip())
        if line.strip().startswith("try:"):
            return lines


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH,
        "demo",
        "--port",
        "0",
        "--plant-port",
        "0",
        "--data-dir",
        str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "LOTGRAPH_LOG_LEVEL": "warning"},
    )
    try:
        banner = await asyncio.wait_for(_read_banner(process), START_DEADLINE)
        text = "\n".join(banner)
        gateway = re.search(r"(http://127\.0\.0\.1:\d+)/graphql", text)
        plant = re.search(r"reference plant:\s+(http://127\.0\.0\.1:\d+)", text)
        assert gateway, text
        assert plant, text
        yield Demo(process, gateway.group(1), plant.group(1), banner)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


async def test_the_demo_answers_the_done_when_query(demo: Demo) -> None:
    query = (
        "query($id: ID!) { order(id: $id) { status "
        "shipments { id lines { lots { id disposition stock { status } } } } } }"
    )
    tokens = dict(re.findall(r"^\s+(admin|quality|shipping|viewer): (ey\S+)$", "\n".join(demo.banner), flags=re.M))
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

    demo.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(demo.process.wait(), 30) == 0


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
    tokens = dict(re.findall(r"^\s+(admin|quality|shipping|viewer): (ey\S+)$", "\n".join(demo.banner), flags=re.M))
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": "subscription { holdEvents { type cursor } }"}}

    bad = await _ws(demo, {"Authorization": "Bearer not-a-token"})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(bad.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403

    for init, expected in (({}, "UNAUTHENTICATED"), ({"Authorization": f"Bearer {tokens['shipping']}"}, "FORBIDDEN")):
        ws = await _ws(demo, init)
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps(subscribe))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next", message  # refused before it runs: one result with the error, then complete
        assert message["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [expected]
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "complete"
        await ws.close()

    ws = await _ws(demo, {"Authorization": f"Bearer {tokens['quality']}"})
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps(subscribe))
    await ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"  # subscribed, no error
    await ws.close()
