"""Shipment readiness benchmark: gateway overhead over its upstream critical path, and throughput against a ceiling.

Run from the repository root::

    python -m bench.readiness              # defaults: 2,000-lot plant, 200 single + 30 batch requests, 8 s wrk runs

Side by side in one run, against the reference plant in its own process:

1. With ``latency_ms`` added on every plant system (default 50 ms): the latency of ``shipmentReadiness`` for one
   shipment and of ``shipmentsReadiness`` for 200, each beside its **reference**, the same upstream calls made
   directly in the same two steps the gateway makes (ERP shipments expanded with their orders, customers and
   products, beside WMS progress; then the QMS quality status of their lots). Overhead = gateway - reference
   (median, p99).
2. With 0 ms added: requests/s of the single-shipment readiness query (wrk, 20 connections) beside a plain
   Starlette endpoint answering the same JSON precomputed (the ceiling of this stack here), their ratio, and the
   gateway's own CPU time per request from /proc (the plant's share excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from api.auth import mint
from bench.harness import (
    http_request,
    machine_description,
    markdown_table,
    measure_cpu,
    require_wrk,
    run_wrk,
    serve,
)
from bench.launch import Launched

SINGLE = (
    "query($id: ID!) { shipmentReadiness(shipmentId: $id) { shipmentId status ready evaluatedAt "
    "blockers { code source message lotId orderId lineNo since } checks { name source status detail } } }"
)
BATCH = (
    "query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) { shipmentId status "
    "blockers { code source message lotId } checks { name status } } }"
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(samples: int, work: Any) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return times


SECRET = "bench-readiness-secret-" + "0123456789" * 4
TOKEN = mint(SECRET, "bench", ["shipping"])
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _gateway_call(session: aiohttp.ClientSession, url: str, query: str, variables: dict[str, Any]) -> None:
    async with session.post(f"{url}/graphql", json={"query": query, "variables": variables}, headers=AUTH) as response:
        body = await response.json()
        if response.status != 200 or "errors" in body:
            raise RuntimeError(f"gateway answered {response.status}: {str(body)[:300]}")


async def _reference_call(session: aiohttp.ClientSession, plant: str, ids: list[str]) -> None:
    """The gateway's critical path, made directly: the same upstream requests in the same two steps."""

    async def get(path: str) -> Any:
        async with session.get(f"{plant}{path}") as response:
            return await response.json()

    expanded, _ = await asyncio.gather(
        get(f"/erp/shipments/expanded?ids={','.join(ids)}"), get(f"/wms/shipments?ids={','.join(ids)}")
    )
    items = [x["shipment"] for x in expanded["items"]]
    lots = ",".join(dict.fromkeys(a["lot_id"] for s in items for line in s["lines"] for a in line["lots"]))
    await get(f"/qms/quality-status?lot_ids={lots}")


async def _latency(
    gateway: str, plant: str, single_id: str, batch_ids: list[str], samples: int, batch_samples: int
) -> list[list[object]]:
    rows: list[list[object]] = []
    async with aiohttp.ClientSession() as session:
        cases: list[tuple[str, int, Callable[[], Awaitable[object]], Callable[[], Awaitable[object]]]] = [
            (
                "1 shipment",
                samples,
                lambda: _gateway_call(session, gateway, SINGLE, {"id": single_id}),
                lambda: _reference_call(session, plant, [single_id]),
            ),
            (
                f"{len(batch_ids)} shipments",
                batch_samples,
                lambda: _gateway_call(session, gateway, BATCH, {"ids": batch_ids}),
                lambda: _reference_call(session, plant, batch_ids),
            ),
        ]
        for name, n, gateway_work, reference_work in cases:
            await gateway_work()  # warm up both paths
            await reference_work()
            measured = await _timed(n, gateway_work)
            reference = await _timed(n, reference_work)
            med, p99 = statistics.median(measured), _percentile(measured, 0.99)
            ref_med, ref_p99 = statistics.median(reference), _percentile(reference, 0.99)
            rows.append(
                [
                    name,
                    n,
                    f"{med:.1f}",
                    f"{p99:.1f}",
                    f"{ref_med:.1f}",
                    f"{ref_p99:.1f}",
                    f"{med - ref_med:.1f}",
                    f"{p99 - ref_p99:.1f}",
                ]
            )
    return rows


