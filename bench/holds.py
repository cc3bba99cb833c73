"""Holds benchmark: placeHold latency for 1 and 100 lots, and a duplicate storm, beside the same commands sent to
the plant directly.

Run from the repository root (needs Redis on 127.0.0.1:6379; the bench uses its own key prefix and deletes it)::

    python -m bench.holds              # 20,000-lot plant; 200 single-lot and 30 hundred-lot holds; 1,000-request storm

Side by side in one run, against the reference plant in its own process (uvicorn, one worker each):

1. Latency of ``placeHold`` (sequential requests, each a new idempotency key and lots never held before) for one lot
   and for 100 lots, through a gateway with the SQLite store and one with the Redis store, beside its **reference**:
   the same upstream commands made directly (``POST /qms/holds`` then ``POST /wms/stock/block`` per lot, 16 lots in
   flight as the gateway does). Gateway minus reference is what lotgraph adds: reads of the lots and their active holds,
   the idempotency claim and answer, the durable pending-action records, the events, GraphQL.
2. A duplicate storm: 1,000 requests over 100 keys (one lot per key), 50 in flight, in random order, to one gateway
   (SQLite store) and to two replicas sharing Redis (requests alternate between them); the reference is the same
   storm of ``POST /qms/holds`` sent to the QMS directly (its own idempotency keys). Every storm must leave exactly
   100 holds in the QMS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import redis

from bench.harness import http_request, machine_description, markdown_table, serve
from bench.launch import Launched
from plant.generator import generate

PLACE = (
    "mutation($input: PlaceHoldInput!) { placeHold(input: $input) { complete replayed holds { id } "
    "errors { code } pendingActions { id } } }"
)
CONCURRENCY = 16  # the gateway's default holds.concurrency, used by the reference too


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fresh_lots(plant_dir: Path) -> Iterator[str]:
    """Lots that are RELEASED and have never had a hold, in id order."""
    with sqlite3.connect(plant_dir / "qms.db") as conn:
        rows = conn.execute(
            "SELECT lot_id FROM quality_lots WHERE disposition = 'RELEASED'"
            " AND lot_id NOT IN (SELECT lot_id FROM holds) ORDER BY lot_id"
        ).fetchall()
    return iter([row[0] for row in rows])


def take(lots: Iterator[str], n: int) -> list[str]:
    taken = [next(lots) for _ in range(n)]
    return taken


@dataclass
class Latency:
    case: str
    lots: int
    samples: list[float]
    upstream_calls: int

    def row(self, reference: Latency | None) -> list[object]:
        median, p99 = statistics.median(self.samples), _percentile(self.samples, 0.99)
        extra = "—"
        if reference is not None:
            ref_median = statistics.median(reference.samples)
            extra = f"+{median - ref_median:.1f}"
        return [self.case, self.lots, len(self.samples), f"{median:.1f}", f"{p99:.1f}", extra, self.upstream_calls]


class Client:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def place(self, url: str, lot_ids: list[str], key: str) -> dict[str, Any]:
        variables = {"input": {"lotIds": lot_ids, "reasonCode": "OTHER", "idempotencyKey": key}}
        async with self.session.post(f"{url}/graphql", json={"query": PLACE, "variables": variables}) as response:
            body = await response.json()
        if response.status != 200 or "errors" in body:
            raise RuntimeError(f"gateway answered {response.status}: {str(body)[:300]}")
        payload: dict[str, Any] = body["data"]["placeHold"]
        return payload

    async def direct_hold(self, plant: str, lot_id: str, key: str) -> tuple[dict[str, Any], bool]:
        """The hold, and whether the QMS replayed it (a repeated key)."""
        body = {"lot_id": lot_id, "reason_code": "OTHER", "placed_by": "bench"}
        async with self.session.post(f"{plant}/qms/holds", json=body, headers={"Idempotency-Key": key}) as response:
            answer: dict[str, Any] = await response.json()
            if response.status not in (200, 201):
                raise RuntimeError(f"QMS answered {response.status}: {answer}")
            return answer, response.headers.get("Idempotency-Replayed") == "true"

    async def direct_block(self, plant: str, lot_id: str, hold_id: str, key: str) -> None:
        body = {"lot_id": lot_id, "reason": f"quality hold {hold_id}", "reference": hold_id}
        async with self.session.post(f"{plant}/wms/stock/block", json=body, headers={"Idempotency-Key": key}) as r:
            if r.status != 200:
                raise RuntimeError(f"WMS answered {r.status}: {await r.text()}")

    async def reference_place(self, plant: str, lot_ids: list[str]) -> None:
        """The upstream commands of one placeHold, made directly: hold then block per lot, 16 lots at a time."""
        key = uuid.uuid4().hex
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(lot_id: str) -> None:
            async with limit:
                hold, _ = await self.direct_hold(plant, lot_id, f"{key}-h-{lot_id}")
                await self.direct_block(plant, lot_id, hold["id"], f"{key}-b-{lot_id}")

        await asyncio.gather(*(one(lot_id) for lot_id in lot_ids))


def _stats_total(plant: str) -> int:
    total = 0
    for system in ("erp", "qms", "mes", "wms"):
        total += http_request(f"{plant}/{system}/admin/stats").json()["total"]
    return total


def _reset_stats(plant: str) -> None:
    for system in ("erp", "qms", "mes", "wms"):
        http_request(f"{plant}/{system}/admin/stats/reset", method="POST")


async def _latency(
    case: str, plant: str, lots: Iterator[str], size: int, samples: int, run: Callable[[list[str]], Awaitable[None]]
) -> Latency:
    await run(take(lots, size))  # warm-up (connections, caches)
    _reset_stats(plant)
    await run(take(lots, size))
    calls = _stats_total(plant)
    times = []
    for _ in range(samples):
        batch = take(lots, size)
        started = time.perf_counter()
        await run(batch)
        times.append((time.perf_counter() - started) * 1000)
    return Latency(case, size, times, calls)


@dataclass
class Storm:
    case: str
    requests: int
    seconds: float
    holds: int
    answers: Counter[str]

    def row(self) -> list[object]:
        first, replayed, in_progress = (self.answers[k] for k in ("first", "replayed", "in progress"))
        return [
            self.case,
            self.requests,
            f"{self.requests / self.seconds:,.0f}",
            f"{self.seconds:.2f}",
            self.holds,
            first,
            replayed,
            in_progress,
        ]


async def _storm(
    case: str,
    client: Client,
    plant: str,
    lots: list[str],
    requests: int,
    concurrency: int,
    send: Callable[[int, str, str], Awaitable[str]],
) -> Storm:
    keys = [uuid.uuid4().hex for _ in lots]
    order = [i % len(lots) for i in range(requests)]
    random.Random(7).shuffle(order)
    limit = asyncio.Semaphore(concurrency)
    answers: Counter[str] = Counter()

    async def one(n: int, index: int) -> None:
        async with limit:
            answers[await send(n, lots[index], keys[index])] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(n, index) for n, index in enumerate(order)))
    seconds = time.perf_counter() - started
    held = 0
    for i in range(0, len(lots), 100):
        chunk = ",".join(lots[i : i + 100])
        async with client.session.get(f"{plant}/qms/holds", params={"lot_ids": chunk}) as response:
            held += len((await response.json())["items"])
    return Storm(case, requests, seconds, held, answers)


def _gateway_answer(payload: dict[str, Any]) -> str:
    if [e["code"] for e in payload["errors"]] == ["IN_PROGRESS"]:
        return "in progress"
    if not payload["complete"] or len(payload["holds"]) != 1:
        raise RuntimeError(f"unexpected answer: {payload}")
    return "replayed" if payload["replayed"] else "first"


def _gateway_env(plant: str, data_dir: Path, **extra: str) -> dict[str, str]:
    urls = {f"LOTGRAPH_{name.upper()}_URL": f"{plant}/{name}" for name in ("erp", "qms", "mes", "wms")}
    # The storm is one client on purpose: lift the per-subject rate limit (0 would turn it off, but fails today).
    quiet = {"LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "1000000", "LOTGRAPH_LIMITS_BURST": "1000000"}
    return {**urls, "LOTGRAPH_DATA_DIR": str(data_dir), **quiet, **extra}


def _start_gateway(stack: ExitStack, env: dict[str, str]) -> Launched:
    return stack.enter_context(serve("bench.apps:gateway", factory=True, env=env, ready_path="/healthz"))


async def run(args: argparse.Namespace) -> str:
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-holds-"))
    plant_dir = work / "plant"
    generate(plant_dir, seed=7, lots=args.lots)
    lots = fresh_lots(plant_dir)
    prefix = f"bench-holds:{uuid.uuid4().hex}:"
    redis_env = {"LOTGRAPH_STORE": "redis", "LOTGRAPH_REDIS_URL": args.redis_url, "LOTGRAPH_REDIS_PREFIX": prefix}
    latencies: list[tuple[Latency, Latency | None]] = []
    storms: list[Storm] = []
    try:
        with ExitStack() as stack:
            plant_server = stack.enter_context(
                serve(
                    "bench.apps:plant",
                    factory=True,
                    env={"BENCH_PLANT_DIR": str(plant_dir)},
                    ready_path="/admin/manifest",
                )
            )
            plant = plant_server.url
            sqlite_gw = _start_gateway(stack, _gateway_env(plant, work / "gw-sqlite"))
            redis_a = _start_gateway(stack, _gateway_env(plant, work / "gw-redis-a", **redis_env))
            redis_b = _start_gateway(stack, _gateway_env(plant, work / "gw-redis-b", **redis_env))
            connector = aiohttp.TCPConnector(limit=200)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
                client = Client(session)

                for size, samples in ((1, args.single), (args.batch_size, args.batch_runs)):

                    async def direct(batch: list[str]) -> None:
                        await client.reference_place(plant, batch)

                    reference = await _latency("reference: QMS + WMS directly", plant, lots, size, samples, direct)
                    latencies.append((reference, None))
                    for name, server in (("gateway, SQLite store", sqlite_gw), ("gateway, Redis store", redis_a)):

                        async def through(batch: list[str], url: str = server.url) -> None:
                            payload = await client.place(url, batch, uuid.uuid4().hex)
                            if not payload["complete"] or len(payload["holds"]) != len(batch):
                                raise RuntimeError(f"incomplete hold: {payload}")

                        latencies.append((await _latency(name, plant, lots, size, samples, through), reference))

                async def direct_storm(n: int, lot_id: str, key: str) -> str:
                    _, replayed = await client.direct_hold(plant, lot_id, key)
                    return "replayed" if replayed else "first"

                async def one_gateway(n: int, lot_id: str, key: str) -> str:
                    return _gateway_answer(await client.place(sqlite_gw.url, [lot_id], key))

                async def two_replicas(n: int, lot_id: str, key: str) -> str:
                    url = (redis_a, redis_b)[n % 2].url
                    return _gateway_answer(await client.place(url, [lot_id], key))

                for name, send in (
                    ("reference: POST /qms/holds directly", direct_storm),
                    ("1 gateway, SQLite store", one_gateway),
                    ("2 gateways sharing Redis", two_replicas),
                ):
                    storm_lots = take(lots, args.storm_keys)
                    storms.append(
                        await _storm(name, client, plant, storm_lots, args.storm_requests, args.concurrency, send)
                    )
    finally:
        client_redis = redis.Redis.from_url(args.redis_url)
        keys = list(client_redis.scan_iter(match=f"{prefix}*"))
        if keys:
            client_redis.delete(*keys)
        client_redis.close()

    for storm in storms:
        if storm.holds != args.storm_keys:
            raise RuntimeError(f"{storm.case}: {storm.holds} holds in the QMS, expected {args.storm_keys}")
    latency_table = markdown_table(
        ["case", "lots", "samples", "median ms", "p99 ms", "median over reference ms", "upstream calls per request"],
        [latency.row(reference) for latency, reference in latencies],
    )
    storm_table = markdown_table(
        ["case", "requests", "req/s", "seconds", "holds in QMS", "first runs", "replays", "IN_PROGRESS"],
        [storm.row() for storm in storms],
    )
    return "\n\n".join(
        [
            f"Machine: {machine_description(['strawberry-graphql', 'starlette', 'uvicorn', 'redis', 'aiohttp'])}. "
            f"Load average (1 min) before the run {load_before:.1f}, after {os.getloadavg()[0]:.1f}.",
            f"Plant: {args.lots:,} lots. placeHold latency (sequential requests):",
            latency_table,
            f"Duplicate storm: {args.storm_requests:,} requests over {args.storm_keys} keys, "
            f"{args.concurrency} in flight:",
            storm_table,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.holds", description=__doc__.split("\n")[0])
    parser.add_argument("--lots", type=int, default=20_000, help="size of the generated plant")
    parser.add_argument("--single", type=int, default=200, help="single-lot holds per case")
    parser.add_argument("--batch-runs", type=int, default=30, help="hundred-lot holds per case")
    parser.add_argument("--batch-size", type=int, default=100, help="lots per batch hold")
    parser.add_argument("--storm-requests", type=int, default=1000)
    parser.add_argument("--storm-keys", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50, help="storm requests in flight")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    print(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
