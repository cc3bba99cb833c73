"""The durable store, SQLite, Redis and PostgreSQL alike: claims of idempotency keys and leases of pending actions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from resolvers.holds.model import (
    ActionKind,
    ActionStatus,
    PendingAction,
    action_of_row,
    action_to_row,
    attempted,
    closed,
    new_action,
    retried,
)
from sources.store import ActionQuery, ActionRow, ClaimState, HistoryRow, SagaRow, Store
from tests.holds.conftest import Clock, open_store


def _action(lot: str, created: float) -> PendingAction:
    return new_action(
        ActionKind.BLOCK_STOCK,
        lot_id=lot,
        hold_id="H-1",
        operation="placeHold",
        upstream_key=f"key-{lot}-{created}",
        reason="quality hold H-1",
        requested_by="qa",
        correlation_id="c-1",
        max_attempts=3,
        now=datetime.fromtimestamp(created, UTC),
    )


def rows(*actions: PendingAction) -> list[ActionRow]:
    return [action_to_row(a) for a in actions]


async def listed(store: Store, statuses: set[ActionStatus] | None, limit: int) -> list[PendingAction]:
    query = ActionQuery(statuses=None if statuses is None else {s.value for s in statuses}, limit=limit)
    return [action_of_row(row) for row in await store.actions(query)]


async def test_a_key_is_claimed_once_then_answers_its_result(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, _ = stores
    store = await open_store(make)
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
    store = await open_store(make)
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
    one, two = await open_store(make), await open_store(make)
    claims = await asyncio.gather(*((one, two)[n % 2].claim("storm", "fp", lease_seconds=60) for n in range(50)))
    assert sorted(c.state.value for c in claims) == ["CLAIMED"] + ["IN_PROGRESS"] * 49


async def test_pending_actions_are_leased_to_one_worker_at_a_time(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    mutation, worker_a, worker_b = await open_store(make), await open_store(make), await open_store(make)
    first, second = _action("L1", clock.now), _action("L2", clock.now + 1)
    await mutation.put_actions(rows(first, second), lease_seconds=60)
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []  # the mutation is trying them

    failed = attempted(first, now=datetime.fromtimestamp(clock.now, UTC), error="WMS down", retry_in=5)
    await mutation.save_actions(rows(failed))
    await mutation.remove_actions([second.id])
    assert await worker_a.next_due() == pytest.approx(clock.now + 5)
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []
    clock.now += 5
    leased = await asyncio.gather(*(w.lease_due(limit=10, lease_seconds=60) for w in (worker_a, worker_b)))
    assert sorted(len(found) for found in leased) == [0, 1]
    (taken_row,) = leased[0] or leased[1]
    taken = action_of_row(taken_row)
    assert taken == failed
    clock.now += 59
    assert await worker_a.lease_due(limit=10, lease_seconds=60) == []
    clock.now += 2  # the worker holding it died: it is due again
    assert [a.id for a in await worker_b.lease_due(limit=10, lease_seconds=60)] == [first.id]

    done = attempted(taken, now=datetime.fromtimestamp(clock.now, UTC), error=None, retry_in=None, outcome="ok")
    await worker_b.save_actions(rows(done))
    assert await worker_a.next_due() is None
    assert [(a.id, a.status, a.attempts) for a in await listed(worker_a, None, 10)] == [
        (first.id, ActionStatus.DONE, 2)
    ]
    assert await listed(worker_a, {ActionStatus.PENDING, ActionStatus.FAILED}, 10) == []


async def test_workers_polling_together_get_every_due_action_once(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    workers = [await open_store(make) for _ in range(3)]
    actions = [_action(f"L{n}", clock.now + n) for n in range(60)]
    await workers[0].put_actions(rows(*actions), lease_seconds=0)
    clock.now += 100
    rounds = [
        await asyncio.gather(*(w.lease_due(limit=7, lease_seconds=60) for w in workers for _ in range(2)))
        for _ in range(6)
    ]
    handed = [row.id for leased in rounds for found in leased for row in found]
    assert sorted(handed) == sorted(a.id for a in actions)  # each once: none twice, none left out


async def test_actions_are_listed_newest_first_and_by_status(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await open_store(make)
    actions = [_action(f"L{n}", clock.now + n) for n in range(5)]
    await store.put_actions(rows(*actions), lease_seconds=60)
    now = datetime.fromtimestamp(clock.now, UTC)
    await store.save_actions(rows(attempted(actions[1], now=now, error="no", retry_in=None)))
    assert [a.lot_id for a in await listed(store, None, 3)] == ["L4", "L3", "L2"]
    assert [a.lot_id for a in await listed(store, {ActionStatus.FAILED}, 10)] == ["L1"]
    assert len(await listed(store, {ActionStatus.PENDING}, 10)) == 4


async def test_actions_are_paged_and_filtered_by_lot_and_age(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await open_store(make)
    actions = [_action(f"L{n % 2}", clock.now + n) for n in range(7)]
    await store.put_actions(rows(*actions), lease_seconds=60)
    seen: list[str] = []
    after = None
    while True:
        page = await store.actions(ActionQuery(after=after, limit=3))
        seen += [row.lot_id + str(int(row.created_at - clock.now)) for row in page]
        if len(page) < 3:
            break
        after = (page[-1].created_at, page[-1].id)
    assert seen == ["L06", "L15", "L04", "L13", "L02", "L11", "L00"]
    by_lot = ActionQuery(lot_id="L1", limit=10)
    assert [row.lot_id for row in await store.actions(by_lot)] == ["L1"] * 3
    assert await store.count_actions(by_lot) == 3
    old = ActionQuery(created_before=clock.now + 2, limit=10)
    assert [row.created_at - clock.now for row in await store.actions(old)] == [1, 0]
    assert await store.count_actions(ActionQuery(statuses=("FAILED",))) == 0
    assert [row.id for row in await store.action_rows([actions[3].id, "nope", actions[1].id])] == [
        actions[3].id,
        actions[1].id,
    ]


async def test_an_action_recorded_again_is_left_as_it_is(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await open_store(make)
    first = _action("L1", clock.now)
    await store.put_actions(rows(first), lease_seconds=0)
    failed = attempted(first, now=datetime.fromtimestamp(clock.now, UTC), error="down", retry_in=None)
    await store.save_actions(rows(failed))
    await store.put_actions(rows(first), lease_seconds=0)  # recovery recording the same step again
    (row,) = await store.action_rows([first.id])
    assert action_of_row(row).status is ActionStatus.FAILED
    assert await store.lease_due(limit=10, lease_seconds=60) == []


def _saga(saga_id: str, status: str, lease_until: float) -> SagaRow:
    return SagaRow(saga_id, status, lease_until, lease_until, f'{{"id": "{saga_id}"}}')


async def test_saga_records_are_due_for_recovery_once_their_lease_ran_out(
    stores: tuple[Callable[[], Store], Clock],
) -> None:
    make, clock = stores
    one, two = await open_store(make), await open_store(make)
    running = _saga("SG-1", "RUNNING", clock.now + 30)
    block = _action("L1", clock.now)
    await one.save_saga(running, rows(block), lease_seconds=30)  # the intent and the actions of a step, together
    await one.save_saga(_saga("SG-2", "DONE", clock.now))
    assert await two.saga("SG-1") == running
    assert await two.due_sagas(10) == []
    assert await two.lease_due(limit=10, lease_seconds=60) == []  # the step's actions are leased to the writer
    clock.now += 31  # the writer died
    assert [s.id for s in await two.due_sagas(10)] == ["SG-1"]
    assert [a.id for a in await two.lease_due(limit=10, lease_seconds=60)] == [block.id]
    await two.save_saga(_saga("SG-1", "RECOVERED", clock.now))
    assert await one.due_sagas(10) == []
    assert (await one.saga("SG-1") or running).status == "RECOVERED"
    assert await one.saga("SG-404") is None


async def test_history_is_kept_per_lot_and_per_hold_in_order(stores: tuple[Callable[[], Store], Clock]) -> None:
    make, clock = stores
    store = await open_store(make)
    await store.append_history(
        [HistoryRow("1", "L1", "H1", clock.now, "a"), HistoryRow("2", "L2", "H2", clock.now, "b")]
    )
    await store.append_history(
        [HistoryRow("3", "L1", None, clock.now + 1, "c"), HistoryRow("4", "L1", "H1", clock.now, "d")]
    )
    await store.append_history([HistoryRow("1", "L1", "H1", clock.now, "a")])  # the same change announced again
    lot = await store.history(lot_id="L1", hold_id=None, after=None, limit=10)
    assert [e.body for e in lot] == ["a", "c", "d"]
    assert [e.seq for e in lot] == sorted(e.seq for e in lot)
    assert [e.body for e in await store.history(lot_id="L1", hold_id=None, after=lot[0].seq, limit=1)] == ["c"]
    assert [e.body for e in await store.history(lot_id=None, hold_id="H1", after=None, limit=10)] == ["a", "d"]
    assert await store.count_history(lot_id="L1", hold_id=None) == 3
    assert [e.key for e in lot] == ["1", "3", "4"]
    assert await store.count_history(lot_id=None, hold_id="H2") == 1


async def test_an_attempt_does_not_overwrite_what_a_person_changed_meanwhile(
    stores: tuple[Callable[[], Store], Clock],
) -> None:
    make, clock = stores
    worker, person = await open_store(make), await open_store(make)
    action = _action("L1", clock.now)
    await worker.put_actions(rows(action), lease_seconds=0)
    (leased,) = await worker.lease_due(limit=10, lease_seconds=60)
    later = datetime.fromtimestamp(clock.now + 1, UTC)
    await person.save_actions(rows(closed(action, now=later, by="boss", reason="done by hand")))
    failed = attempted(action, now=later, error="down", retry_in=5)
    assert await worker.save_actions(rows(failed), expected={action.id: leased.updated_at}) == []
    (kept,) = await worker.action_rows([action.id])
    assert action_of_row(kept).status is ActionStatus.CLOSED
    again = retried(action, now=later, extra_attempts=1)
    assert await worker.save_actions(rows(again), expected={action.id: kept.updated_at}) == [action.id]