def _faults(plant: Launched, latency_ms: int) -> None:
    for system in ("erp", "qms", "mes", "wms"):
        http_request(
            f"{plant.url}/{system}/admin/faults",
            method="PUT",
            body=json.dumps({"latency_ms": latency_ms}).encode(),
            headers={"Content-Type": "application/json"},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lots", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200, help="sequential single-shipment requests")
    parser.add_argument("--batch-samples", type=int, default=30, help="sequential 200-shipment requests")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    args = parser.parse_args()
    require_wrk()

    from plant.generator import generate

    with tempfile.TemporaryDirectory(prefix="bench-readiness-") as tmp:
        plant_dir = Path(tmp) / "plant"
        manifest = generate(plant_dir, seed=7, lots=args.lots)
        single_id = manifest["shipments"]["ready"][0]
        with serve(
            "bench.apps:plant", factory=True, env={"BENCH_PLANT_DIR": str(plant_dir)}, ready_path="/admin/manifest"
        ) as plant:
            found = http_request(
                f"{plant.url}/erp/shipments/search",
                method="POST",
                body=json.dumps({"status": ["PLANNED", "IN_PROGRESS", "SHIPPED"], "limit": 200}).encode(),
                headers={"Content-Type": "application/json"},
            ).json()
            batch_ids = [s["id"] for s in found["items"]]
            env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant.url}/{s}" for s in ("erp", "qms", "mes", "wms")}
            env |= {"LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_DATA_DIR": str(Path(tmp) / "gateway")}
            env |= {"LOTGRAPH_AUTH_MODE": "jwt", "LOTGRAPH_AUTH_HS256_SECRET": SECRET}  # measured as deployed
            with serve("bench.apps:gateway", factory=True, env=env, ready_path="/healthz") as gateway:
                _faults(plant, args.latency_ms)
                latency_rows = asyncio.run(
                    _latency(gateway.url, plant.url, single_id, batch_ids, args.samples, args.batch_samples)
                )
                _faults(plant, 0)
                body = json.dumps({"query": SINGLE, "variables": {"id": single_id}})
                answer = http_request(
                    f"{gateway.url}/graphql",
                    method="POST",
                    body=body.encode(),
                    headers={"Content-Type": "application/json", **AUTH},
                )
                ceiling_file = Path(tmp) / "answer.json"
                ceiling_file.write_bytes(answer.body)
                headers = {"Content-Type": "application/json", **AUTH}
                run_wrk(f"{gateway.url}/graphql", method="POST", body=body, headers=headers, duration_s=2)
                with measure_cpu(gateway.pid) as cpu:
                    load = run_wrk(
                        f"{gateway.url}/graphql", method="POST", body=body, headers=headers, duration_s=args.duration
                    )
            with serve("bench.apps:ceiling", factory=True, env={"BENCH_CEILING_FILE": str(ceiling_file)}) as ceiling:
                run_wrk(f"{ceiling.url}/graphql", method="POST", body=body, headers=headers, duration_s=2)
                top = run_wrk(
                    f"{ceiling.url}/graphql", method="POST", body=body, headers=headers, duration_s=args.duration
                )

    print(machine_description(["strawberry-graphql", "starlette", "uvicorn", "httpx", "httpx-aiohttp"]))
    print(
        f"\nplant: {args.lots} lots; {args.latency_ms} ms added on every plant system; "
        f"reference = the same upstream calls made directly in the gateway's two parallel steps\n"
    )
    print(
        markdown_table(
            [
                "readiness of",
                "requests",
                "gateway p50 ms",
                "gateway p99 ms",
                "reference p50 ms",
                "reference p99 ms",
                "overhead p50 ms",
                "overhead p99 ms",
            ],
            latency_rows,
        )
    )
    print("\n0 ms added latency, wrk 20 connections:\n")
    print(
        markdown_table(
            ["endpoint", "req/s", "p50 ms", "p99 ms", "errors", "gateway CPU ms/req"],
            [
                [
                    "lotgraph shipmentReadiness (1 shipment)",
                    f"{load.rps:,.0f}",
                    f"{load.p50_ms:.1f}",
                    f"{load.p99_ms:.1f}",
                    load.error_count,
                    f"{cpu.ms_per_request(load.requests):.2f}",
                ],
                [
                    "plain Starlette, same JSON precomputed",
                    f"{top.rps:,.0f}",
                    f"{top.p50_ms:.1f}",
                    f"{top.p99_ms:.1f}",
                    top.error_count,
                    "—",
                ],
            ],
        )
    )
    print(f"\nratio lotgraph / ceiling: {load.rps / top.rps:.2f}")


if __name__ == "__main__":
    main()
