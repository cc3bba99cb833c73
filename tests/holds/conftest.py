"""Fixtures of the hold tests: a plant of their own per test (holds change plant data), the gateway wired to it
in process, a direct client of the plant to check what the QMS and WMS recorded, and real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from starlette.applications import Starlette

from api.app import Lotgraph, create_app
from api.settings import SOURCES, Settings, load_settings
from bench import launch
from bench.launch import Launched
from plant.app import create_plant_app
from sources.bus.envelope import Event
from sources.bus.sqlite import SqliteBus
from sources.store import SqliteStore, Store
from sources.store.postgres import PostgresStore
from sources.store.redis import RedisStore
from sources.tryton.client import TrytonRpc
from tests import postgres
from tests.conftest import PLANT, TEST_SECRET, Gateway, Plant
from tests.tryton_server import Tryton, mixed_gateway

REDIS_URL = "redis://127.0.0.1:6379/3"
"""A database of the hold tests' own; every test also uses a key prefix of its own and deletes it."""
DEADLINE = 30.0
"""Seconds a test waits for something to happen (on a machine busy with other work)."""
FAST_RETRIES = {
    "LOTGRAPH_HOLDS_RETRY_BASE_SECONDS": "0.05",
    "LOTGRAPH_HOLDS_RETRY_MAX_SECONDS": "0.2",
    "LOTGRAPH_HOLDS_RETRY_POLL_SECONDS": "0.05",
    # Fast retries must outlast the WMS breaker's open window, whose fast failures count as attempts.
    "LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS": "200",
    "LOTGRAPH_RESILIENCE_BREAKER_OPEN_SECONDS": "1",
}

PLACE = """mutation($input: PlaceHoldInput!) { placeHold(input: $input) {
  complete replayed requestedBy requestedAt correlationId
  holds { id lotId status reasonCode comment placedBy placedAt correlationId }
  lots { id disposition stock { status } holds(status: ACTIVE) { id reasonCode } }
  propagatedLotIds blockedLotIds
  pendingActions { id kind status lotId holdId attempts maxAttempts lastError requestedBy correlationId }
  errors { code message lotId holdId source }
  warnings { code message lotId pendingActionId } } }"""

RELEASE = """mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) {
  complete replayed stock disposition activeHoldIds requestedBy correlationId
  hold { id lotId status releasedBy releaseComment }
  lot { id disposition stock { status } }
  pendingActions { id kind status lotId attempts lastError }
  errors { code message holdId source }
  warnings { code message lotId pendingActionId } } }"""

PENDING = """query($status: [PendingActionStatus!]) { pendingActions(status: $status, first: 500) {
  id kind status lotId holdId operation attempts maxAttempts nextAttemptAt lastError outcome requestedBy
  correlationId lot { id kind } } }"""


class PlantState:
    """What the plant's systems of record hold, read straight from their APIs (not through lotgraph)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def holds(self, lot_id: str, status: str | None = None) -> list[dict[str, Any]]:
        params = {"lot_ids": lot_id, **({"status": status} if status else {})}
        response = await self.client.get("/qms/holds", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def hold_count(self) -> int:
        response = await self.client.post("/qms/holds/search", json={"limit": 1})
        assert response.status_code == 200, response.text
        total: int = response.json()["total"]
        return total

    async def disposition(self, lot_id: str) -> str:
        response = await self.client.get(f"/qms/lots/{lot_id}")
        assert response.status_code == 200, response.text
        value: str = response.json()["disposition"]
        return value

    async def stock_statuses(self, lot_id: str) -> set[str]:
        response = await self.client.get("/wms/stock", params={"lot_ids": lot_id})
        assert response.status_code == 200, response.text
        return {item["status"] for item in response.json()["items"]}

    async def allocate(self, shipment_id: str, lot_id: str, quantity: float = 1.0) -> httpx.Response:
        body = {"shipment_id": shipment_id, "line_no": 1, "lot_id": lot_id, "quantity": quantity}
        return await self.client.post("/wms/allocations", json=body)

    async def refuses_allocation(self, shipment_id: str, lot_id: str) -> bool:
        """Whether the WMS refuses to allocate the lot, as it must when its stock is blocked."""
        refused = await self.allocate(shipment_id, lot_id)
        if refused.status_code == 409:
            assert refused.json()["error"]["code"] == "STOCK_NOT_AVAILABLE"
            return True
        return False


class TrytonState(PlantState):
    """The mixed deployment's systems of record: holds and dispositions in the contract QMS (as the plant's), stock
    in Tryton, read over its API: STO is the warehouse's storage zone (UNRESTRICTED), QUA the quarantine (BLOCKED)."""

    PLACES = {"STO": "UNRESTRICTED", "QUA": "BLOCKED"}

    def __init__(self, client: httpx.AsyncClient, rpc: TrytonRpc) -> None:
        super().__init__(client)
        self.rpc = rpc

    async def quantities(self, lot_id: str, *, available: bool = False) -> dict[str, float]:
        found: dict[str, float] = {}
        for place in await self.rpc.search_read("stock.location", [("code", "in", list(self.PLACES))], ["code"]):
            context: dict[str, Any] = {"locations": [place["id"]], "with_childs": True}
            if available:
                context["stock_assign"] = True
            (lot,) = await self.rpc.search_read("stock.lot", [("number", "=", lot_id)], ["quantity"], context=context)
            found[place["code"]] = lot["quantity"]
        return found

    async def stock_statuses(self, lot_id: str) -> set[str]:
        return {self.PLACES[code] for code, quantity in (await self.quantities(lot_id)).items() if quantity > 0}

    async def refuses_allocation(self, shipment_id: str, lot_id: str) -> bool:
        """Tryton reserves only storage stock: nothing of the lot is left there to reserve."""
        return (await self.quantities(lot_id, available=True))["STO"] == 0


