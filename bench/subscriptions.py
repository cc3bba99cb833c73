"""Subscription fan-out: N WebSocket subscribers on one gateway process, a burst of hold events, delivery latency.

``python -m bench.subscriptions [--subscribers 1000] [--bursts 10,50,200] [--clients 4]``

Side by side in one run, each in its own uvicorn process (one worker):

- **lotgraph, embedded bus**: ``holdEvents`` over graphql-transport-ws; events enter as signed QMS webhooks;
- **lotgraph, Redis bus**: the same with ``bus = redis`` (the stream on the local Redis);
- **ceiling**: a plain Starlette app that broadcasts each webhook's body to every WebSocket, no GraphQL, no log —
  the fastest this stack fans out on this machine.

The subscribers are spread over ``--clients`` processes (asyncio, ``websockets``). All subscribe and receive a
warm-up event first (so every subscription is live), then a burst of hold events is posted as fast as 16
concurrent senders go. For every delivery: latency = receipt - the event's ``recordedAt`` (the gateway's clock;
same machine). Per event: "to all" = until its last subscriber had it. Fan-out rate = deliveries / (last receipt -
first recordedAt). RSS of the gateway process: before subscribers, with them idle, and the peak during bursts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench.harness import machine_description, markdown_table, serve
from bench.launch import Launched

SECRET = "bench-webhook-secret-0123456789"
LOT = "LOT-000935"
QUERY = "subscription { holdEvents { cursor recordedAt } }"
SENDERS = 16
REDIS_URL = "redis://127.0.0.1:6379/0"


# ============================================================================================ the ceiling


def ceiling_app() -> Any:
    """uvicorn factory: WebSockets at /graphql get every body POSTed to /webhooks/qms, stamped, as is."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()

    async def publish(request: Request) -> Response:
        await request.body()
        message = json.dumps({"recordedAt": datetime.now().astimezone().isoformat(), "cursor": uuid.uuid4().hex})
        await asyncio.gather(*(ws.send_text(message) for ws in list(sockets)), return_exceptions=True)
        return JSONResponse({"status": "recorded"})

    async def subscribe(ws: WebSocket) -> None:
        await ws.accept()
        sockets.add(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(ws)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/webhooks/qms", publish, methods=["POST"]),
            Route("/healthz", healthz),
            WebSocketRoute("/graphql", subscribe),
        ]
    )


# ============================================================================================ subscribers


def client_worker(ws_url: str, graphql: bool, connections: int, pipe: Connection) -> None:
    asyncio.run(_client(ws_url, graphql, connections, pipe))


async def _client(ws_url: str, graphql: bool, connections: int, pipe: Connection) -> None:
    import websockets

    samples: list[tuple[float, str, str]] = []
    received = [0] * connections
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def connect(index: int) -> Any:
        protocols = [websockets.Subprotocol("graphql-transport-ws")] if graphql else None
        ws = await websockets.connect(ws_url, subprotocols=protocols, max_queue=None, open_timeout=60)
        if graphql:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        return ws

    async def read(index: int, ws: Any) -> None:
        async for text in ws:
            now = time.time()
            message = json.loads(text)
            if graphql:
                if message.get("type") != "next":
                    continue
                event = message["payload"]["data"]["holdEvents"]
            else:
                event = message
            samples.append((now, event["recordedAt"], event["cursor"]))
            received[index] += 1
            arrived.set()

    limit = asyncio.Semaphore(50)

    async def connect_limited(index: int) -> Any:
        async with limit:
            return await connect(index)

    sockets = await asyncio.gather(*(connect_limited(i) for i in range(connections)))
    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    pipe.send("connected")
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "stop":
            break
        total = int(command)  # wait until every connection has received this many events, then report
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120):
                while min(received) < total:
                    arrived.clear()
                    await arrived.wait()
        pipe.send((min(received), samples[:]))
        samples.clear()
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


@dataclass
class Clients:
    processes: list[Any]
    pipes: list[Connection]

    def collect(self, total: int) -> list[tuple[float, str, str]]:
        for pipe in self.pipes:
            pipe.send(total)
        samples: list[tuple[float, str, str]] = []
        for pipe in self.pipes:
            got, part = pipe.recv()
            if got < total:
                raise RuntimeError(f"a subscriber received {got} events, expected {total}")
            samples += part
        return samples

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send("stop")
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()


