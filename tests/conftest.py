"""Shared fixtures: a generated reference plant, and the gateway wired to it in-process (httpx.ASGITransport)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import inspect
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from starlette.applications import Starlette

from api.app import create_app
from api.auth import mint
from api.settings import SOURCES, Settings, load_settings
from bench import launch
from plant.app import create_plant_app
from plant.generator import generate
from plant.tryton.prepare import prepare as prepare_tryton
from plant.tryton.server import TrytonServer

PLANT = "http://plant.test"

# Property tests (tests/security/test_fuzz.py). ``ci``, the default: a fixed set of cases (derandomized, so a failure
# fails the same way on every run and machine) and no deadline (a busy machine is not a bug). ``thorough``
# (HYPOTHESIS_PROFILE=thorough): four times the cases, random, failing ones kept in .hypothesis/ and replayed first.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None)
hypothesis_settings.register_profile("thorough", max_examples=400, deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# -- test sets -----------------------------------------------------------------------------------------------------
# Each test is marked by what it needs: what it, its fixtures and the test helpers they call (two calls deep) refer
# to. So a new test falls in the right set without anyone remembering; `./scripts/test --quick` runs the tests that
# need none of these.
STARTERS = (launch, launch.launch, launch.plant, launch.gateway, launch.demo, launch.started, launch.running)
STARTERS += (TrytonServer, prepare_tryton)  # a real trytond (tests/tryton_server.py)
COMMANDS = (launch.LOTGRAPH, subprocess, asyncio.create_subprocess_exec)
NEEDS: dict[str, Callable[[object], bool]] = {
    # lotgraph, redis-server or other commands as processes
    "processes": lambda value: any(value is known for known in (*STARTERS, *COMMANDS)),
    "browser": lambda value: _from(value, "playwright"),  # Chromium through Playwright
    "npm": lambda value: _from(value, "tests.conformance.node"),  # Node.js packages (tests/npm)
}


def _from(value: object, package: str) -> bool:
    module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
    return isinstance(module, str) and (module == package or module.startswith(package + "."))


TESTS = Path(__file__).parent


def _ours(value: object) -> bool:
    """Whether ``value`` is one of the tests' own helpers: defined in a file under tests/, whatever its module is
    called (the modules of a test folder without ``__init__.py`` are imported by file name)."""
    try:
        return _under_tests(value)
    except TypeError:  # unhashable, a built-in, or not a function, class or module
        return False


@functools.cache
def _under_tests(value: object) -> bool:
    source = inspect.getsourcefile(value)  # type: ignore[arg-type]
    return source is not None and Path(source).is_relative_to(TESTS)


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):  # inner functions, lambdas, comprehensions
            yield from _names(const)


def _refers(obj: object, needs: Callable[[object], bool], depth: int = 2) -> bool:
    """Whether ``obj`` (a function, or a class's methods) refers to something ``needs`` names, directly or through
    the tests' own helpers ``depth`` calls deep."""
    try:
        return _refers_once(obj, needs, depth)
    except TypeError:  # not hashable: not a function or class
        return False


@functools.cache  # the same tests, fixtures and helpers come back for every parameter and every test using them
def _refers_once(obj: object, needs: Callable[[object], bool], depth: int) -> bool:
    if isinstance(obj, type):
        return any(_refers(member, needs, depth) for member in vars(obj).values())
    function = inspect.unwrap(obj) if callable(obj) else None
    code, scope = getattr(function, "__code__", None), getattr(function, "__globals__", None)
    if code is None or scope is None:
        return False
    for name in set(_names(code)):
        value = scope.get(name, getattr(asyncio, name, None) if name == "create_subprocess_exec" else None)
        if value is None:
            continue
        if needs(value) or (depth and _ours(value) and _refers(value, needs, depth - 1)):
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixtures = [defs[-1].func for defs in item._fixtureinfo.name2fixturedefs.values() if defs]
        for marker, needs in NEEDS.items():
            if any(_refers(obj, needs) for obj in [item.obj, *fixtures]):
                item.add_marker(marker)
        if getattr(item.obj, "is_hypothesis_test", False):
            item.add_marker("fuzz")


@dataclass(frozen=True)
class PlantTemplate:
    """The 2,000-lot plant of seed 7, generated once per session and never served: tests get copies of it."""

    path: Path
    manifest: dict[str, Any]

    def copy_to(self, target: Path) -> dict[str, Any]:
        """Its four databases and manifest copied into ``target`` (a plant of one's own to change); its manifest."""
        shutil.copytree(self.path, target, dirs_exist_ok=True)
        return copy.deepcopy(self.manifest)


@pytest.fixture(scope="session")
def plant_template(tmp_path_factory: pytest.TempPathFactory) -> PlantTemplate:
    path = tmp_path_factory.mktemp("plant-template")
    return PlantTemplate(path, generate(path, seed=7, lots=2000))


@pytest.fixture(scope="session")
def plant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plant the session's read-only tests share (``plant``, ``gateway``)."""
    return tmp_path_factory.mktemp("plant")


@pytest.fixture(scope="session")
def manifest(plant_dir: Path, plant_template: PlantTemplate) -> dict[str, Any]:
    return plant_template.copy_to(plant_dir)


@pytest.fixture
def own_plant(plant_template: PlantTemplate, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A plant of this test's own in ``tmp_path / "plant"``, for tests that change plant data: a copy of the
    session's template (as generated with seed 7 and 2,000 lots, without generating again)."""
    data = tmp_path / "plant"
    return data, plant_template.copy_to(data)


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
async def fresh_plant(own_plant: tuple[Path, dict[str, Any]], settings: Settings) -> AsyncIterator[FreshPlant]:
    data, manifest = own_plant
    app = create_plant_app(data)
    admin_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PLANT)
    async with app.router.lifespan_context(app), admin_client, gateway_over(app, settings) as gateway:
        yield FreshPlant(app, manifest, Plant(admin_client), gateway)


# The session's real Tryton (tests/tryton_server.py), for every suite that also runs over Tryton. Imported last: that
# module uses the helpers above.
from tests.tryton_server import tryton  # noqa: E402, F401
