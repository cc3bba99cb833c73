"""Shared fixtures: a generated reference plant, and the gateway wired to it in-process (httpx.ASGITransport)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.auth import mint
from api.settings import SOURCES, Settings, load_settings
from plant.app import create_plant_app
from plant.generator import generate

PLANT = "http://plant.test"


@pytest.fixture(scope="session")
def plant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plant")


@pytest.fixture(scope="session")
def manifest(plant_dir: Path) -> dict[str, Any]:
    return generate(plant_dir, seed=7, lots=2000)


@pytest.fixture
async def plant(plant_dir: Path, manifest: dict[str, Any]) -> AsyncIterator[Starlette]:
    app = create_plant_app(plant_dir)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    env |= {"LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0"}  # rate limits: tests/security
    return load_settings({**env, "LOTGRAPH_DATA_DIR": str(tmp_path / "gateway")})


TEST_SECRET = "lotgraph-tests-only-" + "0123456789abcdef" * 3


def token(*roles: str, sub: str = "tester") -> str:
    """A bearer token for the test key."""
    return mint(TEST_SECRET, sub, list(roles))


class Plant:
    """Test access to the plant's admin API: faults and request counters."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def faults(self, system: str, **knobs: Any) -> None:
        response = await self.client.put(f"/{system}/admin/faults", json=knobs)
        assert response.status_code == 200, response.text

    async def reset_stats(self) -> None:
        for system in SOURCES:
            assert (await self.client.post(f"/{system}/admin/stats/reset")).status_code == 200

    async def stats(self) -> dict[str, dict[str, int]]:
        return {s: (await self.client.get(f"/{s}/admin/stats")).json()["requests"] for s in SOURCES}


@pytest.fixture
async def plant_admin(plant: Starlette) -> AsyncIterator[Plant]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plant), base_url=PLANT) as client:
        admin = Plant(client)
        yield admin
        for system in SOURCES:
            await admin.faults(system, latency_ms=0, error_rate=0.0, outage=False, garbage=False)


class Gateway:
    """A GraphQL client in process. It signs in as an admin unless given another token (or None for none);
    an ``X-User`` header becomes the subject of its token, as an identity provider would put it."""

    def __init__(self, client: httpx.AsyncClient, bearer: str | None = None) -> None:
        self.client = client
        self.bearer = bearer if bearer is not None else token("admin")

    def as_token(self, bearer: str | None) -> Gateway:
        """The same gateway, signed in with ``bearer`` (None: no token at all)."""
        return Gateway(self.client, bearer or "")

    async def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        sent = dict(headers)
        user = sent.pop("X-User", None) or sent.pop("x-user", None)
        bearer = token("admin", sub=user) if user else self.bearer
        if bearer and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {bearer}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextlib.asynccontextmanager
async def gateway_over(plant: Starlette, settings: Settings) -> AsyncIterator[Gateway]:
    """A gateway app in process whose four sources are the given plant app."""
    transport = httpx.ASGITransport(app=plant)
    app = create_app(settings, transports=dict.fromkeys(SOURCES, transport))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    async with app.router.lifespan_context(app), client:
        yield Gateway(client)


@pytest.fixture
async def gateway(settings: Settings, plant: Starlette) -> AsyncIterator[Gateway]:
    async with gateway_over(plant, settings) as gateway:
        yield gateway


@dataclass
class FreshPlant:
    """A plant of its own, for tests that change plant data."""

    app: Starlette
    manifest: dict[str, Any]
    admin: Plant
    gateway: Gateway


@pytest.fixture
async def fresh_plant(tmp_path: Path, settings: Settings) -> AsyncIterator[FreshPlant]:
    manifest = generate(tmp_path / "plant", seed=7, lots=2000)
    app = create_plant_app(tmp_path / "plant")
    admin_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PLANT)
    async with app.router.lifespan_context(app), admin_client, gateway_over(app, settings) as gateway:
        yield FreshPlant(app, manifest, Plant(admin_client), gateway)


# The session's real Tryton (tests/tryton_server.py), for every suite that also runs over Tryton. Imported last: that
# module uses the helpers above.
from tests.tryton_server import tryton  # noqa: E402, F401
