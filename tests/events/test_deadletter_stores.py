"""Every dead-letter store (SQLite, Redis, PostgreSQL) keeps letters byte for byte, once per delivery, in arrival
order."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from sources.deadletters import DeadLetterStatus, DeadLetterStore, RedisDeadLetters, SqliteDeadLetters
from sources.store.postgres import PostgresStore
from sources.store.postgres_state import PostgresDeadLetters
from tests import postgres


@pytest.fixture(params=["sqlite", "redis", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> AsyncIterator[DeadLetterStore]:
    prefix = f"lotgraph-test-{uuid.uuid4().hex}:"
    async with contextlib.AsyncExitStack() as stack:
        kept: DeadLetterStore
        if request.param == "postgres":
            database = await stack.enter_async_context(postgres.database())
            pool = PostgresStore(database, ttl_seconds=3600, pool_size=2)
            await pool.open()
            stack.push_async_callback(pool.aclose)
            kept = PostgresDeadLetters(pool)
        elif request.param == "sqlite":
            kept = SqliteDeadLetters(tmp_path / "deadletters.db")
        else:
            kept = RedisDeadLetters(redis_url, prefix=prefix)
        await kept.open()
        yield kept
        await kept.aclose()
    client = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_letters_are_kept_byte_for_byte_once_per_delivery(store: DeadLetterStore) -> None:
    body = b"\xff not utf-8 {"
    first = await store.add("qms", body, "body is not JSON", "delivery-1")
    again = await store.add("qms", b"other", "other reason", "delivery-1")
    other_source = await store.add("wms", body, "body is not JSON", "delivery-1")
    anonymous = [await store.add("qms", body, "no id", None) for _ in range(2)]
    assert again == first
    assert other_source.id != first.id
    assert anonymous[0].id != anonymous[1].id
    found = await store.get(first.id)
    assert found is not None
    assert found.body == body
    assert found.reason == "body is not JSON"
    listed = await store.list(status=None, source=None, first=10, after=None)
    assert [letter.id for letter in listed] == sorted([first.id, other_source.id, *(a.id for a in anonymous)])


async def test_listing_pages_and_filters_by_status_and_source(store: DeadLetterStore) -> None:
    letters = [await store.add("qms" if i % 2 else "erp", b"{}", f"reason {i}", f"d-{i}") for i in range(5)]
    replayed = dataclasses.replace(
        letters[1], status=DeadLetterStatus.REPLAYED, replayed_at=datetime.now(UTC), event_id="e1", cursor="7"
    )
    await store.save(replayed)
    assert await store.get(letters[1].id) == replayed
    pending = await store.list(status=DeadLetterStatus.PENDING, source=None, first=10, after=None)
    assert [letter.id for letter in pending] == [letters[i].id for i in (0, 2, 3, 4)]
    qms = await store.list(status=None, source="qms", first=10, after=None)
    assert [letter.id for letter in qms] == [letters[1].id, letters[3].id]
    page = await store.list(status=None, source=None, first=2, after=letters[1].id)
    assert [letter.id for letter in page] == [letters[2].id, letters[3].id]
    assert await store.get("DL-none") is None
