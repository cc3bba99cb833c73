"""A real Tryton for the tests: one ``trytond`` per session with the data set (from the cache, built once per
machine), a counting proxy in front of it, the four Tryton adapters over it, and the gateway with every system of
kind ``tryton``. The root conftest imports the session fixture, so every suite that runs over Tryton shares it."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any, Generic, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from api.app import Lotgraph, create_app
from api.settings import Settings, load_settings
from plant.qms import create_app as create_qms_app
from plant.tryton.beside import contract_qms
from plant.tryton.prepare import prepare
from plant.tryton.proxy import CountingProxy
from plant.tryton.server import ADMIN_PASSWORD, TrytonServer, stop
from resolvers.config import ResolverConfig
from resolvers.context import Context
from resolvers.holds.policy import HoldPolicy
from sources.bundle import Sources
from sources.deadletters import DeadLetterStore
from sources.http import SourceClient
from sources.ports import EventBus
from sources.resilience import ResiliencePolicy
from sources.store import Store
from sources.tryton.client import TrytonLogin, TrytonRpc
from sources.tryton.erp import TrytonErp
from sources.tryton.mapping import QUARANTINE_CODE
from sources.tryton.mes import TrytonMes
from sources.tryton.qms import TrytonQms
from sources.tryton.wms import TrytonWms
from tests.conftest import TEST_SECRET, Gateway

SYSTEMS = ("ERP", "QMS", "MES", "WMS")
MIXED = ("ERP", "MES", "WMS")
"""The expected first deployment: ERP, MES and WMS on Tryton, the QMS a system that implements the contract."""
CONTRACT = "http://contract.test"
"""Where the systems that implement the contract answer in the mixed deployment (``/qms``, as in the plant)."""


@dataclass
class Parts:
    """What resolvers ask of the gateway's services (``resolvers.context.Services``), for tests that call them
    directly over the Tryton adapters."""

    sources: Sources
    bus: EventBus | None = None
    config: ResolverConfig = field(default_factory=ResolverConfig)
    holds: HoldPolicy = field(default_factory=HoldPolicy)
    store: Store | None = None
    dead_letters: DeadLetterStore | None = None


def context(sources: Sources, bus: EventBus | None = None) -> Context:
    return Context(Parts(sources, bus), "tests-tryton")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Tryton:
    server: TrytonServer
    process: Popen[bytes]
    proxy: CountingProxy
    manifest: dict[str, Any]

    def stop(self) -> None:
        stop(self.process)

    def start(self) -> None:
        self.process = self.server.start()


@pytest.fixture(scope="session")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tryton]:
    server = TrytonServer(tmp_path_factory.mktemp("tryton"), port=free_port())
    manifest = prepare(server, seed=7, lots=100)
    process = server.start()
    proxy = CountingProxy(server.url).start()
    handle = Tryton(server, process, proxy, manifest)
    yield handle
    proxy.stop()
    handle.stop()


def tryton_sources(tryton: Tryton, *, timeout: float = 10.0, policy: ResiliencePolicy | None = None) -> Sources:
    """The four ports over the session's Tryton (through the counting proxy), one client each."""
    login = TrytonLogin(tryton.server.database, "admin", ADMIN_PASSWORD)

    def rpc(name: str) -> TrytonRpc:
        return TrytonRpc(SourceClient(name, tryton.proxy.url, timeout=timeout, policy=policy), login)

    return Sources(
        erp=TrytonErp(rpc("erp"), cache_ttl=0),
        qms=TrytonQms(rpc("qms")),
        mes=TrytonMes(rpc("mes")),
        wms=TrytonWms(rpc("wms"), quarantine_code=QUARANTINE_CODE),
    )


def tryton_env(tryton: Tryton, data_dir: Path, kinds: tuple[str, ...] = SYSTEMS) -> dict[str, str]:
    """Settings (as environment) of a gateway whose ``kinds`` systems are the session's Tryton."""
    env = {"LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0", "LOTGRAPH_DATA_DIR": str(data_dir)}
    for system in SYSTEMS:
        env[f"LOTGRAPH_{system}_URL"] = tryton.proxy.url if system in kinds else f"{CONTRACT}/{system.lower()}"
        if system in kinds:
            env |= {
                f"LOTGRAPH_{system}_KIND": "tryton",
                f"LOTGRAPH_{system}_TIMEOUT": "30",
                f"LOTGRAPH_{system}_TRYTON_DATABASE": tryton.server.database,
                f"LOTGRAPH_{system}_TRYTON_LOGIN": "admin",
                f"LOTGRAPH_{system}_TRYTON_PASSWORD": ADMIN_PASSWORD,
            }
    return env


