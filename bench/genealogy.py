"""Genealogy benchmark: a forward trace of a raw-material lot that reaches ~30,000 lots, and its recall impact.

Run from the repository root::

    python -m bench.genealogy                    # 200,000-lot plant, 3 rounds, 0 and 20 ms plant latency
    python -m bench.genealogy --lots 20000 --rounds 1

The reference plant (generated once into ``data/bench/``, ~13 s at 200,000 lots) runs in its own uvicorn process,
the gateway as ``lotgraph serve`` runs it (one worker). For each plant latency (set on all four systems through the
admin API), the bench asks the gateway, through GraphQL over HTTP:

* ``walk``          ``lotGenealogy(FORWARD)``: every node with its depth and lot id, every edge;
* ``dispositions``  the same, with each node lot's ``disposition`` (QMS, through the ``Lot`` type);
* ``recall``        ``recallImpact``: affected lots with disposition and stock, shipments, customers, open orders;

and, beside them, the same walk done the naive way: one MES request per lot (all lots of a level at once, the
pool keeps 100 in flight), then one QMS request per lot for the dispositions, made from this process with the
gateway's own MES/QMS adapters. Upstream requests are counted by the plant (reset before each run), wall time is
measured by the client, CPU time of the gateway from /proc. Each answer is checked against the manifest's reach.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import launch
from bench.harness import (
    BenchError,
    http_request,
    machine_description,
    markdown_table,
    measure_cpu,
    serve,
    server_env,
)
from bench.launch import Launched

SYSTEMS = ("erp", "qms", "mes", "wms")
BATCH = 500
ENV_PLANT_DIR = "BENCH_PLANT_DIR"

QUERIES = {
    "walk": """query($lot: ID!, $depth: Int) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: $depth) {
        truncated summary { lots edges depth milliseconds levels { depth lots edges newLots } }
        nodes { depth lot { id } } edges { from to quantity uom } } }""",
    "dispositions": """query($lot: ID!, $depth: Int) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: $depth) {
        truncated summary { lots edges depth milliseconds levels { depth lots edges newLots } }
        nodes { depth lot { id disposition } } edges { from to quantity uom } } }""",
    "recall": """query($lot: ID!, $depth: Int) { recallImpact(lotId: $lot, maxDepth: $depth) {
        complete truncated
        affectedLots { depth disposition lot { id } stock { location status quantity } }
        shippedShipments { shipment { id customerId } affectedLotIds }
        pendingShipments { shipment { id status } affectedLotIds }
        customers { customerId customer { name } shippedShipmentIds pendingShipmentIds }
        openOrders { id status }
        totals { lots depth lotsWithStock byDisposition { disposition lots } stock { status uom quantity lots }
                 shippedShipments pendingShipments customers openOrders } } }""",
}


# ============================================================================================ servers


def plant_app() -> Any:
    """uvicorn factory: the reference plant over the generated data in ``$BENCH_PLANT_DIR``."""
    from plant.app import create_plant_app

    return create_plant_app(Path(os.environ[ENV_PLANT_DIR]))


def gateway_app() -> Any:
    """uvicorn factory: the gateway, configured from ``LOTGRAPH_…`` variables (bench/exports.py serves it)."""
    from api.app import create_app
    from api.logs import configure_logging
    from api.settings import load_settings

    settings = load_settings(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def gateway_env(plant: Launched, data_dir: Path) -> dict[str, str]:
    """Default settings (deadlines, genealogy limits), but cold caches: no lot masters or customers from an earlier
    run."""
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{plant.url}/{name}" for name in SYSTEMS}
    env |= {"LOTGRAPH_MES_CACHE_TTL": "0", "LOTGRAPH_ERP_CACHE_TTL": "0", "LOTGRAPH_LOG_LEVEL": "warning"}
    env |= {"LOTGRAPH_DATA_DIR": str(data_dir)}
    return env


@contextlib.contextmanager
def served_gateway(plant: Launched, data_dir: Path) -> Iterator[Launched]:
    """The gateway as deployed: ``lotgraph serve`` (one worker; uvloop, the collector's thresholds raised and the
    start-up heap frozen, see api/servers.py), with ``gateway_env``'s settings."""
    process = launch.gateway(
        server_env(gateway_env(plant, data_dir) | {"LOTGRAPH_WORKERS": "1"}), log=data_dir / "gateway.log"
    )
    try:
        yield process
    finally:
        process.stop()


