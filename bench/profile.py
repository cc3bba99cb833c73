"""CPU time per request of one workload, in process, and where it goes: the profile behind docs/benchmarks.md.

Run from the repository root::

    python -m bench.profile shipments --requests 200 [--concurrency 20] [--profile cprofile|pyinstrument]

Generates a reference plant (seed 7, as ``python -m bench all``), serves it as a ``lotgraph plant`` process, opens
the gateway app in this process (its lifespan, the settings ``lotgraph serve`` gets from the side-by-side bench) and
asks the workload ``--requests`` times, ``--concurrency`` at a time, through ``httpx.ASGITransport``. It prints the
process CPU time per request (the gateway, the in-process client and the upstream client calls; not the plant) and,
with ``--profile``, where it went: cProfile's own time by package and its top functions (on the process's CPU clock,
so waiting for the plant or for a busy machine's cores does not count), or pyinstrument's call tree and flat list
(wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import http_request
from bench.launch import plant
from bench.workloads import Workload, sample_ids, workloads

SYSTEMS = ("erp", "qms", "mes", "wms")
HEADERS = {"Content-Type": "application/json", "X-Api-Key": "bench"}


def _sample(plant_url: str, manifest: dict[str, Any]) -> list[Workload]:
    search = json.dumps({"status": ["PLANNED", "IN_PROGRESS", "SHIPPED"], "limit": 50})
    found = http_request(f"{plant_url}/erp/shipments/search", method="POST", body=search, headers=HEADERS)
    items = found.json()["items"]
    return workloads(sample_ids(manifest, items[0]["lines"][0]["lots"][0]["lot_id"], [s["id"] for s in items]))


async def _run(
    plant_url: str, workdir: Path, workload: Workload, requests: int, concurrency: int, profile: str | None
) -> float:
    from api.app import create_app
    from api.settings import load_settings

    env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant_url}/{s}" for s in SYSTEMS}
    env |= {"LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "0"}
    env |= {"LOTGRAPH_DATA_DIR": str(workdir), "LOTGRAPH_METRICS_SAMPLE_INTERVAL": "600"}
    app = create_app(load_settings(env))
    body = workload.body()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for _ in range(5):
                answer = (await client.post("/graphql", json=body)).json()
                if answer.get("errors"):
                    raise RuntimeError(f"the gateway answered errors: {str(answer['errors'])[:300]}")
            profiler = cProfile.Profile(time.process_time) if profile == "cprofile" else None
            sampler = _sampler() if profile == "pyinstrument" else None
            started = time.process_time()
            if profiler:
                profiler.enable()
            if sampler:
                sampler.start()
            for _ in range(requests // concurrency):
                await asyncio.gather(*(client.post("/graphql", json=body) for _ in range(concurrency)))
            if profiler:
                profiler.disable()
            if sampler:
                sampler.stop()
            spent = time.process_time() - started
    if profiler:
        stats = pstats.Stats(profiler)
        _by_package(stats)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    if sampler:
        print(sampler.output_text(unicode=False, color=False, show_all=False))
        from pyinstrument.renderers import ConsoleRenderer

        print(sampler.output(ConsoleRenderer(flat=True, unicode=False, color=False, show_all=True))[:6000])
    return spent


def _by_package(stats: pstats.Stats) -> None:
    """Own time by package (graphql, strawberry, asyncio, this repository's packages …)."""
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        parts = Path(filename).parts
        if "site-packages" in parts:
            package = parts[parts.index("site-packages") + 1]
        elif "python3.11" in parts:
            package = "stdlib " + parts[-1]
        elif len(parts) > 1:
            package = parts[-2] + "/" + parts[-1]
        else:
            package = filename
        totals[package] = totals.get(package, 0.0) + own
    whole = sum(totals.values())
    for package, own in sorted(totals.items(), key=lambda item: -item[1])[:25]:
        print(f"{100 * own / whole:5.1f} %  {package}")


def _sampler() -> Any:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("bench.profile: --profile pyinstrument needs pyinstrument: pip install pyinstrument") from None
    return Profiler(interval=0.0005, async_mode="disabled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=["lot", "shipment", "shipments", "readiness"])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lots", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight at once")
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"], help="print where the CPU time went")
    args = parser.parse_args()
    from plant.generator import generate

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        workdir = Path(tmp)
        manifest = generate(workdir / "plant", seed=7, lots=args.lots)
        served = plant(workdir / "plant", log=workdir / "plant.log")
        try:
            (workload,) = [w for w in _sample(served.url, manifest) if w.name == args.workload]
            spent = asyncio.run(
                _run(served.url, workdir / "gateway", workload, args.requests, args.concurrency, args.profile)
            )
        finally:
            served.stop()
    print(f"{workload.title}: {1000 * spent / args.requests:.2f} ms CPU per request ({args.requests} requests)")


if __name__ == "__main__":
    main()
