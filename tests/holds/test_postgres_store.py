"""What only the PostgreSQL store has: numbered migrations (at start-up and by ``lotgraph migrate``), and refusing
cleanly while PostgreSQL is down, losing nothing."""

from __future__ import annotations

import asyncio
import subprocess

import asyncpg
import pytest

from bench import launch
from resolvers.holds.model import action_of_row
from sources.store import ClaimState, StoreUnavailable
from sources.store.postgres import PostgresStore
from sources.store.postgres_schema import LATEST, MIGRATIONS
from tests import postgres
from tests.holds.test_store import _action, rows


async def _versions(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [row[0] for row in await conn.fetch("SELECT version FROM schema_version ORDER BY version")]
    finally:
        await conn.close()


async def test_replicas_starting_together_apply_each_migration_once(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url, ttl_seconds=60, pool_size=1) for _ in range(3)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        assert await _versions(postgres_url) == [version for version, _, _ in MIGRATIONS]
        assert (await stores[0].claim("k", "fp", lease_seconds=5)).state is ClaimState.CLAIMED
    finally:
        for store in stores:
            await store.aclose()


async def test_lotgraph_migrate_brings_a_database_to_the_latest_version(postgres_url: str) -> None:
    def migrate() -> str:
        done = subprocess.run(
            [launch.LOTGRAPH, "migrate", "--url", postgres_url], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert f"schema version {LATEST} (applied 1, 2)" in await asyncio.to_thread(migrate)
    assert "(nothing to apply)" in await asyncio.to_thread(migrate)
    assert await _versions(postgres_url) == list(range(1, LATEST + 1))


async def test_an_outage_refuses_calls_and_loses_nothing() -> None:
    server = await asyncio.to_thread(postgres.OwnServer)
    try:
        await asyncio.to_thread(server.start)
        store = PostgresStore(server.url, ttl_seconds=3600, pool_size=2)
        await store.open()
        try:
            claimed = await store.claim("k", "fp", lease_seconds=600)
            action = _action("L1", 1.0)
            await store.put_actions(rows(action), lease_seconds=0)

            await asyncio.to_thread(server.stop)
            for call in (
                store.claim("k", "fp", lease_seconds=600),
                store.claim("new", "fp", lease_seconds=600),
                store.lease_due(limit=10, lease_seconds=60),
                store.finish("k", claimed.token, "{}"),
            ):
                with pytest.raises(StoreUnavailable):
                    await call

            await asyncio.to_thread(server.start)
            assert await _eventually_answers(store)
            assert (await store.claim("k", "fp", lease_seconds=600)).state is ClaimState.IN_PROGRESS
            assert await store.finish("k", claimed.token, "{}") is True
            assert (await store.claim("new", "fp", lease_seconds=600)).state is ClaimState.CLAIMED
            (leased,) = await store.lease_due(limit=10, lease_seconds=60)
            assert action_of_row(leased) == action
        finally:
            await store.aclose()
    finally:
        await asyncio.to_thread(server.remove)


async def _eventually_answers(store: PostgresStore, attempts: int = 50) -> bool:
    """A pool's connections cut by the restart fail once each, then are replaced."""
    for _ in range(attempts):
        try:
            await store.next_due()
            return True
        except StoreUnavailable:
            await asyncio.sleep(0.1)
    return False