def set_latency(plant: Launched, latency_ms: int) -> None:
    for system in SYSTEMS:
        body = json.dumps({"latency_ms": latency_ms})
        response = http_request(f"{plant.url}/{system}/admin/faults", method="PUT", body=body)
        if response.status != 200:
            raise BenchError(f"cannot set faults on {system}: {response.status} {response.body[:200]!r}")


def reset_stats(plant: Launched) -> None:
    for system in SYSTEMS:
        http_request(f"{plant.url}/{system}/admin/stats/reset", method="POST")


def stats(plant: Launched) -> dict[str, dict[str, int]]:
    return {s: http_request(f"{plant.url}/{s}/admin/stats").json()["requests"] for s in SYSTEMS}


# ============================================================================================ runs


@dataclass
class Run:
    case: str
    latency_ms: int
    seconds: float
    lots: int
    levels: int
    requests: dict[str, dict[str, int]]
    cpu_s: float = 0.0
    """CPU time of the gateway process (of this process for the naive trace)."""
    walk_ms: float | None = None
    """The walk alone, as the gateway timed it (``summary.milliseconds``)."""
    level_rows: list[dict[str, int]] = field(default_factory=list)
    bytes: int = 0

    def count(self, system: str, route: str | None = None) -> int:
        routes = self.requests.get(system, {})
        return routes.get(route, 0) if route else sum(routes.values())


def graphql_run(gateway: Launched, plant: Launched, case: str, latency_ms: int, lot: str, depth: int) -> Run:
    body = json.dumps({"query": QUERIES[case], "variables": {"lot": lot, "depth": depth}})
    reset_stats(plant)
    with measure_cpu(gateway.pid) as cpu:
        started = time.perf_counter()
        response = http_request(
            f"{gateway.url}/graphql",
            method="POST",
            body=body,
            headers={"Content-Type": "application/json"},
            timeout_s=300,
        )
        seconds = time.perf_counter() - started
    answer = response.json()
    if response.status != 200 or answer.get("errors"):
        raise BenchError(f"{case}: HTTP {response.status}, errors {json.dumps(answer.get('errors'))[:600]}")
    data = answer["data"]
    if case == "recall":
        impact = data["recallImpact"]
        lots, levels, rows, walk_ms = len(impact["affectedLots"]), impact["totals"]["depth"] + 1, [], None
    else:
        trace = data["lotGenealogy"]
        lots, rows = trace["summary"]["lots"], trace["summary"]["levels"]
        levels = len(rows)
        walk_ms = trace["summary"]["milliseconds"]
        if any(node["lot"].get("disposition", "x") is None for node in trace["nodes"]):
            raise BenchError(f"{case}: a node without a disposition")
    run = Run(case, latency_ms, seconds, lots, levels, stats(plant), cpu.cpu_s, walk_ms, rows, len(response.body))
    if case != "recall":
        expected = sum(math.ceil(row["lots"] / BATCH) for row in rows)
        if run.count("mes", "GET /genealogy") != expected:
            raise BenchError(
                f"{case}: {run.count('mes', 'GET /genealogy')} MES genealogy requests, expected {expected}"
            )
    return run


@dataclass
class Naive:
    lots: int = 0
    levels: int = 0
    walk_s: float = 0.0
    walk_cpu_s: float = 0.0
    dispositions_s: float = 0.0
    dispositions_cpu_s: float = 0.0