def start_clients(ws_url: str, graphql: bool, subscribers: int, processes: int) -> Clients:
    context = multiprocessing.get_context("spawn")
    share = [subscribers // processes + (1 if i < subscribers % processes else 0) for i in range(processes)]
    started: list[Any] = []
    pipes: list[Connection] = []
    for count in share:
        parent, child = context.Pipe()
        process = context.Process(target=client_worker, args=(ws_url, graphql, count, child), daemon=True)
        process.start()
        started.append(process)
        pipes.append(parent)
    for pipe in pipes:
        if not pipe.poll(120):
            raise RuntimeError("subscribers did not connect within 120 s")
        assert pipe.recv() == "connected"
    return Clients(started, pipes)


# ============================================================================================ events in


def signed(body: bytes) -> dict[str, str]:
    from plant.webhooks import sign

    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "Webhook-Timestamp": stamp,
        "Webhook-Signature": sign(SECRET, stamp, body),
        "Webhook-Id": uuid.uuid4().hex,
    }


def hold_webhook() -> bytes:
    hold_id = f"H-B{uuid.uuid4().hex[:10]}"
    return json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "type": "HoldPlaced",
            "occurred_at": datetime.now().astimezone().isoformat(),
            "keys": {"lot_id": LOT, "hold_id": hold_id},
            "payload": {"id": hold_id, "lot_id": LOT, "status": "ACTIVE", "reason_code": "OTHER", "placed_by": "b"},
            "correlation_id": uuid.uuid4().hex,
            "plant": "DE01",
        }
    ).encode()


async def post_events(base_url: str, count: int) -> None:
    queue = list(range(count))
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def sender() -> None:
            while queue:
                queue.pop()
                body = hold_webhook()
                response = await client.post("/webhooks/qms", content=body, headers=signed(body))
                response.raise_for_status()

        await asyncio.gather(*(sender() for _ in range(min(SENDERS, count))))


