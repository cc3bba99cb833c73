"""Pending actions: the later steps of a hold command (block or unblock a lot's stock in the WMS), carried out at
once by the command and, when that fails, again in the background until done or escalated (DESIGN.md rule 2).

- ``apply`` does one action against the sources. Blocking sends the WMS the action's own idempotency key, so a
  repeat is applied once. Unblocking first asks the QMS whether the lot may be free again (no other active hold,
  disposition RELEASED): otherwise the stock stays blocked. After an unblock it looks again, and blocks again if
  a hold arrived meanwhile. A retried block whose hold is no longer active is not needed; when the QMS cannot say,
  it blocks (fail closed).
- ``attempt`` classifies the result: done; a refusal by the system of record (given up at once: repeating cannot
  help); anything else (unavailable, garbled) tried again after a jittered backoff, then FAILED after
  ``max_attempts``.
- ``PendingActionWorker`` is the background loop, one per process, started and stopped by the composition root.
  Due actions are leased from the store, so replicas sharing Redis never work on one action at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from resolvers import hold_events
from resolvers.hold_outcomes import StockRelease
from resolvers.hold_policy import HoldPolicy
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.correlation import set_correlation_id
from sources.errors import NotFound, SourceError, SourceRejected
from sources.ports import EventBus
from sources.records import Disposition, HoldStatus, StockChange
from sources.store import ActionKind, ActionStatus, PendingAction, Store, attempted, utc_now

log = logging.getLogger("lotgraph.holds")

PURGE_EVERY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Applied:
    """What one successful action did."""

    outcome: str
    changes: tuple[tuple[StockChange, str], ...] = ()
    """Stock changes made, each with a suffix that makes its event id unique within the action."""
    stock: StockRelease | None = None
    disposition: Disposition | None = None
    active_hold_ids: tuple[str, ...] = ()


async def apply(sources: Sources, action: PendingAction, *, verify_hold: bool) -> Applied:
    if action.kind is ActionKind.BLOCK_STOCK:
        return await _block(sources, action, verify_hold=verify_hold)
    return await _unblock(sources, action)


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
    return Applied(f"stock blocked ({_where(change)})", ((change, ""),), stock=None)


async def _unblock(sources: Sources, action: PendingAction) -> Applied:
    lot_id = action.lot_id
    quality, active = await asyncio.gather(
        sources.qms.lots([lot_id]), sources.qms.holds_by_lot([lot_id], HoldStatus.ACTIVE)
    )
    record = quality.get(lot_id)
    disposition = record.disposition if record else None
    others = tuple(h.id for h in active.get(lot_id, []) if h.status is HoldStatus.ACTIVE)
    if others:
        return Applied(
            f"stock kept blocked: hold {', '.join(others)} still active",
            stock=StockRelease.KEPT_BLOCKED,
            disposition=disposition,
            active_hold_ids=others,
        )
    if disposition is not Disposition.RELEASED:
        shown = disposition.value if disposition else "unknown"
        return Applied(
            f"stock kept blocked: the QMS disposition of the lot is {shown}, not RELEASED",
            stock=StockRelease.KEPT_BLOCKED,
            disposition=disposition,
        )
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
    return Attempt(
        action, attempted(action, now=utc_now(), error=None, retry_in=None, outcome=applied.outcome), applied
    )


def postponed(
    action: PendingAction, policy: HoldPolicy, reason: str, rand: Callable[[], float] = random.random
) -> PendingAction:
    """An action not tried now (its system just failed another one): due again after the first backoff."""
    now = utc_now()
    delay = policy.retry_in(1, rand) or policy.retry_base_seconds
    return replace(
        action, updated_at=now, last_error=reason, next_attempt_at=datetime.fromtimestamp(now.timestamp() + delay, UTC)
    )


def events_of(result: Attempt, *, announce: bool) -> list[Event]:
    """The stock changes an attempt made, and, when ``announce``, the action's new state."""
    action = result.action
    events = [
        hold_events.stock_changed(change, action, plant=action.plant, step=step)
        for change, step in (result.applied.changes if result.applied else ())
    ]
    if announce:
        events.append(hold_events.pending_action_changed(action, plant=action.plant))
    return events


class PendingActionWorker:
    """Tries due pending actions again in the background until each is DONE or FAILED."""

    def __init__(
        self,
        store: Store,
        sources: Sources,
        policy: HoldPolicy,
        bus: EventBus | None = None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.sources = sources
        self.policy = policy
        self.bus = bus
        self.rand = rand
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_purge = 0.0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lotgraph-pending-actions")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for due actions now rather than at the next poll."""
        self._wake.set()

    async def run_due(self) -> int:
        """One round: lease the due actions, try each once, save the results. Returns how many were tried."""
        actions = await self.store.lease_due(limit=self.policy.concurrency * 4, lease_seconds=self.policy.lease_seconds)
        if not actions:
            return 0
        limit = asyncio.Semaphore(self.policy.concurrency)

        async def one(action: PendingAction) -> Attempt:
            async with limit:
                set_correlation_id(action.correlation_id)
                return await attempt(self.sources, action, self.policy, verify_hold=True, rand=self.rand)

        results = await asyncio.gather(*(one(a) for a in actions))
        await self.store.save_actions([r.action for r in results])
        for result in results:
            _log(result)
        announced = [e for r in results for e in events_of(r, announce=r.action.status is not ActionStatus.PENDING)]
        await hold_events.publish(self.bus, announced)
        return len(results)

    async def _run(self) -> None:
        while True:
            wait = self.policy.poll_seconds
            try:
                if await self.run_due():
                    continue
                due = await self.store.next_due()
                if due is not None:
                    wait = min(wait, max(due - time.time(), 0.01))
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = time.monotonic()
                    await self.store.purge()
            except Exception:
                log.exception("pending action round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


def _log(result: Attempt) -> None:
    action = result.action
    extra = {
        "action_id": action.id,
        "kind": action.kind.value,
        "lot_id": action.lot_id,
        "hold_id": action.hold_id,
        "attempts": action.attempts,
        "correlation_id": action.correlation_id,
    }
    if action.status is ActionStatus.DONE:
        log.info("pending action done: %s", action.outcome, extra=extra)
    elif action.status is ActionStatus.FAILED:
        log.error("pending action FAILED after %d attempts: %s", action.attempts, action.last_error, extra=extra)
    else:
        log.warning("pending action will be retried: %s", action.last_error, extra=extra)


def pending_of(results: Sequence[Attempt]) -> list[PendingAction]:
    """The actions of these attempts that are not done."""
    return [r.action for r in results if r.action.status is not ActionStatus.DONE]