async def naive_trace(plant: Launched, lot: str, depth: int) -> Naive:
    """The walk with one MES request per lot (each level's lots at once), then one QMS request per lot.

    Uses the gateway's own adapters (same client base, pool of 100) from this process, without GraphQL."""
    from sources.contract.mes import MesSource
    from sources.contract.qms import QmsSource
    from sources.http import SourceClient

    mes = MesSource(SourceClient("mes", f"{plant.url}/mes", timeout=60))
    qms = QmsSource(SourceClient("qms", f"{plant.url}/qms", timeout=60))
    naive = Naive()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        seen, frontier = {lot}, [lot]
        while frontier and naive.levels <= depth:
            answers = await asyncio.gather(*(mes.edges_out_of([lot_id]) for lot_id in frontier))
            naive.levels += 1
            following = []
            for grouped in answers:
                for edges in grouped.values():
                    for edge in edges:
                        if edge.output_lot_id not in seen and naive.levels <= depth:
                            seen.add(edge.output_lot_id)
                            following.append(edge.output_lot_id)
            frontier = following
        naive.walk_s, naive.walk_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        found = await asyncio.gather(*(qms.lots([lot_id]) for lot_id in seen))
        naive.dispositions_s, naive.dispositions_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        if sum(len(f) for f in found) != len(seen):
            raise BenchError("naive: a lot without a QMS record")
        naive.lots = len(seen)
        return naive
    finally:
        await asyncio.gather(mes.client.aclose(), qms.client.aclose())


def naive_run(plant: Launched, latency_ms: int, lot: str, depth: int) -> tuple[Run, Run]:
    reset_stats(plant)
    n = asyncio.run(naive_trace(plant, lot, depth))
    counted = stats(plant)
    walk = Run("naive walk", latency_ms, n.walk_s, n.lots, n.levels, {"mes": counted["mes"]}, n.walk_cpu_s)
    both = Run(
        "naive dispositions",
        latency_ms,
        n.walk_s + n.dispositions_s,
        n.lots,
        n.levels,
        counted,
        n.walk_cpu_s + n.dispositions_cpu_s,
    )
    return walk, both


# ============================================================================================ report


