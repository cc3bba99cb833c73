"""The durable store, SQLite and Redis alike: claims of idempotency keys and leases of pending actions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sources.redis_store import RedisStore
from sources.store import (
    ActionKind,
    ActionStatus,
    ClaimState,
    PendingAction,
    SqliteStore,
    Store,
    attempted,
    new_action_id,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[Callable[[], Store], Clock]]:
    """A factory of stores over the same data (two replicas, or two connections), and their clock."""
    clock = Clock()
    opened: list[SqliteStore | RedisStore] = []

    def make() -> Store:
        store: SqliteStore | RedisStore
        if request.param == "sqlite":
            store = SqliteStore(tmp_path / "store.db", ttl_seconds=3600, clock=clock)
        else:
            store = RedisStore(redis_url, ttl_seconds=3600, prefix=redis_prefix, clock=clock)
        opened.append(store)
        return store

    yield make, clock
    for store in opened:
        await store.aclose()


async def _open(make: Callable[[], Store]) -> Store:
    store = make()
    await store.open()  # type: ignore[attr-defined]
    return store


def _action(lot: str, created: float) -> PendingAction:
    at = datetime.fromtimestamp(created, UTC)
    return PendingAction(
        id=new_action_id(),
        kind=ActionKind.BLOCK_STOCK,
        lot_id=lot,
        hold_id="H-1",
        operation="placeHold",
        upstream_key=f"key-{lot}",
        reason="quality hold H-1",
        requested_by="qa",
        correlation_id="c-1",
        created_at=at,
        updated_at=at,
        max_attempts=3,
    )


async def test_a_key_is_claimed_once_then_answers_its_result(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, _ = stores
    store = await _open(make)
    first = await store.claim("k", "fp", lease_seconds=60)
    assert first.state is ClaimState.CLAIMED
    assert (await store.claim("k", "fp", lease_seconds=60)).state is ClaimState.IN_PROGRESS
    assert (await store.claim("k", "other", lease_seconds=60)).state is ClaimState.REUSED
    assert await store.finish("k", "not-the-token", "{}") is False
    assert await store.finish("k", first.token, '{"answer": 1}') is True
    done = await store.claim("k", "fp", lease_seconds=60)
    assert (done.state, done.result) == (ClaimState.DONE, '{"answer": 1}')
    assert (await store.claim("k", "other", lease_seconds=60)).state is ClaimState.REUSED

    abandoned = await store.claim("k2", "fp", lease_seconds=60)
    await store.abandon("k2", abandoned.token)
    assert (await store.claim("k2", "another request", lease_seconds=60)).state is ClaimState.CLAIMED


async def test_a_claim_whose_lease_ran_out_is_taken_over(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await _open(make)
    crashed = await store.claim("k", "fp", lease_seconds=30)
    clock.now += 29
    assert (await store.claim("k", "fp", lease_seconds=30)).state is ClaimState.IN_PROGRESS
    clock.now += 2
    taken = await store.claim("k", "fp", lease_seconds=30)
    assert taken.state is ClaimState.CLAIMED
    assert await store.finish("k", crashed.token, "late") is False  # the crashed run cannot overwrite
    assert await store.finish("k", taken.token, "answer") is True
    assert (await store.claim("k", "fp", lease_seconds=30)).result == "answer"


async def test_concurrent_claims_from_two_connections_claim_once(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, _ = stores
    one, two = await _open(make), await _open(make)
    claims = await asyncio.gather(*((one, two)[n % 2].claim("storm", "fp", lease_seconds=60) for n in range(50)))
    assert sorted(c.state.value for c in claims) == ["CLAIMED"] + ["IN_PROGRESS"] * 49


async def test_pending_actions_are_leased_to_one_worker_at_a_time(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    mutation, worker_a, worker_b = await _open(make), await _open(make), await _open(make)
    first, second = _action("L1", clock.now), _action("L2", clock.now + 1)
    await mutation.put_actions([first, second], lease_seconds=60)
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []  # the mutation is trying them

    failed = attempted(first, now=datetime.fromtimestamp(clock.now, UTC), error="WMS down", retry_in=5)
    await mutation.save_actions([failed])
    await mutation.remove_actions([second.id])
    assert await worker_a.next_due() == pytest.approx(clock.now + 5)
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []
    clock.now += 5
    leased = await asyncio.gather(*(w.lease_due(limit=10, lease_seconds=60) for w in (worker_a, worker_b)))
    assert sorted(len(found) for found in leased) == [0, 1]
    (taken,) = leased[0] or leased[1]
    assert taken == failed
    clock.now += 59
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []
    clock.now += 2  # the worker holding it died: it is due again
    assert [a.id for a in await worker_b.lease_due(limit=10, lease_seconds=60)] == [first.id]

    done = attempted(taken, now=datetime.fromtimestamp(clock.now, UTC), error=None, retry_in=None, outcome="ok")
    await worker_b.save_actions([done])
    assert await worker_a.next_due() is None
    assert [(a.id, a.status, a.attempts) for a in await worker_a.actions(None, 10)] == [
        (first.id, ActionStatus.DONE, 2)
    ]
    assert await worker_a.actions({ActionStatus.PENDING, ActionStatus.FAILED}, 10) == []


async def test_actions_are_listed_newest_first_and_by_status(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await _open(make)
    actions = [_action(f"L{n}", clock.now + n) for n in range(5)]
    await store.put_actions(actions, lease_seconds=60)
    now = datetime.fromtimestamp(clock.now, UTC)
    await store.save_actions([attempted(actions[1], now=now, error="no", retry_in=None)])
    listed = await store.actions(None, 3)
    assert [a.lot_id for a in listed] == ["L4", "L3", "L2"]
    assert [a.lot_id for a in await store.actions({ActionStatus.FAILED}, 10)] == ["L1"]
    assert len(await store.actions({ActionStatus.PENDING}, 10)) == 4
