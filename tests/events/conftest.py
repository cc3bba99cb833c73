"""Fixtures of the events tests: real Redis (the shared one, or a private redis-server), unique stream keys."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from bench import launch
from bench.launch import Launched
from sources.bus.envelope import BusinessKeys, Event

REDIS_URL = "redis://127.0.0.1:6379/0"
DEADLINE = 10.0


def hold_event(lot: str, n: int = 0, *, source_event_id: str | None = None, source: str = "qms") -> Event:
    return Event(
        type="HoldPlaced",
        source=source,
        keys=BusinessKeys(lot_ids=(lot,)),
        payload={"hold_id": f"H-{n}", "lot_id": lot, "reason_code": "QA", "placed_by": "test"},
        occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
        source_event_id=source_event_id,
        correlation_id=f"corr-{n}",
        plant="P1",
    )


async def take(events: AsyncIterator[Event], n: int, deadline: float = DEADLINE) -> list[Event]:
    async def collect() -> list[Event]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(collect(), deadline)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"these tests need Redis at {REDIS_URL} (install and start redis-server): {exc}")
    return REDIS_URL


@pytest.fixture
async def stream(redis_url: str) -> AsyncIterator[str]:
    """A stream key of this test only; deleted afterwards with its dedupe keys."""
    name = f"lotgraph-test:{uuid.uuid4().hex}"
    yield name
    client = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=f"{{{name}}}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class RedisServer:
    """A private redis-server with an append-only file, to stop and start again on the same port and data."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("this test starts its own Redis: install redis-server (e.g. apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.port = launch.free_port()
        self.process: Launched | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

    def start(self) -> None:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
        ]  # fmt: skip
        self.process = launch.launch(command, log=self.directory / "redis.log", ready=self._answers, deadline=DEADLINE)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(deadline=DEADLINE)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plant_data(own_plant: tuple[Path, dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """A plant of this test's own (a copy of the session's generated one): the tests change plant data (holds)."""
    return own_plant