@dataclass
class Upstream:
    """The hold suite's gateway over one kind of upstream, the systems of record read directly, and the manifest's
    ``demo`` lot and shipment to hold."""

    gateway: HoldGateway
    state: PlantState
    manifest: dict[str, Any]


class HoldGateway(Gateway):
    def __init__(self, client: httpx.AsyncClient, app: Lotgraph) -> None:
        super().__init__(client)
        self.app = app

    @property
    def bus(self) -> SqliteBus:
        bus = self.app.services.bus
        assert isinstance(bus, SqliteBus)
        return bus

    async def place(self, user: str = "qa.tester", wms_down: bool = False, **fields: Any) -> dict[str, Any]:
        """The payload; with ``wms_down``, the live stock of its lots may be an error naming the WMS."""
        body = await self.data(PLACE, {"input": fields}, user=user, wms_down=wms_down)
        payload: dict[str, Any] = body["placeHold"]
        return payload

    async def release(self, user: str = "qa.tester", wms_down: bool = False, **fields: Any) -> dict[str, Any]:
        body = await self.data(RELEASE, {"input": fields}, user=user, wms_down=wms_down)
        payload: dict[str, Any] = body["releaseHold"]
        return payload

    async def pending(self, *status: str) -> list[dict[str, Any]]:
        body = await self.data(PENDING, {"status": list(status) or None})
        actions: list[dict[str, Any]] = body["pendingActions"]
        return actions

    async def data(
        self, query: str, variables: dict[str, Any], user: str = "qa.tester", *, wms_down: bool = False
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **{"X-User": user})
        assert response.status_code == 200, response.text
        body = response.json()
        if wms_down:
            for error in body.get("errors", []):
                assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "wms"}, error
                assert error["path"][-1] == "stock", error
        else:
            assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


async def all_events(bus: SqliteBus) -> list[Event]:
    """Every event in the bus's log, in order."""
    head = await bus.head()
    found: list[Event] = []
    if not head:
        return found
    async with asyncio.timeout(DEADLINE), contextlib.aclosing(bus.subscribe(after="")) as events:
        async for event in events:
            found.append(event)
            if event.cursor == head:
                break
    return found


def gateway_settings(data_dir: Path, **env: str) -> Settings:
    urls = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    auth = {"LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0"}
    return load_settings({**urls, **auth, "LOTGRAPH_DATA_DIR": str(data_dir), **FAST_RETRIES, **env})


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, plant: Starlette) -> AsyncIterator[HoldGateway]:
    """The gateway in process over the plant; leaving the block shuts it down (as a restart would)."""
    transport = httpx.ASGITransport(app=plant)
    app = create_app(settings, transports=dict.fromkeys(SOURCES, transport))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test", timeout=30)
    async with app.router.lifespan_context(app), client:
        yield HoldGateway(client, app)


