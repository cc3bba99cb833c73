"""Two sites beside one: readiness and the forward trace, and the upstream calls each makes per site and kind.

Run from the repository root::

    python -m bench.sites                 # 2,000 lots per plant, 20 requests per workload
    python -m bench.sites --requests 50

The reference plants of ``lotgraph demo --sites 2`` (site b received some of site a's finished lots) each run in
their own ``lotgraph plant`` process; two gateways run beside them, each in its own ``lotgraph serve`` process: one
over site a alone, one over both sites (a its own, b declared with ``LOTGRAPH_SITES``). Workloads, through GraphQL
over HTTP, one request at a time:

* ``readiness``  ``shipmentsReadiness`` of 50 shipments: all of site a (one site), or 25 of a and 25 of b (two sites);
* ``trace``      ``lotGenealogy(FORWARD)`` of a lot site a shipped to site b, every node and edge: over one site it
                 stops at a's shipment; over two sites it follows the receipt into b.

Wall time is measured by the client (median and p95 of ``--requests`` runs after one warm-up); upstream requests
are counted by each plant, for one request, after a reset.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import http_request, machine_description, markdown_table
from bench.launch import Launched, gateway, plant

SYSTEMS = ("erp", "qms", "mes", "wms")
READINESS = "query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) { shipmentId status blockers { code } } }"
TRACE = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD) {
  nodes { site depth lot { id } } edges { from to crossSite } summary { lots bySite { site lots edges } } } }"""


def post(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})
    response = http_request(f"{url}/graphql", method="POST", body=body,
                            headers={"Content-Type": "application/json"}, timeout_s=60)  # fmt: skip
    answer: dict[str, Any] = response.json()
    if response.status != 200 or answer.get("errors"):
        raise RuntimeError(f"the gateway answered {response.status}: {str(answer)[:500]}")
    return answer


def calls(plants: dict[str, Launched]) -> dict[str, dict[str, int]]:
    """Upstream requests since the last reset, per site and system."""
    return {
        site: {s: sum(http_request(f"{p.url}/{s}/admin/stats").json()["requests"].values()) for s in SYSTEMS}
        for site, p in plants.items()
    }


def reset(plants: dict[str, Launched]) -> None:
    for p in plants.values():
        for system in SYSTEMS:
            http_request(f"{p.url}/{system}/admin/stats/reset", method="POST")


def timed(run: Callable[[], object], requests: int) -> tuple[float, float]:
    run()
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        run()
        seconds.append((time.perf_counter() - started) * 1000)
    seconds.sort()
    return statistics.median(seconds), seconds[max(0, round(len(seconds) * 0.95) - 1)]


def shipments(summary: dict[str, Any], plant_dir: Path, site: str, count: int) -> list[str]:
    import sqlite3

    with sqlite3.connect(plant_dir / site / "erp.db") as db:
        ids = [row[0] for row in db.execute("SELECT id FROM shipments ORDER BY id LIMIT ?", (count,))]
    return ids if site == summary["sites"][0] else [f"{site}:{i}" for i in ids]


def run(work: Path, lots: int, requests: int) -> str:
    from plant.sites import ensure_sites

    summary = ensure_sites(work / "plants", 2, lots=lots)
    plants = {site: plant(work / "plants" / site, log=work / f"plant-{site}.log") for site in ("a", "b")}
    try:
        own = {f"LOTGRAPH_{s.upper()}_URL": f"{plants['a'].url}/{s}" for s in SYSTEMS}
        base = {**own, "LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LIMITS_RATE": "0", "LOTGRAPH_SITE": "a",
                "LOTGRAPH_LOG_LEVEL": "warning"}  # fmt: skip
        two = {**base, "LOTGRAPH_SITES": "b"}
        two |= {f"LOTGRAPH_SITE_B_{s.upper()}_URL": f"{plants['b'].url}/{s}" for s in SYSTEMS}
        gateways = {
            "one site": gateway({**base, "LOTGRAPH_DATA_DIR": str(work / "g1")}, log=work / "gateway-1.log"),
            "two sites": gateway({**two, "LOTGRAPH_DATA_DIR": str(work / "g2")}, log=work / "gateway-2.log"),
        }
        try:
            return measure(summary, work / "plants", plants, gateways, requests)
        finally:
            for g in gateways.values():
                g.stop()
    finally:
        for p in plants.values():
            p.stop()


def measure(
    summary: dict[str, Any], plant_dir: Path, plants: dict[str, Launched], gateways: dict[str, Launched], requests: int
) -> str:
    lot = summary["links"]["b"][0]["lot"]
    workloads: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
        "readiness (50 shipments)": {
            "one site": (READINESS, {"ids": shipments(summary, plant_dir, "a", 50)}),
            "two sites": (
                READINESS,
                {"ids": shipments(summary, plant_dir, "a", 25) + shipments(summary, plant_dir, "b", 25)},
            ),
        },
        f"forward trace of {lot}": {"one site": (TRACE, {"lot": lot}), "two sites": (TRACE, {"lot": lot})},
    }
    rows = []
    for workload, by_deployment in workloads.items():
        for deployment, (query, variables) in by_deployment.items():
            url = gateways[deployment].url
            answer = post(url, query, variables)
            size = answer["data"].get("lotGenealogy", {}).get("summary", {}).get("lots")
            reset(plants)
            post(url, query, variables)
            counted = calls(plants)
            median, p95 = timed(functools.partial(post, url, query, variables), requests)
            per_site = "; ".join(
                f"{site}: " + ", ".join(f"{s} {n}" for s, n in by_system.items() if n)
                for site, by_system in counted.items()
                if any(by_system.values())
            )
            rows.append([workload, deployment, "—" if size is None else size, f"{median:.1f}", f"{p95:.1f}", per_site])
    table = markdown_table(
        ["workload", "gateway over", "lots in the answer", "median ms", "p95 ms", "upstream requests per site"], rows
    )
    machine = machine_description(["strawberry-graphql", "uvicorn", "aiohttp"])
    return f"Machine: {machine}; {requests} requests per row.\n\n{table}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sites", description=__doc__)
    parser.add_argument("--lots", type=int, default=2000, help="lots per plant (default 2000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per row (default 20)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-sites-") as tmp:
        print(run(Path(tmp), args.lots, args.requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
