"""A live stack for the events tests: the reference plant and gateway replicas served by real uvicorn on free
ports in the test's event loop, the plant sending signed webhooks to one gateway; and protocol clients:
graphql-transport-ws (the ``websockets`` package) and SSE (httpx)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.types import ASGIApp

from api.app import Lotgraph, create_app
from api.servers import bind
from api.services import Services
from api.settings import SOURCES, Settings, load_settings
from plant.app import create_plant_app
from plant.webhooks import WebhookTarget, sign
from sources.bus.envelope import Event

SECRET = "events-test-secret-0123456789"
DEADLINE = 20.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Served:
    app: Starlette
    sock: socket.socket
    server: uvicorn.Server
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        deadline = time.monotonic() + DEADLINE
        while not self.server.started:  # uvicorn sets it once the lifespan started and the socket listens
            assert not self.task.done(), f"server on {self.url} stopped while starting"
            assert time.monotonic() < deadline, f"server on {self.url} did not start in {DEADLINE} s"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, DEADLINE)
        self.sock.close()


def served(app: ASGIApp, sock: socket.socket) -> Served:
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", ws="websockets-sansio", timeout_graceful_shutdown=1
    )
    return Served(app, sock, _Server(config))  # type: ignore[arg-type]


def gateway_settings(plant_url: str, data_dir: Path, **env: str) -> Settings:
    values = {f"LOTGRAPH_{name.upper()}_URL": f"{plant_url}/{name}" for name in SOURCES}
    values |= {f"LOTGRAPH_WEBHOOKS_{name.upper()}_SECRET": SECRET for name in SOURCES}
    values |= {"LOTGRAPH_DATA_DIR": str(data_dir), "LOTGRAPH_GRAPHIQL": "false", **env}
    # these tests are about the event path; authentication has its own tests (tests/security)
    values.setdefault("LOTGRAPH_AUTH_MODE", "none")
    return load_settings(values)


@dataclass
class Stack:
    plant: Served
    gateways: list[Served]
    manifest: dict[str, Any]

    @property
    def gateway(self) -> Served:
        return self.gateways[0]

    @property
    def plant_url(self) -> str:
        return self.plant.url

    def services(self, replica: int = 0) -> Services:
        app = self.gateways[replica].app
        assert isinstance(app, Lotgraph)
        return app.services

    async def head(self, replica: int = 0) -> str:
        return await self.services(replica).bus.head()

    async def place_hold(self, lot_id: str, *, correlation_id: str | None = None) -> dict[str, Any]:
        """A hold placed in the QMS directly (as a person at the QMS would): the QMS's webhook tells the gateway."""
        headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Correlation-ID": correlation_id or uuid.uuid4().hex}
        body = {"lot_id": lot_id, "reason_code": "OTHER", "comment": "events test", "placed_by": "qa.test"}
        async with httpx.AsyncClient(base_url=self.plant_url, timeout=DEADLINE) as client:
            response = await client.post("/qms/holds", json=body, headers=headers)
        assert response.status_code == 201, response.text
        hold: dict[str, Any] = response.json()
        return hold


@contextlib.asynccontextmanager
async def stack(
    plant_dir: Path,
    manifest: dict[str, Any],
    data_dir: Path,
    *,
    replicas: int = 1,
    env: Mapping[str, str] | None = None,
    webhooks: bool = True,
) -> AsyncIterator[Stack]:
    """The plant in ``plant_dir`` and ``replicas`` gateways; the plant's webhooks go to the first gateway."""
    gateway_socks = [bind("127.0.0.1", 0) for _ in range(replicas)]
    plant_sock = bind("127.0.0.1", 0)
    plant_url = f"http://127.0.0.1:{plant_sock.getsockname()[1]}"
    first_gateway = f"http://127.0.0.1:{gateway_socks[0].getsockname()[1]}"
    target = WebhookTarget(first_gateway, dict.fromkeys(SOURCES, SECRET), poll_seconds=0.02) if webhooks else None
    plant = served(create_plant_app(plant_dir, webhooks=target), plant_sock)
    gateways = [
        served(create_app(gateway_settings(plant_url, data_dir / f"gateway-{i}", **(env or {}))), sock)
        for i, sock in enumerate(gateway_socks)
    ]
    started: list[Served] = []
    try:
        for server in [plant, *gateways]:
            await server.start()
            started.append(server)
        yield Stack(plant, gateways, manifest)
    finally:
        for server in reversed(started):
            await server.stop()