@pytest.fixture
def plant_data(own_plant: tuple[Path, dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """A plant of this test's own: holds change its data (a copy of the session's generated one)."""
    return own_plant


@pytest.fixture
def manifest(plant_data: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return plant_data[1]


@pytest.fixture
async def plant(plant_data: tuple[Path, dict[str, Any]]) -> AsyncIterator[Starlette]:
    app = create_plant_app(plant_data[0])
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def plant_client(plant: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plant), base_url=PLANT) as client:
        yield client


@pytest.fixture
def state(plant_client: httpx.AsyncClient) -> PlantState:
    return PlantState(plant_client)


@pytest.fixture
def admin(plant_client: httpx.AsyncClient) -> Plant:
    return Plant(plant_client)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(tmp_path / "gateway")


@pytest.fixture
async def gateway(settings: Settings, plant: Starlette) -> AsyncIterator[HoldGateway]:
    async with running_gateway(settings, plant) as gateway:
        yield gateway


@pytest.fixture
def contract_upstream(gateway: HoldGateway, state: PlantState, manifest: dict[str, Any]) -> Upstream:
    return Upstream(gateway, state, manifest)


@pytest.fixture
async def tryton_upstream(tmp_path: Path, tryton: Tryton) -> AsyncIterator[Upstream]:
    async with mixed_gateway(tryton, tmp_path, HoldGateway, **FAST_RETRIES) as mixed:
        yield Upstream(mixed.gateway, TrytonState(mixed.contract, mixed.rpc), tryton.manifest)


@pytest.fixture(params=["contract", "tryton"])
def upstream(request: pytest.FixtureRequest, tryton: Tryton) -> Upstream:
    """The same tests over the reference plant (a fresh one) and over a live Tryton (ERP, MES and WMS; the QMS on
    the contract, fresh per test). Tryton is shared by the session: a test over it leaves its stock as it found it."""
    found: Upstream = request.getfixturevalue(f"{request.param}_upstream")
    return found


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"these tests need Redis at {REDIS_URL} (apt-get install redis-server, then start it): {exc}")
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test only; its keys are deleted afterwards."""
    prefix = f"lotgraph-holds-test:{uuid.uuid4().hex}:"
    yield prefix
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def new_key() -> str:
    return uuid.uuid4().hex


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (dropped after)."""
    async with postgres.database() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis", "postgres"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[Callable[[], Store], Clock]]:
    """A factory of stores over the same data (two replicas, or two connections), and their clock."""
    clock = Clock()
    opened: list[SqliteStore | RedisStore | PostgresStore] = []
    async with contextlib.AsyncExitStack() as stack:
        database = await stack.enter_async_context(postgres.database()) if request.param == "postgres" else ""

        def make() -> Store:
            store: SqliteStore | RedisStore | PostgresStore
            if request.param == "sqlite":
                store = SqliteStore(tmp_path / "store.db", ttl_seconds=3600, clock=clock)
            elif request.param == "redis":
                store = RedisStore(redis_url, ttl_seconds=3600, prefix=redis_prefix, clock=clock)
            else:
                store = PostgresStore(database, ttl_seconds=3600, pool_size=4, clock=clock)
            opened.append(store)
            return store

        yield make, clock
        for store in opened:
            await store.aclose()


async def open_store(make: Callable[[], Store]) -> Store:
    store = make()
    await store.open()  # type: ignore[attr-defined]
    return store


def gateway_process(plant_url: str, data_dir: Path, **env: str) -> Launched:
    """A gateway replica on the plant at ``plant_url``, retrying held-back actions quickly."""
    settings = {
        **{f"LOTGRAPH_{name}_URL": f"{plant_url}/{name.lower()}" for name in ("ERP", "QMS", "MES", "WMS")},
        "LOTGRAPH_DATA_DIR": str(data_dir),
        "LOTGRAPH_LOG_LEVEL": "warning",
        "LOTGRAPH_AUTH_MODE": "none",  # storms across replicas; authentication has its own tests (tests/security)
        "LOTGRAPH_LIMITS_RATE": "0",
        "LOTGRAPH_HOLDS_RETRY_BASE_SECONDS": "0.05",
        "LOTGRAPH_HOLDS_RETRY_MAX_SECONDS": "0.2",
        "LOTGRAPH_HOLDS_RETRY_POLL_SECONDS": "0.05",
        "LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS": "200",
        **env,
    }
    return launch.gateway(settings, log=data_dir.parent / f"{data_dir.name}.log")
