"""A gateway with the genealogy limits of a test, and the reference genealogy of the session's plant."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, load_settings
from tests.conftest import PLANT, TEST_SECRET, Gateway
from tests.genealogy.reference import Genealogy

GatewayWith = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture(scope="session")
def genealogy(plant_dir: Path, manifest: dict[str, Any]) -> Genealogy:
    return Genealogy(plant_dir)


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