# -- webhooks ------------------------------------------------------------------------------------------------


def outbox_event(type_: str, payload: dict[str, Any], keys: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "type": type_,
        "occurred_at": "2024-05-01T08:00:00Z",
        "keys": keys,
        "payload": payload,
        "correlation_id": uuid.uuid4().hex,
        **extra,
    }


def hold_body(lot_id: str, hold_id: str | None = None) -> dict[str, Any]:
    hold_id = hold_id or f"H-T{uuid.uuid4().hex[:8]}"
    payload = {"id": hold_id, "lot_id": lot_id, "status": "ACTIVE", "reason_code": "OTHER", "placed_by": "qa.test"}
    return outbox_event("HoldPlaced", payload, {"lot_id": lot_id, "hold_id": hold_id})


async def post_webhook(
    base_url: str,
    source: str,
    body: bytes | dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    delivery_id: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "Webhook-Timestamp": stamp,
        "Webhook-Signature": signature if signature is not None else sign(secret, stamp, raw),
        "Webhook-Id": delivery_id or uuid.uuid4().hex,
    }
    async with httpx.AsyncClient(base_url=base_url, timeout=DEADLINE) as client:
        return await client.post(f"/webhooks/{source}", content=raw, headers=headers)


# -- graphql-transport-ws --------------------------------------------------------------------------------------


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class GraphQLWS:
    """A minimal graphql-transport-ws client: init, subscribe, read messages with a deadline."""

    def __init__(self, url: str, connection_params: dict[str, Any] | None = None) -> None:
        self.url = url
        self.params = connection_params or {}
        self.ws: Any = None

    async def __aenter__(self) -> GraphQLWS:
        self.ws = await websockets.connect(self.url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")])
        await self.send({"type": "connection_init", "payload": self.params})
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.ws.close()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, deadline: float = DEADLINE) -> dict[str, Any]:
        try:
            text = await asyncio.wait_for(self.ws.recv(), deadline)
        except websockets.ConnectionClosed as exc:
            raise Closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from exc
        message: dict[str, Any] = json.loads(text)
        return message

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def next(self, id: str, deadline: float = DEADLINE) -> dict[str, Any]:
        """The data of the next ``next`` message of ``id`` (pings answered; errors fail the test)."""
        while True:
            message = await self.receive(deadline)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            assert message.get("id") == id, message
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            data: dict[str, Any] = message["payload"]["data"]
            return data


# -- SSE (graphql-sse, distinct connections) ---------------------------------------------------------------------


async def sse_events(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The payloads of the ``next`` events of one SSE subscription, until ``complete``."""
    body = {"query": query, "variables": variables or {}}
    async with client.stream("POST", "/graphql", json=body, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind == "next":
                yield json.loads(line.split(":", 1)[1])
            elif line.startswith("data:") and kind == "complete":
                return


def event_of(data: dict[str, Any], field: str) -> dict[str, Any]:
    found: dict[str, Any] = data[field]
    return found


async def eventually(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Wait until ``condition()`` holds (checked every 10 ms), failing after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, f"{what}: not within {deadline} s"
        await asyncio.sleep(0.01)


async def log_of(bus: Any) -> list[Event]:
    """Every event the bus holds, up to its head now."""
    head = await bus.head()
    events: list[Event] = []
    if not head:
        return events
    stream = bus.subscribe(after="")
    try:
        while not events or events[-1].cursor != head:
            events.append(await asyncio.wait_for(anext(stream), DEADLINE))
    finally:
        await stream.aclose()
    return events
