"""Recovery of a command whose process died, against the store alone (SQLite and Redis): two workers racing for the
same saga record take it over once, record what is left once, and store the command's answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.adapters import open_sources
from resolvers.holds.idempotency import upstream_key
from resolvers.holds.outcomes import decode_place
from resolvers.holds.policy import HoldPolicy
from resolvers.holds.recovery import recover, recover_due
from resolvers.holds.saga import PLACE, Saga, SagaLot, SagaStatus, saga_of_row, saga_to_row
from sources.bundle import Sources
from sources.store import ActionQuery, ClaimLost, ClaimState, Fence, Store
from tests.holds.conftest import Clock, gateway_settings, open_store

POLICY = HoldPolicy(lease_seconds=30, max_attempts=4)


@pytest.fixture
async def sources(tmp_path: Path) -> AsyncIterator[Sources]:
    """Real adapters; recovery of a record whose QMS step was not recorded calls none of them."""
    bundle = open_sources(gateway_settings(tmp_path / "gw"))
    yield bundle
    await bundle.aclose()


def _saga(now: float) -> Saga:
    at = datetime.fromtimestamp(now, UTC)
    lots = tuple(
        SagaLot(lot, upstream_key("key", "hold", lot), upstream_key("key", "block", lot)) for lot in ("L1", "L2", "L3")
    )
    return Saga("SG-key", PLACE, "key", "fp", "qa", "c-1", at, at, lots, reason_code="RECALL")


async def test_a_recovery_whose_claim_was_taken_over_records_nothing(
    stores: tuple[Callable[[], Store], Clock], sources: Sources
) -> None:
    make, clock = stores
    store = await open_store(make)
    await store.claim("key", "fp", lease_seconds=30)
    saga = _saga(clock.now)
    await store.save_saga(saga_to_row(saga, lease_until=clock.now + 30))
    clock.now += 31  # the process died
    slow = await store.claim("key", "fp", lease_seconds=30)  # a recovery takes it over, then stalls past its lease
    clock.now += 31
    fast = await store.claim("key", "fp", lease_seconds=30)  # and another takes it over from that one
    assert slow.state is fast.state is ClaimState.CLAIMED
    with pytest.raises(ClaimLost):
        await recover(store, None, sources, POLICY, saga, Fence("key", slow.token, POLICY.lease_seconds))
    assert await store.actions(ActionQuery(limit=10)) == []  # no actions recorded by the stalled recovery
    row = await store.saga(saga.id)
    assert row is not None
    assert saga_of_row(row).status is SagaStatus.RUNNING  # nor the record marked RECOVERED
    await recover(store, None, sources, POLICY, saga, Fence("key", fast.token, POLICY.lease_seconds))
    assert len(await store.actions(ActionQuery(limit=10))) == 3


async def test_two_workers_take_a_dead_command_over_once(
    stores: tuple[Callable[[], Store], Clock], sources: Sources
) -> None:
    make, clock = stores
    dead, one, two = await open_store(make), await open_store(make), await open_store(make)
    claim = await dead.claim("key", "fp", lease_seconds=30)
    assert claim.state is ClaimState.CLAIMED
    saga = _saga(clock.now)
    await dead.save_saga(saga_to_row(saga, lease_until=clock.now + 30))
    assert await recover_due(one, None, sources, POLICY, limit=10) == 0  # still running
    clock.now += 31  # the process died
    taken = await asyncio.gather(*(recover_due(w, None, sources, POLICY, limit=10) for w in (one, two, one, two)))
    assert sum(taken) == 1
    rows = await one.actions(ActionQuery(limit=10))
    assert sorted(row.lot_id for row in rows) == ["L1", "L2", "L3"]
    assert {row.status for row in rows} == {"PENDING"}
    assert await one.lease_due(limit=10, lease_seconds=30) != []  # due at once, for the retry worker
    recovered = await two.saga(saga.id)
    assert recovered is not None
    assert saga_of_row(recovered).status is SagaStatus.RECOVERED
    answer = await two.claim("key", "fp", lease_seconds=30)
    assert answer.state is ClaimState.DONE
    assert answer.result is not None
    outcome = decode_place(answer.result)
    assert (outcome.lot_ids, outcome.complete) == (("L1", "L2", "L3"), False)
    assert {a.kind.value for a in outcome.pending_actions} == {"PLACE_HOLD"}
    assert await dead.finish("key", claim.token, "late") is False  # the dead run cannot overwrite it