# ============================================================================================ measuring


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def peak_rss(pid: int) -> Iterator[list[float]]:
    peak = [rss_mib(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            with contextlib.suppress(OSError):
                peak[0] = max(peak[0], rss_mib(pid))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Result:
    variant: str
    subscribers: int
    burst: int
    delivery_p50: float
    delivery_p99: float
    all_p50: float
    all_p99: float
    events_per_s: float
    deliveries_per_s: float
    cpu_us_per_delivery: float = 0.0
    """The server process's CPU time over the burst (posting the webhooks included), per delivery."""


def analyse(variant: str, subscribers: int, burst: int, samples: list[tuple[float, str, str]]) -> Result:
    by_event: dict[str, list[float]] = {}
    recorded: dict[str, float] = {}
    latencies = []
    for received, recorded_at, cursor in samples:
        at = datetime.fromisoformat(recorded_at).timestamp()
        recorded[cursor] = at
        latencies.append((received - at) * 1000)
        by_event.setdefault(cursor, []).append(received)
    to_all = [(max(times) - recorded[cursor]) * 1000 for cursor, times in by_event.items()]
    span = max(received for received, _, _ in samples) - min(recorded.values())
    return Result(
        variant,
        subscribers,
        burst,
        statistics.median(latencies),
        percentile(latencies, 99),
        statistics.median(to_all),
        percentile(to_all, 99),
        len(by_event) / span,
        len(samples) / span,
    )


def run_variant(
    variant: str, server: Launched, graphql: bool, subscribers: int, bursts: list[int], processes: int
) -> tuple[list[Result], dict[str, float]]:
    memory = {"before": rss_mib(server.pid)}
    clients = start_clients(server.url.replace("http://", "ws://") + "/graphql", graphql, subscribers, processes)
    results = []
    try:
        asyncio.run(post_events(server.url, 1))  # warm-up: every subscription is live
        total = 1
        clients.collect(total)
        memory["idle"] = rss_mib(server.pid)
        with peak_rss(server.pid) as peak:
            for burst in bursts:
                cpu = cpu_seconds(server.pid)
                asyncio.run(post_events(server.url, burst))
                total += burst
                samples = clients.collect(total)
                result = analyse(variant, subscribers, burst, samples)
                result.cpu_us_per_delivery = (cpu_seconds(server.pid) - cpu) * 1e6 / max(1, len(samples))
                results.append(result)
                print(f"  {variant}: burst of {burst} done", flush=True)
        memory["peak"] = peak[0]
    finally:
        clients.stop()
    return results, memory


def gateway_env(plant: Launched, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{plant.url}/{name}" for name in ("erp", "qms", "mes", "wms")}
    env |= {f"LOTGRAPH_WEBHOOKS_{name.upper()}_SECRET": SECRET for name in ("erp", "qms", "mes", "wms")}
    env |= {"LOTGRAPH_DATA_DIR": str(data_dir), "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_GRAPHIQL": "false"}
    env |= {"LOTGRAPH_EVENTS_QUEUE_SIZE": "10000", **extra}
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--bursts", default="1,10,50,200", help="burst sizes, comma-separated")
    parser.add_argument("--clients", type=int, default=4, help="subscriber processes")
    parser.add_argument("--no-redis", action="store_true", help="leave out the Redis bus variant")
    parser.add_argument(
        "--no-deflate", action="store_true", help="serve WebSockets without permessage-deflate (uvicorn option)"
    )
    args = parser.parse_args()
    bursts = [int(b) for b in args.bursts.split(",")]
    uvicorn_args = ["--ws-per-message-deflate", "false"] if args.no_deflate else []

    from plant.generator import generate

    results: list[Result] = []
    memory: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "plant", seed=7, lots=2000)
        with serve("bench.apps:plant", factory=True, env={"BENCH_PLANT_DIR": f"{tmp}/plant"}, ready_path="/") as plant:
            variants: list[tuple[str, dict[str, str]]] = [("lotgraph, embedded bus", {})]
            if not args.no_redis:
                variants.append(
                    ("lotgraph, Redis bus", {"LOTGRAPH_BUS": "redis", "LOTGRAPH_REDIS_URL": REDIS_URL,
                                             "LOTGRAPH_REDIS_PREFIX": f"bench-{uuid.uuid4().hex}:"})
                )  # fmt: skip
            for i, (name, extra) in enumerate(variants):
                env = gateway_env(plant, Path(tmp) / f"gateway-{i}", **extra)
                with serve(
                    "bench.apps:gateway", factory=True, env=env, ready_path="/healthz", uvicorn_args=uvicorn_args
                ) as gateway:
                    found, memory[name] = run_variant(name, gateway, True, args.subscribers, bursts, args.clients)
                    results += found
            with serve(
                "bench.subscriptions:ceiling_app", factory=True, ready_path="/healthz", uvicorn_args=uvicorn_args
            ) as ceiling:
                name = "ceiling: plain Starlette broadcast"
                found, memory[name] = run_variant(name, ceiling, False, args.subscribers, bursts, args.clients)
                results += found

    print()
    print(machine_description(["strawberry-graphql", "starlette", "uvicorn", "websockets", "redis"]))
    print()
    print(
        markdown_table(
            ["variant", "subscribers", "burst", "delivery p50 ms", "delivery p99 ms", "to all p50 ms",
             "to all p99 ms", "events/s", "deliveries/s", "server CPU µs per delivery"],
            [
                [r.variant, r.subscribers, r.burst, f"{r.delivery_p50:.1f}", f"{r.delivery_p99:.1f}",
                 f"{r.all_p50:.1f}", f"{r.all_p99:.1f}", f"{r.events_per_s:,.0f}", f"{r.deliveries_per_s:,.0f}",
                 f"{r.cpu_us_per_delivery:.0f}"]
                for r in results
            ],
            align=["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
        )
    )  # fmt: skip
    print()
    print(
        markdown_table(
            ["variant", "RSS before MiB", f"RSS with {args.subscribers} idle subscribers MiB", "RSS peak MiB"],
            [[name, f"{m['before']:.0f}", f"{m['idle']:.0f}", f"{m['peak']:.0f}"] for name, m in memory.items()],
            align=["l", "r", "r", "r"],
        )
    )


if __name__ == "__main__":
    main()
