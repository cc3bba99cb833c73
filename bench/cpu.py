"""Gateway CPU time per request of every workload (bench/workloads.py), and the upstream requests each makes.

Run from the repository root::

    python -m bench.cpu                      # 2,000-lot plant, 5 s of wrk per workload
    python -m bench.cpu --only shipments     # one workload

CPU milliseconds per request of the gateway process (utime + stime from /proc over a wrk run, 4 connections)
is the figure to compare between commits: unlike requests per second, it stays meaningful on a machine that is
busy with other work. The load average is printed with every table, since a busy machine still inflates it a
little (caches, frequency). The plant runs at 0 ms added latency in its own process; the upstream requests per
query are counted by the plant for one request of each workload.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from api.auth import mint
from bench.harness import http_request, markdown_table, measure_cpu, require_wrk, run_wrk, serve
from bench.launch import Launched as Server
from bench.workloads import Workload, sample_ids, workloads

SYSTEMS = ("erp", "qms", "mes", "wms")
SECRET = "bench-cpu-secret-" + "0123456789" * 4
CONNECTIONS = 4
"""Enough to keep the gateway busy; few enough that the slowest workload completes many requests per run on a busy
machine (the requests still in flight when a run ends are CPU counted for none)."""
HEADERS = {
    "Content-Type": "application/json",
    "Authorization": f"Bearer {mint(SECRET, 'bench', ['shipping', 'viewer'])}",
}


def _upstream_requests(plant: Server) -> dict[str, int]:
    return {s: sum(http_request(f"{plant.url}/{s}/admin/stats").json()["requests"].values()) for s in SYSTEMS}


def _reset(plant: Server) -> None:
    for system in SYSTEMS:
        http_request(f"{plant.url}/{system}/admin/stats/reset", method="POST")


def _ask(gateway: Server, body: str) -> Any:
    answer = http_request(
        f"{gateway.url}/graphql", method="POST", body=body.encode(), headers=HEADERS, timeout_s=60
    ).json()
    if answer.get("errors"):
        raise RuntimeError(f"the gateway answered errors: {str(answer['errors'])[:300]}")
    return answer


def _row(gateway: Server, plant: Server, workload: Workload, duration: float, connections: int) -> list[object]:
    body = json.dumps(workload.body())
    _ask(gateway, body)  # warm: parser, validation and TTL caches
    _reset(plant)
    _ask(gateway, body)
    calls = _upstream_requests(plant)
    wrk = {"method": "POST", "body": body, "headers": HEADERS, "connections": connections, "request_timeout_s": 30.0}
    run_wrk(f"{gateway.url}/graphql", duration_s=1, **wrk)  # type: ignore[arg-type]
    with measure_cpu(gateway.pid) as cpu:
        load = run_wrk(f"{gateway.url}/graphql", duration_s=duration, **wrk)  # type: ignore[arg-type]
    upstream = " ".join(f"{s} {n}" for s, n in calls.items() if n)
    return [
        workload.title,
        f"{cpu.ms_per_request(load.requests):.2f}",
        f"{load.rps:,.0f}",
        f"{load.p50_ms:.1f}",
        f"{load.p99_ms:.1f}",
        load.error_count,
        upstream,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lots", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of wrk per workload")
    parser.add_argument("--only", action="append", help="run only this workload (repeatable)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="wrk connections")
    args = parser.parse_args()
    require_wrk()

    from plant.generator import generate

    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        plant_dir = Path(tmp) / "plant"
        manifest = generate(plant_dir, seed=7, lots=args.lots)
        plant_env = {"BENCH_PLANT_DIR": str(plant_dir)}
        with serve("bench.apps:plant", factory=True, env=plant_env, ready_path="/admin/manifest") as plant:
            search = json.dumps({"status": ["PLANNED", "IN_PROGRESS", "SHIPPED"], "limit": 50}).encode()
            found = http_request(f"{plant.url}/erp/shipments/search", method="POST", body=search).json()
            shipment_ids = [s["id"] for s in found["items"]]
            lot_id = found["items"][0]["lines"][0]["lots"][0]["lot_id"]
            sample = sample_ids(manifest, lot_id, shipment_ids)
            env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant.url}/{s}" for s in SYSTEMS}
            env |= {"LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_DATA_DIR": str(Path(tmp) / "gateway")}
            env |= {"LOTGRAPH_AUTH_MODE": "jwt", "LOTGRAPH_AUTH_HS256_SECRET": SECRET}
            with serve("bench.apps:gateway", factory=True, env=env, ready_path="/healthz") as gateway:
                rows = [
                    _row(gateway, plant, workload, args.duration, args.connections)
                    for workload in workloads(sample)
                    if not args.only or workload.name in args.only
                ]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before the table: {load}; wrk 1 thread x {args.connections} connections, plant at 0 ms\n")
    headers = ["workload", "gateway CPU ms/req", "req/s", "p50 ms", "p99 ms", "errors", "upstream requests/query"]
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
