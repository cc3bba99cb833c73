"""A gateway with the genealogy limits of a test, the reference genealogy of the session's plant, and the same
suite's upstreams of both kinds: the reference plant (the contract) and a live Tryton (ERP, MES and WMS on Tryton, the
QMS on the contract)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, Settings, load_settings
from sources.tryton.client import TrytonRpc
from tests.conftest import PLANT, TEST_SECRET, Gateway, gateway_over
from tests.genealogy.reference import (
    Genealogy,
    Records,
    plant_genealogy,
    plant_records,
    tryton_genealogy,
    tryton_records,
)
from tests.tryton_server import Tryton, admin_rpc, mixed_gateway

GatewayWith = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture(scope="session")
def genealogy(plant_dir: Path, manifest: dict[str, Any]) -> Genealogy:
    return plant_genealogy(plant_dir)


@pytest.fixture(scope="session")
def tryton_reference(tryton: Tryton) -> Genealogy:
    """Tryton's genealogy, read from its productions once per session (nothing in the suites changes them)."""

    async def read() -> Genealogy:
        rpc = admin_rpc(tryton, "reference")
        try:
            return await tryton_genealogy(rpc)
        finally:
            await rpc.aclose()

    return asyncio.run(read())


@dataclass
class Upstream:
    """The gateway over one kind of upstream, that upstream's genealogy read independently, and the lots the suite
    names (``raw_wide``: a raw lot reaching far, ``merge``: a lot of many inputs, ``split``: a lot used by many,
    ``multi_customer``: a shipped lot)."""

    gateway: Gateway
    genealogy: Genealogy
    lots: dict[str, str]
    data_dir: Path
    """The plant's databases, or the contract QMS's beside Tryton."""
    rpc: TrytonRpc | None = None

    async def records(self) -> Records:
        """What the systems of record hold now."""
        if self.rpc is None:
            return plant_records(self.data_dir)
        return await tryton_records(self.rpc, self.data_dir)


@pytest.fixture(params=["contract", "tryton"])
async def upstream(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    plant_dir: Path,
    manifest: dict[str, Any],
    genealogy: Genealogy,
    plant: Starlette,
    settings: Settings,
    tryton: Tryton,
    tryton_reference: Genealogy,
) -> AsyncIterator[Upstream]:
    if request.param == "contract":
        names = ("raw_wide", "merge", "split", "multi_customer")
        async with gateway_over(plant, settings) as gateway:
            lots = {name: manifest["lots"][name] for name in names}
            yield Upstream(gateway, genealogy, lots, plant_dir)
        return
    reference = tryton_reference
    raw = {lot for lot in reference.outputs if lot not in reference.inputs}
    lots = {"raw_wide": reference.widest(raw), "merge": reference.most(reference.inputs)}
    lots |= {"split": reference.most(reference.outputs, set(reference.outputs) - {lots["merge"]})}
    lots |= {"multi_customer": tryton.manifest["demo"]["lot_backward"]}
    async with mixed_gateway(tryton, tmp_path) as mixed:
        yield Upstream(mixed.gateway, reference, lots, mixed.qms_db.parent, mixed.rpc)


@pytest.fixture
def gateway_with(plant: Starlette, tmp_path: Path) -> GatewayWith:
    """A gateway with extra ``LOTGRAPH_…`` settings, e.g. ``gateway_with(LOTGRAPH_GENEALOGY_MAX_NODES="50")``."""

    @contextlib.asynccontextmanager
    async def open_gateway(**env: str) -> AsyncIterator[Gateway]:
        urls = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
        auth = {"LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0"}
        settings = load_settings({**urls, **auth, "LOTGRAPH_DATA_DIR": str(tmp_path / "gateway"), **env})
        transport = httpx.ASGITransport(app=plant)
        app = create_app(settings, transports=dict.fromkeys(SOURCES, transport))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        async with app.router.lifespan_context(app), client:
            yield Gateway(client)

    return open_gateway