def median_run(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[len(ordered) // 2]


def requests_cell(run: Run) -> str:
    parts = []
    for system in SYSTEMS:
        for route, n in sorted(run.requests.get(system, {}).items()):
            parts.append(f"{system.upper()} {route.split(' ', 1)[1]} {n:,}")
    return ", ".join(parts)


def summary_table(runs: list[list[Run]]) -> str:
    headers = [
        "case",
        "plant latency",
        "lots",
        "levels",
        "upstream requests",
        "total ms",
        "of which walk ms",
        "lots/s",
        "CPU ms",
    ]
    rows = []
    for group in runs:
        run = median_run(group)
        total = f"{run.seconds * 1000:,.0f}"
        if len(group) > 1:
            total += f" ({min(r.seconds for r in group) * 1000:,.0f}-{max(r.seconds for r in group) * 1000:,.0f})"
        rows.append(
            [
                run.case,
                f"{run.latency_ms} ms",
                f"{run.lots:,}",
                run.levels,
                requests_cell(run),
                total,
                "-" if run.walk_ms is None else f"{run.walk_ms:,.0f}",
                f"{run.lots / run.seconds:,.0f}",
                f"{run.cpu_s * 1000:,.0f}",
            ]
        )
    return markdown_table(headers, rows, ["l", "r", "r", "r", "l", "r", "r", "r", "r"])


def levels_table(run: Run, naive: Run | None) -> str:
    headers = [
        "level (depth asked)",
        "lots asked",
        "edges answered",
        "new lots",
        "MES requests (batched)",
        "MES requests (naive)",
    ]
    rows = [
        [
            row["depth"],
            f"{row['lots']:,}",
            f"{row['edges']:,}",
            f"{row['newLots']:,}",
            math.ceil(row["lots"] / BATCH),
            f"{row['lots']:,}",
        ]
        for row in run.level_rows
    ]
    total_naive = naive.count("mes", "GET /genealogy") if naive else sum(r["lots"] for r in run.level_rows)
    rows.append(["total", "", "", "", run.count("mes", "GET /genealogy"), f"{total_naive:,}"])
    return markdown_table(headers, rows, ["r"] * 6)


# ============================================================================================ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.genealogy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=200_000, help="plant size (default 200,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="plant data (default data/bench/genealogy-<lots>-seed<seed>)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per GraphQL case and latency; the median is shown")
    parser.add_argument("--latency", type=int, nargs="+", default=[0, 20], help="plant latencies in ms (default 0 20)")
    parser.add_argument("--depth", type=int, default=20, help="maxDepth asked for (default 20)")
    parser.add_argument("--no-naive", action="store_true", help="skip the one-request-per-lot trace")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=0.5,
        help="wait (up to 30 min) until the 1-minute load average is below this before measuring (default 0.5)",
    )
    return parser.parse_args(argv)


def wait_for_quiet(threshold: float, timeout_s: float = 1800.0) -> float:
    """Other work on these two cores skews every number: wait until the load average says the machine is idle."""
    deadline = time.monotonic() + timeout_s
    while (load := os.getloadavg()[0]) >= threshold and time.monotonic() < deadline:
        print(f"waiting for a quiet machine: load {load:.2f} >= {threshold}", file=sys.stderr, flush=True)
        time.sleep(10)
    return os.getloadavg()[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from plant.app import ensure_data

    data_dir = args.data_dir or Path("data/bench") / f"genealogy-{args.lots}-seed{args.seed}"
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"plant: {data_dir} ({args.lots:,} lots; generated on first use)", file=sys.stderr, flush=True)
    manifest = ensure_data(data_dir, seed=args.seed, lots=args.lots)
    lot, reach = manifest["lots"]["raw_wide"], manifest["lots"]["raw_wide_reach"]
    print(f"raw_wide {lot}: reach {reach:,} lots over {manifest['lots']['raw_wide_depth']} levels", file=sys.stderr)
    results: list[list[Run]] = []
    naive_runs: dict[int, Run] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-genealogy-") as tmp,
        serve(
            "bench.genealogy:plant_app", factory=True, env={ENV_PLANT_DIR: str(data_dir)}, ready_path="/admin/manifest"
        ) as plant,
        served_gateway(plant, Path(tmp)) as gateway,
    ):
        graphql_run(gateway, plant, "walk", 0, lot, args.depth)  # warm-up: imports, connections, SQLite pages
        load_before = wait_for_quiet(args.quiet_load)
        for latency in args.latency:
            set_latency(plant, latency)
            for case in QUERIES:
                group = []
                for _ in range(args.rounds):
                    run = graphql_run(gateway, plant, case, latency, lot, args.depth)
                    if run.lots != reach + 1:
                        raise BenchError(f"{case}: {run.lots} lots, the manifest says {reach} + the root")
                    group.append(run)
                    print(f"  {case} @ {latency} ms: {run.seconds * 1000:,.0f} ms", file=sys.stderr, flush=True)
                results.append(group)
            if not args.no_naive:
                walk, both = naive_run(plant, latency, lot, args.depth)
                if walk.lots != reach + 1:
                    raise BenchError(f"naive: {walk.lots} lots, the manifest says {reach} + the root")
                extra = (both.seconds - walk.seconds) * 1000
                print(
                    f"  naive @ {latency} ms: {walk.seconds * 1000:,.0f} + {extra:,.0f} ms", file=sys.stderr, flush=True
                )
                results += [[walk], [both]]
                naive_runs[latency] = walk
        set_latency(plant, 0)
        load_after = os.getloadavg()[0]
    print(
        f"Machine: {machine_description(['strawberry-graphql', 'graphql-core', 'httpx', 'httpx-aiohttp', 'uvicorn'])}"
    )
    print(
        f"Plant: {args.lots:,} lots (seed {args.seed}); trace of {lot}: {reach:,} lots forward; "
        f"{args.rounds} rounds per GraphQL case (median, min-max), naive once; 1-minute load average "
        f"{load_before:.2f} before and {load_after:.2f} after the runs."
    )
    print()
    print(summary_table(results))
    print()
    walk_at_0 = median_run(results[0])
    print(levels_table(walk_at_0, naive_runs.get(walk_at_0.latency_ms)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
