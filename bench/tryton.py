"""Tryton benchmark: its two APIs side by side, and readiness and genealogy over Tryton beside the reference plant.

Run from the repository root (needs ``pip install -e '.[tryton]'``)::

    python -m bench.tryton                 # 40 rounds of each
    python -m bench.tryton --rounds 10

1. **API**: the same batched read — 100 lots with their number and their product's code — through JSON-RPC with a
   session (``search_read``, dotted field path) and through the REST API with a user application key
   (``GET /<db>/rest/model/stock.lot?d=…&f=number&f=product.code&s=100``); median and p90 of ``--rounds`` calls,
   one at a time.
2. **Readiness and genealogy**: the adapters of each kind (``sources/tryton`` over the Tryton of tests/tryton's data
   set, through the counting proxy; the contract's over the reference plant, 2,000 lots, served by uvicorn), asked
   through the resolvers (``decide`` for every open shipment of the data set and for one; a forward trace from a raw
   lot). Wall time per decision or trace (median), upstream calls per run counted upstream (Tryton's proxy, the
   plant's admin stats), and Tryton's own time per batched read (median over the run, measured by the proxy).

Everything listens on 127.0.0.1; the Tryton server comes from the cache (``plant/tryton``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import machine_description, markdown_table, serve
from bench.launch import free_port
from plant.tryton.prepare import prepare
from plant.tryton.proxy import CountingProxy
from plant.tryton.server import ADMIN_PASSWORD, TrytonServer, stop
from sources.bundle import Sources
from sources.http import SourceClient
from sources.tryton.client import TrytonLogin, TrytonRpc
from sources.tryton.erp import TrytonErp
from sources.tryton.mapping import QUARANTINE_CODE
from sources.tryton.mes import TrytonMes
from sources.tryton.qms import TrytonQms
from sources.tryton.wms import TrytonWms

ENV_PLANT_DIR = "BENCH_PLANT_DIR"


def tryton_sources(url: str, database: str) -> Sources:
    login = TrytonLogin(database, "admin", ADMIN_PASSWORD)

    def rpc(name: str) -> TrytonRpc:
        return TrytonRpc(SourceClient(name, url, timeout=30), login)

    return Sources(
        erp=TrytonErp(rpc("erp"), cache_ttl=0),
        qms=TrytonQms(rpc("qms")),
        mes=TrytonMes(rpc("mes")),
        wms=TrytonWms(rpc("wms"), quarantine_code=QUARANTINE_CODE),
    )


def contract_sources(plant_url: str) -> Sources:
    from sources.contract.erp import ErpSource
    from sources.contract.mes import MesSource
    from sources.contract.qms import QmsSource
    from sources.contract.wms import WmsSource

    def client(name: str) -> SourceClient:
        return SourceClient(name, f"{plant_url}/{name}", timeout=30)

    return Sources(
        erp=ErpSource(client("erp"), cache_ttl=0),
        qms=QmsSource(client("qms")),
        mes=MesSource(client("mes")),
        wms=WmsSource(client("wms")),
    )


async def timed(rounds: int, work: Callable[[], Awaitable[Any]]) -> list[float]:
    await work()  # warm: sessions, connections
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        await work()
        seconds.append(time.perf_counter() - started)
    return seconds


def ms(values: list[float], q: float = 0.5) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


# -- 1. the APIs -------------------------------------------------------------------------------------------------


async def api_rows(server: TrytonServer, rounds: int) -> list[list[str]]:
    rpc = TrytonRpc(SourceClient("erp", server.url, timeout=30), TrytonLogin(server.database, "admin", ADMIN_PASSWORD))
    key = await rpc.write_call("res.user.application", "create", [{"user": 1, "application": "rest"}])
    (app,) = await rpc.read("res.user.application", key, ["key", "state"])
    if app.get("state") != "validated":
        await rpc.write_call("res.user.application", "validate_", key)
    fields = ["number", "product.code"]

    async def json_rpc() -> None:
        found = await rpc.search_read("stock.lot", [], fields, limit=100)
        assert len(found) >= 50

    domain = base64.urlsafe_b64encode(json.dumps([]).encode()).decode()
    url = f"{server.url}/{server.database}/rest/model/stock.lot?d={domain}&f=number&f=product.code&s=100"

    def rest_call() -> None:
        request = urllib.request.Request(url, headers={"Authorization": f"bearer {app['key']}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert len(json.loads(answer.read())) >= 50

    async def rest() -> None:
        await asyncio.to_thread(rest_call)

    rpc_s, rest_s = await timed(rounds, json_rpc), await timed(rounds, rest)
    await rpc.aclose()
    return [
        ["JSON-RPC, session (search_read)", ms(rpc_s), ms(rpc_s, 0.9)],
        ["REST, application key (GET …/rest/model)", ms(rest_s), ms(rest_s, 0.9)],
    ]


# -- 2. readiness and genealogy -------------------------------------------------------------------------------------


async def workload_rows(
    name: str,
    sources: Sources,
    shipments: list[str],
    lot: str,
    rounds: int,
    count: Callable[[], int],
    reset: Callable[[], None],
) -> list[list[str]]:
    from resolvers.config import ResolverConfig
    from resolvers.context import Context
    from resolvers.genealogy.model import TraceDirection
    from resolvers.genealogy.trace import trace
    from resolvers.holds.policy import HoldPolicy
    from resolvers.readiness.service import decide
    from sources.records import WarehouseStage

    @dataclass
    class Parts:  # what the resolvers ask of the gateway's services
        sources: Sources
        config: ResolverConfig = field(default_factory=ResolverConfig)
        holds: HoldPolicy = field(default_factory=HoldPolicy)
        bus: None = None
        store: None = None
        dead_letters: None = None

    ctx = Context(Parts(sources), "bench")
    rows = []
    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "readiness, 1 shipment": lambda: decide(sources, WarehouseStage.STAGED, shipments[:1]),  # one with lots
        f"readiness, {len(shipments)} shipments": lambda: decide(sources, WarehouseStage.STAGED, shipments),
        "genealogy, forward from a raw lot": lambda: trace(ctx, lot, TraceDirection.FORWARD, 20),
    }
    for case, work in cases.items():
        await work()
        reset()
        await work()
        calls = count()
        seconds = await timed(rounds, work)
        rows.append([name, case, ms(seconds), ms(seconds, 0.9), str(calls)])
    return rows


async def run(rounds: int) -> str:
    home = Path(tempfile.mkdtemp(prefix="bench-tryton-"))
    server = TrytonServer(home / "tryton", port=free_port())
    manifest = prepare(server, seed=7, lots=100)
    process = server.start()
    proxy = CountingProxy(server.url).start()
    try:
        api = await api_rows(server, rounds)
        first = manifest["shipments"]["packed"][:1]
        shipments = first + [s for ids in manifest["shipments"].values() for s in ids if s not in first]
        tryton = tryton_sources(proxy.url, server.database)
        proxy.reset()
        rows = await workload_rows(
            "Tryton", tryton, shipments, manifest["lots"]["raw"][0], rounds, lambda: proxy.data_calls, proxy.reset
        )
        upstream = {m: statistics.median(s) * 1000 for m, s in proxy.seconds.items() if m.startswith("model.")}
        await tryton.aclose()
        rows += await plant_rows(home, rounds)
    finally:
        proxy.stop()
        stop(process)
    reads = [[m, f"{v:.1f}"] for m, v in sorted(upstream.items())]
    return "\n\n".join(
        [
            f"Machine: {machine_description()}",
            "Batched read of 100 lots (number, product code), ms:\n\n" + markdown_table(["API", "median", "p90"], api),
            "Workloads, ms per run:\n\n"
            + markdown_table(["upstream", "work", "median", "p90", "upstream calls"], rows),
            "Tryton's own time per batched read (median over the Tryton workloads, ms):\n\n"
            + markdown_table(["JSON-RPC method", "median"], reads),
        ]
    )


async def plant_rows(home: Path, rounds: int) -> list[list[str]]:
    from plant.generator import generate

    plant_dir = home / "plant"
    manifest = generate(plant_dir, seed=7, lots=2000)
    env = {ENV_PLANT_DIR: str(plant_dir)}
    with serve("bench.genealogy:plant_app", factory=True, env=env, ready_path="/erp/admin/stats") as plant:
        sources = contract_sources(plant.url)
        shipments = list(manifest["shipments"]["ready"])[:13]

        def count() -> int:
            total = 0
            for system in ("erp", "qms", "mes", "wms"):
                with urllib.request.urlopen(f"{plant.url}/{system}/admin/stats", timeout=10) as answer:
                    total += int(json.loads(answer.read())["total"])
            return total

        def reset() -> None:
            for system in ("erp", "qms", "mes", "wms"):
                request = urllib.request.Request(f"{plant.url}/{system}/admin/stats/reset", method="POST")
                urllib.request.urlopen(request, timeout=10).close()

        lot = manifest["demo"]["lot_forward"]
        rows = await workload_rows("reference plant", sources, shipments, lot, rounds, count, reset)
        await sources.aclose()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tryton", description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(asyncio.run(run(args.rounds)))


if __name__ == "__main__":
    main()
