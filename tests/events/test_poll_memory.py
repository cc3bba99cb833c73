"""The pollers' memory (watermarks and what each poll saw) keeps values across reopening, in SQLite and in
PostgreSQL (where replicas share it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sources.changes import Memory, SqliteMemory
from sources.store.postgres import PostgresStore
from sources.store.postgres_state import PostgresMemory
from tests import postgres


@pytest.fixture(params=["sqlite", "postgres"])
async def memories(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Memory]]:
    """A factory of memories over the same data (a poller, then the same poller restarted)."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            yield lambda: SqliteMemory(tmp_path / "poll.db")
            return
        database = await stack.enter_async_context(postgres.database())
        stores: list[PostgresStore] = []

        def make() -> Memory:
            store = PostgresStore(database, ttl_seconds=3600, pool_size=2)
            stores.append(store)
            return PostgresMemory(store)

        yield make
        for store in stores:
            await store.aclose()


async def _open(memory: Memory) -> Memory:
    if isinstance(memory, PostgresMemory):
        await memory.store.open()
    return memory


async def test_values_are_kept_replaced_and_read_after_reopening(memories: Callable[[], Memory]) -> None:
    memory = await _open(memories())
    assert await memory.get("tryton:watermark") is None
    await memory.put_many({"tryton:watermark": "2026-01-01T00:00:00", "tryton:seen:SO-1": {"status": "OPEN"}})
    await memory.put_many({"tryton:watermark": "2026-01-02T00:00:00", "tryton:baseline": True})
    reopened = await _open(memories())
    assert await reopened.get("tryton:watermark") == "2026-01-02T00:00:00"
    assert await reopened.get("tryton:seen:SO-1") == {"status": "OPEN"}
    assert await reopened.get("tryton:baseline") is True