def tryton_settings(tryton: Tryton, data_dir: Path, kinds: tuple[str, ...] = SYSTEMS, **extra: str) -> Settings:
    return load_settings({**tryton_env(tryton, data_dir, kinds), **extra})


G = TypeVar("G", bound=Gateway)


def plain(client: httpx.AsyncClient, app: Lotgraph) -> Gateway:
    return Gateway(client)


@contextlib.asynccontextmanager
async def gateway_on(
    settings: Settings,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    make: Callable[[httpx.AsyncClient, Lotgraph], G] = plain,
) -> AsyncIterator[G]:
    """The gateway in process; ``make`` wraps its client (and app) in the test's kind of client."""
    app = create_app(settings, transports=transports)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test", timeout=120)
    async with app.router.lifespan_context(app), client:
        yield make(client, app)


def admin_rpc(tryton: Tryton, name: str = "tests") -> TrytonRpc:
    """A Tryton client of the tests' own, to check what Tryton holds without going through lotgraph."""
    client = SourceClient(name, tryton.proxy.url, timeout=30)
    return TrytonRpc(client, TrytonLogin(tryton.server.database, "admin", ADMIN_PASSWORD))


@dataclass
class Mixed(Generic[G]):
    """A gateway over the mixed deployment, with direct clients of its Tryton and of its contract QMS (at
    ``/qms``, as in the reference plant)."""

    gateway: G
    rpc: TrytonRpc
    contract: httpx.AsyncClient
    qms_db: Path


@contextlib.asynccontextmanager
async def mixed_gateway(
    tryton: Tryton,
    directory: Path,
    make: Callable[[httpx.AsyncClient, Lotgraph], G] = plain,
    **extra: str,
) -> AsyncIterator[Mixed[G]]:
    """The gateway in process with ERP, MES and WMS on the session's Tryton and the QMS on a contract QMS of this
    test's own (holds change it)."""
    rpc = admin_rpc(tryton)
    try:
        found = await rpc.search_read("stock.lot", [], ["number", "product.code"])
        path = contract_qms(directory / "qms", {r["number"]: r["product."]["code"] for r in found})
        qms = create_qms_app(path)
        transport = httpx.ASGITransport(app=Starlette(routes=[Mount("/qms", app=qms)]))
        settings = tryton_settings(tryton, directory / "gateway", MIXED, **extra)
        async with (
            qms.router.lifespan_context(qms),
            httpx.AsyncClient(transport=transport, base_url=CONTRACT) as contract,
            gateway_on(settings, {"qms": transport}, make) as gateway,
        ):
            yield Mixed(gateway, rpc, contract, path)
    finally:
        await rpc.aclose()


BLOCKERS_BY_STEP = {
    "confirmed-waiting": ["ALLOCATION_INCOMPLETE"],
    "waiting": ["ALLOCATION_INCOMPLETE"],
    "assigned": ["PICKING_INCOMPLETE"],
    "picked": ["NOT_STAGED"],
    "packed-hold": ["LOT_ON_HOLD", "STOCK_BLOCKED"],
    "packed-hold2": ["LOT_ON_HOLD", "STOCK_BLOCKED"],
    "packed-pending": ["LOT_NOT_RELEASED"],
    "packed-alert": ["LOT_ON_HOLD", "OPEN_DEVIATION"],
}
"""What the data set's scenarios were built to show (plant/tryton/dataset.py), as the reference plant's manifest
lists its blocked shipments."""

EXPRESSIBLE = frozenset(code for codes in BLOCKERS_BY_STEP.values() for code in codes)
"""The blocker codes Tryton's data can produce (no credit or delivery block, certificates or expiry in it)."""


def plant_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The Tryton data set's manifest in the reference plant's terms, for the shared suites."""
    shipments = manifest["shipments"]
    blocked = [
        {"id": shipment, "expected": sorted(codes)}
        for step, codes in BLOCKERS_BY_STEP.items()
        for shipment in shipments.get(step, [])
        if step not in ("assigned",) or shipment == shipments[step][0]  # the other assigned ones: tests change them
    ]
    return {**manifest, "shipments": {**shipments, "ready": shipments["packed"], "blocked": blocked}}
