"""Recovery: finishing a hold command whose process died between its steps (issue: a crash at any step leaves a
record). A RUNNING saga record whose lease ran out is taken over by whoever claims its idempotency key first —
the retry worker of any replica, or the client repeating the request — atomically, so only one does. What is left
becomes pending actions, due at once (``saga.remaining``), in the same write that marks the record RECOVERED; the
retry worker then carries them out, and escalates them to FAILED (visible, evented) when they cannot be done.
"""

from __future__ import annotations

import logging
from typing import Any

from resolvers.holds import events as hold_events
from resolvers.holds.model import ActionStatus, PendingAction, action_of_row, action_to_row, utc_now
from resolvers.holds.outcomes import PlaceHoldOutcome, ReleaseHoldOutcome, StockRelease, encode
from resolvers.holds.policy import HoldPolicy
from resolvers.holds.problems import pending_notice
from resolvers.holds.saga import (
    PLACE,
    Saga,
    SagaStatus,
    SagaStep,
    action_ids,
    ended,
    remaining,
    saga_of_row,
    saga_to_row,
)
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.correlation import set_correlation_id
from sources.errors import SourceError
from sources.ports import EventBus
from sources.store import RUNNING, ClaimLost, ClaimState, Fence, Store

log = logging.getLogger("lotgraph.holds")


async def resumable(store: Store, saga_id: str) -> Saga | None:
    """The saga record of this id if its command has not finished."""
    row = await store.saga(saga_id)
    return saga_of_row(row) if row is not None and row.status == RUNNING else None


async def taken_over(store: Store, saga_id: str) -> Saga | None:
    """The saga record of this id if its command died and was finished by recovery, or has not finished yet."""
    row = await store.saga(saga_id)
    return saga_of_row(row) if row is not None and row.status in (RUNNING, SagaStatus.RECOVERED.value) else None


async def recover(
    store: Store, bus: EventBus | None, sources: Sources, policy: HoldPolicy, saga: Saga, fence: Fence
) -> PlaceHoldOutcome | ReleaseHoldOutcome:
    """Record what is left of ``saga`` as pending actions due now, announce them; the command's answer. The caller
    holds the saga's idempotency claim (``fence``): if it was taken over meanwhile, nothing is recorded
    (``ClaimLost``)."""
    now = utc_now()
    actions = remaining(saga, max_attempts=policy.max_attempts, now=now)
    done = saga_to_row(ended(saga, SagaStatus.RECOVERED, now=now), lease_until=0)
    await store.save_saga(done, [action_to_row(a) for a in actions], lease_seconds=0, fence=fence)
    announced = [hold_events.pending_action_changed(a, plant=a.plant) for a in actions]
    await hold_events.publish(bus, store, await _holds_announced(sources, saga) + announced, ids=sources.ids)
    left = [action_of_row(row) for row in await store.action_rows(action_ids(saga))]
    log.warning(
        "%s recovered after its process died: %d step(s) left as pending actions",
        saga.operation,
        len(actions),
        extra={"correlation_id": saga.correlation_id, "saga_id": saga.id},
    )
    return recovered_outcome(saga, left)


async def _holds_announced(sources: Sources, saga: Saga) -> list[Event]:
    """HoldPlaced (HoldReleased) again for the holds of a recorded QMS step: the dead run may not have published
    them. The bus keeps an event id once, so those it did publish are not repeated. Read from the QMS; when it
    cannot answer, the holds stay in the QMS and its own events."""
    if saga.step is not SagaStep.QMS_DONE:
        return []  # the actions left announce what they do
    plants = {lot.hold_id: lot.plant for lot in saga.lots}
    try:
        holds = await sources.qms.holds([lot.hold_id for lot in saga.lots if lot.hold_id])
    except SourceError:
        log.warning("holds of a recovered command not announced again: the QMS did not answer",
                    extra={"correlation_id": saga.correlation_id, "saga_id": saga.id})  # fmt: skip
        return []
    if saga.operation == PLACE:
        return [hold_events.hold_placed(h, plant=plants.get(h.id), operation_key=saga.idempotency_key)
                for h in holds.values() if h.correlation_id == saga.correlation_id]  # fmt: skip
    return [hold_events.hold_released(h, plant=plants.get(h.id), correlation_id=saga.correlation_id,
                                      operation_key=saga.idempotency_key) for h in holds.values()]  # fmt: skip


def recovered_outcome(saga: Saga, actions: list[PendingAction]) -> PlaceHoldOutcome | ReleaseHoldOutcome:
    """The answer of a recovered command: what its saga record says was done, and the actions still open."""
    open_ = tuple(a for a in actions if a.status is not ActionStatus.DONE)
    open_lots = {a.lot_id for a in open_}
    complete = saga.step is SagaStep.QMS_DONE and not open_
    common: dict[str, Any] = {
        "requested_by": saga.requested_by,
        "correlation_id": saga.correlation_id,
        "requested_at": saga.created_at,
        "pending_actions": open_,
        "warnings": tuple(pending_notice(a) for a in open_),
        "complete": complete,
    }
    if saga.operation == PLACE:
        blocked = (
            ()
            if saga.step is SagaStep.PLANNED
            else tuple(lot.lot_id for lot in saga.lots if lot.lot_id not in open_lots)
        )
        lot_ids = tuple(lot.lot_id for lot in saga.lots)
        return PlaceHoldOutcome(**common, lot_ids=lot_ids, propagated_lot_ids=saga.propagated, blocked_lot_ids=blocked)
    return ReleaseHoldOutcome(**common, stock=StockRelease.PENDING if open_ else None)


async def recover_due(store: Store, bus: EventBus | None, sources: Sources, policy: HoldPolicy, *, limit: int) -> int:
    """Recover the saga records whose process died (their lease ran out); how many this caller took over."""
    taken = 0
    for row in await store.due_sagas(limit):
        saga = saga_of_row(row)
        claim = await store.claim(saga.idempotency_key, saga.fingerprint, lease_seconds=policy.lease_seconds)
        if claim.state is ClaimState.DONE:
            # The answer was stored. Whoever stored it wrote the record's end first (recovery) or died before
            # writing it: read the record again, after the claim, so a stale read never overwrites RECOVERED.
            if await resumable(store, saga.id) is not None:
                await store.save_saga(saga_to_row(ended(saga, SagaStatus.DONE, now=utc_now()), lease_until=0))
            continue
        if claim.state is not ClaimState.CLAIMED:
            continue  # another replica, or the client's repeat, is on it
        set_correlation_id(saga.correlation_id)
        try:
            outcome = await recover(
                store, bus, sources, policy, saga, Fence(saga.idempotency_key, claim.token, policy.lease_seconds)
            )
        except ClaimLost:
            continue  # slower than its lease: the client's repeat or another replica took it over
        await store.finish(saga.idempotency_key, claim.token, encode(outcome))
        taken += 1
    return taken
