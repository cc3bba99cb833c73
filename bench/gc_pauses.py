"""Garbage-collection pauses of the gateway under the one-shipment workload, with Python's default collector
settings and with the servers' (api/servers.py: raised thresholds, start-up heap frozen).

Run from the repository root::

    python -m bench.gc_pauses --requests 2000

In one process, for each setting in turn: the gateway app (its lifespan opened) answers ``--requests`` one-shipment
queries through ``httpx.ASGITransport``, 20 at a time, against a ``lotgraph plant`` process; ``gc.callbacks``
count the collections of each generation and time them. Counts, not wall time, are the comparable figures on a
busy machine; the pause times are given with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.servers import GC_THRESHOLDS
from bench.harness import http_request, markdown_table
from bench.launch import plant
from bench.workloads import SHIPMENT

SYSTEMS = ("erp", "qms", "mes", "wms")
DEFAULT_THRESHOLDS = (700, 10, 10)


@dataclass
class Pauses:
    count: list[int] = field(default_factory=lambda: [0, 0, 0])
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    longest: float = 0.0
    _started: float = 0.0

    def __call__(self, phase: str, info: Mapping[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        generation = int(info["generation"])
        self.count[generation] += 1
        self.seconds[generation] += took
        self.longest = max(self.longest, took)


async def _load(plant_url: str, workdir: Path, shipment_id: str, requests: int, *, freeze: bool) -> float:
    from api.app import create_app
    from api.settings import load_settings

    env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant_url}/{s}" for s in SYSTEMS}
    env |= {"LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "0"}
    env |= {"LOTGRAPH_DATA_DIR": str(workdir)}
    app = create_app(load_settings(env))
    body = {"query": SHIPMENT, "variables": {"id": shipment_id}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            answer = (await client.post("/graphql", json=body)).json()
            if answer.get("errors"):
                raise RuntimeError(f"the gateway answered errors: {str(answer['errors'])[:300]}")
            if freeze:
                gc.freeze()  # as the servers do once started
            started = time.perf_counter()
            for _ in range(requests // 20):
                answers = await asyncio.gather(*(client.post("/graphql", json=body) for _ in range(20)))
                if any(answer.status_code != 200 for answer in answers):
                    raise RuntimeError(f"the gateway answered {[a.status_code for a in answers]}")
            return time.perf_counter() - started


def _row(name: str, pauses: Pauses, wall: float, requests: int) -> list[object]:
    gc_ms = 1000 * sum(pauses.seconds)
    return [
        name,
        " / ".join(str(n) for n in pauses.count),
        f"{1000 * pauses.seconds[2]:.0f}",
        f"{1000 * pauses.longest:.1f}",
        f"{gc_ms / requests:.2f}",
        f"{100 * gc_ms / (1000 * wall):.1f} %",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--lots", type=int, default=2000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as tmp:
        workdir = Path(tmp)
        served = plant(workdir / "plant", "--lots", str(args.lots), log=workdir / "plant.log")
        try:
            manifest = http_request(f"{served.url}/admin/manifest").json()
            shipment_id = manifest["shipments"]["ready"][0]
            for name, tuned in (("Python's defaults", False), ("lotgraph's servers", True)):
                gc.collect()
                gc.unfreeze()
                gc.set_threshold(*(GC_THRESHOLDS if tuned else DEFAULT_THRESHOLDS))
                pauses = Pauses()
                gc.callbacks.append(pauses)
                try:
                    wall = asyncio.run(_load(served.url, workdir / name[:6], shipment_id, args.requests, freeze=tuned))
                finally:
                    gc.callbacks.remove(pauses)
                rows.append(_row(name, pauses, wall, args.requests))
        finally:
            served.stop()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.requests} one-shipment queries, 20 at a time, in process; load average after: {load}\n")
    headers = [
        "collector",
        "collections gen 0 / 1 / 2",
        "full collections ms",
        "longest pause ms",
        "GC ms per request",
        "GC share of wall time",
    ]
    print(markdown_table(headers, rows))
    print(json.dumps({"thresholds": {"default": DEFAULT_THRESHOLDS, "lotgraph": GC_THRESHOLDS}}))


if __name__ == "__main__":
    main()
