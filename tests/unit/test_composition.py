"""The composition root opens every part in the lifespan and closes every part, even when one fails to open."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import SOURCES, Settings, load_settings

SECRET = "composition-tests-0123456789abcdef"


class ClosedTransport(httpx.AsyncBaseTransport):
    """The network of one source: it counts how often it was closed (it never sends)."""

    def __init__(self) -> None:
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network in this test", request=request)

    async def aclose(self) -> None:
        self.closed += 1


def settings_in(data_dir: Path) -> Settings:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"http://plant.test/{name}" for name in SOURCES}
    return load_settings({**env, "LOTGRAPH_AUTH_HS256_SECRET": SECRET, "LOTGRAPH_DATA_DIR": str(data_dir)})


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def lotgraph_tasks() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks() if task.get_name().startswith("lotgraph-")}


async def test_when_the_store_fails_to_open_the_bus_and_the_sources_are_closed(tmp_path: Path) -> None:
    data_dir = tmp_path / "gateway"
    (data_dir / "store.db").mkdir(parents=True)  # the SQLite store cannot open a directory
    transports = {name: ClosedTransport() for name in SOURCES}
    app = create_app(settings_in(data_dir), transports=transports)
    before = open_files()
    with pytest.raises(Exception, match="store"):
        async with app.router.lifespan_context(app):
            pytest.fail("the lifespan must not start without its store")
    assert (data_dir / "events.db").exists()  # the bus was opened before the store failed ...
    assert open_files() == before  # ... and closed again, with the dead letters
    assert all(transport.closed == 1 for transport in transports.values())  # every source closed once
    assert lotgraph_tasks() == set()  # the cache invalidation follower stopped


async def test_a_stopped_gateway_has_closed_everything_it_opened(tmp_path: Path) -> None:
    transports = {name: ClosedTransport() for name in SOURCES}
    app = create_app(settings_in(tmp_path / "gateway"), transports=transports)
    before = open_files()
    async with app.router.lifespan_context(app):
        assert app.services.pending_actions is not None
        assert "lotgraph-pending-actions" in lotgraph_tasks()
    assert open_files() == before
    assert all(transport.closed == 1 for transport in transports.values())
    assert lotgraph_tasks() == set()
    with pytest.raises(RuntimeError, match="not running"):
        _ = app.services
