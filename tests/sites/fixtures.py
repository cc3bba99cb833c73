"""Two sites in process: the reference plants of ``lotgraph demo --sites 2`` (site a, the gateway's own, and site b,
which received some of a's finished lots), and a gateway over both (``httpx.ASGITransport``)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, load_settings
from plant.app import create_plant_app
from plant.sites import ensure_sites
from tests.conftest import PLANT, TEST_SECRET, Gateway, Plant

SITES = ("a", "b")


@dataclass
class Sites:
    root: Path
    summary: dict[str, Any]

    def dir(self, site: str) -> Path:
        return self.root / site

    def db(self, site: str, system: str) -> sqlite3.Connection:
        return sqlite3.connect(self.dir(site) / f"{system}.db")

    @property
    def received(self) -> list[str]:
        """Lot numbers site a shipped and site b received."""
        return [link["lot"] for link in self.summary["links"]["b"]]


@pytest.fixture(scope="session")
def sites_source(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    root = tmp_path_factory.mktemp("sites")
    return Sites(root, ensure_sites(root, 2))


@pytest.fixture
def sites(sites_source: Sites, tmp_path: Path) -> Sites:
    """A copy of the two plants for one test (holds change them)."""
    root = tmp_path / "plants"
    shutil.copytree(sites_source.root, root)
    return Sites(root, sites_source.summary)


@pytest.fixture
async def site_plants(sites: Sites) -> AsyncIterator[dict[str, Starlette]]:
    apps = {site: create_plant_app(sites.dir(site)) for site in SITES}
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield apps


@pytest.fixture
async def site_admins(site_plants: dict[str, Starlette]) -> AsyncIterator[dict[str, Plant]]:
    async with contextlib.AsyncExitStack() as stack:
        admins = {}
        for site, app in site_plants.items():
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PLANT)
            admins[site] = Plant(await stack.enter_async_context(client))
        yield admins


GatewayOver = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def two_sites_with(site_plants: dict[str, Starlette], tmp_path: Path) -> GatewayOver:
    """A gateway over both sites (a its own, b declared with LOTGRAPH_SITES), with extra ``LOTGRAPH_…`` settings."""

    @contextlib.asynccontextmanager
    async def open_gateway(**env: str) -> AsyncIterator[Gateway]:
        settings_env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
        settings_env |= {f"LOTGRAPH_SITE_B_{name.upper()}_URL": f"http://site-b.test/{name}" for name in SOURCES}
        settings_env |= {"LOTGRAPH_SITE": "a", "LOTGRAPH_SITES": "b", "LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET,
                         "LOTGRAPH_LIMITS_RATE": "0", "LOTGRAPH_DATA_DIR": str(tmp_path / "gateway")}  # fmt: skip
        settings = load_settings({**settings_env, **env})
        transports: dict[str, httpx.AsyncBaseTransport] = {}
        for site, app in site_plants.items():
            prefix = "" if site == "a" else f"{site}."
            transports |= {prefix + name: httpx.ASGITransport(app=app) for name in SOURCES}
        app = create_app(settings, transports=transports)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        async with app.router.lifespan_context(app), client:
            yield Gateway(client)

    return open_gateway


@pytest.fixture
async def two_sites(two_sites_with: GatewayOver) -> AsyncIterator[Gateway]:
    async with two_sites_with() as gateway:
        yield gateway
