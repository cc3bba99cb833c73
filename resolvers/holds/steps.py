"""Carrying out one pending action against the systems of record, and classifying the result.

- ``apply`` does one action. Blocking sends the WMS the action's own idempotency key, so a repeat is applied once.
  Unblocking first asks the QMS whether the lot may be free again (``plan_unblock``): otherwise the stock stays
  blocked; after an unblock it looks again, and blocks again if a hold arrived meanwhile. A retried block whose
  hold is no longer active is not needed; when the QMS cannot say, it blocks (fail closed). PLACE_HOLD and
  RELEASE_HOLD (left by recovery) first ask the QMS whether their step already happened — so a command is never
  sent twice — then do the WMS step.
- ``attempt`` classifies the result: done; a refusal by the system of record (given up at once: repeating cannot
  help); anything else (unavailable, garbled) tried again after a jittered backoff, then FAILED after
  ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from resolvers.holds import events as hold_events
from resolvers.holds.model import ActionKind, PendingAction, attempted, utc_now
from resolvers.holds.outcomes import StockRelease
from resolvers.holds.plan import hold_for, plan_unblock
from resolvers.holds.policy import HoldPolicy
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.errors import NotFound, SourceError, SourceRejected
from sources.records import Disposition, Hold, HoldStatus, StockChange


@dataclass(frozen=True, slots=True)
class Applied:
    """What one successful action did."""

    outcome: str
    changes: tuple[tuple[StockChange, str], ...] = ()
    """Stock changes made, each with a suffix that makes its event id unique within the action."""
    stock: StockRelease | None = None
    disposition: Disposition | None = None
    active_hold_ids: tuple[str, ...] = ()
    placed: Hold | None = None
    """PLACE_HOLD: the hold the lot stands on (announced when this command made it)."""
    released: Hold | None = None
    """RELEASE_HOLD: the hold as released."""
    hold_id: str | None = None
    """PLACE_HOLD: the hold the lot stands on, ours or found."""


async def apply(sources: Sources, action: PendingAction, *, verify_hold: bool) -> Applied:
    if action.kind is ActionKind.BLOCK_STOCK:
        return await _block(sources, action, verify_hold=verify_hold)
    if action.kind is ActionKind.UNBLOCK_STOCK:
        return await _unblock(sources, action)
    if action.kind is ActionKind.PLACE_HOLD:
        return await _place(sources, action)
    return await _release(sources, action)


async def _block(sources: Sources, action: PendingAction, *, verify_hold: bool) -> Applied:
    if verify_hold:
        try:
            hold = (await sources.qms.holds([action.hold_id])).get(action.hold_id)
        except SourceError:
            hold = None  # the QMS cannot say: block anyway
        if hold is not None and hold.status is not HoldStatus.ACTIVE:
            return Applied(f"not needed: hold {hold.id} is {hold.status.value}")
    change = await sources.wms.block_stock(
        action.lot_id, reason=action.reason, reference=action.hold_id, idempotency_key=action.upstream_key
    )
    return Applied(f"stock blocked ({_where(change)})", ((change, ""),))


async def _unblock(sources: Sources, action: PendingAction) -> Applied:
    lot_id = action.lot_id
    quality, active = await asyncio.gather(
        sources.qms.lots([lot_id]), sources.qms.holds_by_lot([lot_id], HoldStatus.ACTIVE)
    )
    record = quality.get(lot_id)
    disposition = record.disposition if record else None
    plan = plan_unblock(disposition, active.get(lot_id, []))
    if not plan.unblock:
        return Applied(plan.outcome, stock=StockRelease.KEPT_BLOCKED, disposition=disposition,
                       active_hold_ids=plan.active_hold_ids)  # fmt: skip
    change = await sources.wms.unblock_stock(lot_id, reference=action.hold_id, idempotency_key=action.upstream_key)
    arrived = (await sources.qms.holds_by_lot([lot_id], HoldStatus.ACTIVE)).get(lot_id, [])
    if arrived:  # a hold placed while we unblocked: its stock must stay blocked
        hold = arrived[0]
        again = await sources.wms.block_stock(
            lot_id,
            reason=f"quality hold {hold.id} ({hold.reason_code})",
            reference=hold.id,
            idempotency_key=f"{action.upstream_key}:reblock",
        )
        return Applied(
            f"stock kept blocked: hold {hold.id} was placed meanwhile",
            ((change, ""), (again, ":reblock")),
            stock=StockRelease.KEPT_BLOCKED,
            disposition=Disposition.ON_HOLD,
            active_hold_ids=tuple(h.id for h in arrived),
        )
    return Applied(
        f"stock unblocked ({_where(change)})", ((change, ""),), stock=StockRelease.UNBLOCKED, disposition=disposition
    )


async def _place(sources: Sources, action: PendingAction) -> Applied:
    reason = action.hold_reason or ""
    active = (await sources.qms.holds_by_lot([action.lot_id], HoldStatus.ACTIVE)).get(action.lot_id, [])
    hold = hold_for(reason, active)
    if hold is None:
        hold = await sources.qms.place_hold(
            action.lot_id,
            reason_code=reason,
            comment=action.comment,
            placed_by=action.requested_by,
            idempotency_key=action.upstream_key,
        )
    ours = hold.correlation_id == action.correlation_id
    block = replace(action, hold_id=hold.id, upstream_key=action.next_key or "", reason=f"quality hold {hold.id} "
                    f"({reason})")  # fmt: skip
    blocked = await _block(sources, block, verify_hold=False)
    return replace(
        blocked, outcome=f"hold {hold.id} in place, {blocked.outcome}", placed=hold if ours else None, hold_id=hold.id
    )


async def _release(sources: Sources, action: PendingAction) -> Applied:
    hold = (await sources.qms.holds([action.hold_id])).get(action.hold_id)
    if hold is None:
        raise NotFound("qms", f"no hold {action.hold_id!r} in the QMS")
    if hold.status is HoldStatus.ACTIVE:
        hold = await sources.qms.release_hold(
            hold.id, released_by=action.requested_by, comment=action.comment, idempotency_key=action.upstream_key
        )
    unblocked = await _unblock(sources, replace(action, upstream_key=action.next_key or ""))
    return replace(unblocked, outcome=f"hold {hold.id} {hold.status.value}, {unblocked.outcome}", released=hold)


def _where(change: StockChange) -> str:
    locations = len(change.stock)
    return "no stock on hand" if locations == 0 else f"{locations} location{'s' if locations > 1 else ''}"


@dataclass(frozen=True, slots=True)
class Attempt:
    before: PendingAction
    action: PendingAction
    """The action after the attempt: DONE, PENDING with its next attempt time, or FAILED."""
    applied: Applied | None


async def attempt(
    sources: Sources,
    action: PendingAction,
    policy: HoldPolicy,
    *,
    verify_hold: bool,
    rand: Callable[[], float] = random.random,
) -> Attempt:
    try:
        applied = await apply(sources, action, verify_hold=verify_hold)
    except (SourceRejected, NotFound) as exc:
        error = f"{exc.source.upper()} refused: {exc.message}"
        return Attempt(action, attempted(action, now=utc_now(), error=error, retry_in=None), None)
    except SourceError as exc:
        retry_in = policy.retry_in(action.attempts + 1, rand)
        return Attempt(action, attempted(action, now=utc_now(), error=exc.message, retry_in=retry_in), None)
    done = attempted(action, now=utc_now(), error=None, retry_in=None, outcome=applied.outcome)
    if applied.hold_id is not None:
        done = replace(done, hold_id=applied.hold_id)
    return Attempt(action, done, applied)


def expected_of(results: Sequence[Attempt]) -> dict[str, float]:
    """For ``Store.save_actions``: the time each action was last changed before its attempt, so a change a person
    made meanwhile (closed, retried) is not overwritten by the attempt's result."""
    return {r.before.id: r.before.updated_at.timestamp() for r in results}


def events_of(result: Attempt) -> list[Event]:
    """The holds and stock changes an attempt made (what the systems did; the action's own state is announced
    apart, once it is saved)."""
    action, applied = result.action, result.applied
    events = []
    if applied is not None and applied.placed is not None:
        events.append(hold_events.hold_placed(applied.placed, plant=action.plant, operation_key=action.upstream_key))
    if applied is not None and applied.released is not None:
        events.append(hold_events.hold_released(applied.released, plant=action.plant,
                                                correlation_id=action.correlation_id,
                                                operation_key=action.upstream_key))  # fmt: skip
    for change, step in applied.changes if applied else ():
        stock_action = replace(action, upstream_key=action.next_key) if action.next_key else action
        events.append(hold_events.stock_changed(change, stock_action, plant=action.plant, step=step))
    return events
