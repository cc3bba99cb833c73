"""The recovery worker: one background loop per process, started and stopped by the composition root. Each round
it takes over the saga records of commands whose process died (``recovery``), then tries the due pending actions
once each (``steps``), until each is DONE or escalated to FAILED. Due actions are leased from the store, and saga
records claimed through their idempotency key, so replicas sharing Redis never work on one at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from resolvers.holds import events as hold_events
from resolvers.holds.model import ActionStatus, PendingAction, action_of_row, action_to_row
from resolvers.holds.policy import HoldPolicy
from resolvers.holds.recovery import recover_due
from resolvers.holds.steps import Attempt, attempt, events_of, expected_of
from sources.bundle import Sources
from sources.correlation import set_correlation_id
from sources.ports import EventBus
from sources.store import Store, StoreUnavailable

log = logging.getLogger("lotgraph.holds")

PURGE_EVERY_SECONDS = 600.0
STOP_GRACE_SECONDS = 10.0
"""How long ``stop`` lets the round in flight finish before cancelling it (its actions then stay leased)."""


class PendingActionWorker:
    """Recovers dead commands and tries due pending actions again in the background."""

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
        self._stopping = False
        self._last_purge = 0.0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lotgraph-pending-actions")

    async def stop(self) -> None:
        """Stop once the round in flight is over: the actions it leased are saved with their next attempt, so a
        restarted or another gateway tries them then, not only once the lease has run out."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for due actions now rather than at the next poll."""
        self._wake.set()

    async def recover(self) -> int:
        """Take over the saga records of dead commands; how many."""
        return await recover_due(self.store, self.bus, self.sources, self.policy, limit=self.policy.concurrency * 4)

    async def run_due(self) -> int:
        """One round: lease the due actions, try each once, save the results. Returns how many were tried."""
        rows = await self.store.lease_due(limit=self.policy.concurrency * 4, lease_seconds=self.policy.lease_seconds)
        if not rows:
            return 0
        limit = asyncio.Semaphore(self.policy.concurrency)

        async def one(action: PendingAction) -> Attempt:
            async with limit:
                set_correlation_id(action.correlation_id)
                return await attempt(self.sources, action, self.policy, verify_hold=True, rand=self.rand)

        results = await asyncio.gather(*(one(action_of_row(row)) for row in rows))
        # What the systems did is published before the actions' new states are saved, so no crash loses it (the
        # action runs again and repeats its events under the same ids, which the bus keeps once).
        done = [e for r in results for e in events_of(r)]
        await hold_events.publish(self.bus, self.store, done, ids=self.sources.ids)
        rows = [action_to_row(r.action) for r in results]
        saved = set(await self.store.save_actions(rows, expected=expected_of(results)))
        for result in results:
            _log(result, saved=result.action.id in saved)
        announced = [
            hold_events.pending_action_changed(r.action, plant=r.action.plant)
            for r in results
            if r.action.status is not ActionStatus.PENDING and r.action.id in saved
        ]
        await hold_events.publish(self.bus, self.store, announced, ids=self.sources.ids)
        return len(results)

    async def _run(self) -> None:
        while not self._stopping:
            wait = self.policy.poll_seconds
            try:
                recovered = await self.recover()
                if await self.run_due() or recovered:
                    continue
                due = await self.store.next_due()
                if due is not None:
                    wait = min(wait, max(due - time.time(), 0.01))
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = time.monotonic()
                    await self.store.purge()
            except StoreUnavailable:  # down or restarting: said once per poll, without a trace; tried again
                log.warning("pending action round failed: the durable store is unavailable")
            except Exception:
                log.exception("pending action round failed")
            if self._stopping:  # asked during the round: no wait (nothing between here and clear() can ask)
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


def _log(result: Attempt, *, saved: bool) -> None:
    action = result.action
    extra = {
        "action_id": action.id,
        "kind": action.kind.value,
        "lot_id": action.lot_id,
        "hold_id": action.hold_id,
        "attempts": action.attempts,
        "correlation_id": action.correlation_id,
    }
    if not saved:
        log.warning("pending action changed by a person while it was tried: its attempt is not kept", extra=extra)
    elif action.status is ActionStatus.DONE:
        log.info("pending action done: %s", action.outcome, extra=extra)
    elif action.status is ActionStatus.FAILED:
        log.error("pending action FAILED after %d attempts: %s", action.attempts, action.last_error, extra=extra)
    else:
        log.warning("pending action will be retried: %s", action.last_error, extra=extra)
