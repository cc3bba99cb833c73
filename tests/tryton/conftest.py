"""One real Tryton server for the session: the data set from the cache (built once per machine), ``trytond`` on a
free port, and a counting proxy in front of it that the adapters talk to."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest

from plant.tryton.prepare import prepare
from plant.tryton.proxy import CountingProxy
from plant.tryton.server import ADMIN_PASSWORD, TrytonServer, stop
from sources.bundle import Sources
from sources.http import SourceClient
from sources.resilience import ResiliencePolicy
from sources.tryton.client import TrytonLogin, TrytonRpc
from sources.tryton.erp import TrytonErp
from sources.tryton.mapping import QUARANTINE_CODE
from sources.tryton.mes import TrytonMes
from sources.tryton.qms import TrytonQms
from sources.tryton.wms import TrytonWms


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


@pytest.fixture
async def sources(tryton: Tryton) -> AsyncIterator[Sources]:
    bundle = tryton_sources(tryton)
    yield bundle
    with contextlib.suppress(Exception):
        await bundle.aclose()


@pytest.fixture
def manifest(tryton: Tryton) -> dict[str, Any]:
    return tryton.manifest


@pytest.fixture
def tryton_home(tryton: Tryton) -> Path:
    return tryton.server.home
