"""What every run of a hold command shares: its context, idempotency key and saga record (``Run``), its claim and
stored answer (``run_command``), the take-over of a run that died (``resume_or``), and the plants of lots for event
metadata."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar, cast

from resolvers.context import Context
from resolvers.holds.idempotency import Ran, Refusal, fingerprint, run_once
from resolvers.holds.model import PendingAction, action_of_row, action_to_row, utc_now
from resolvers.holds.outcomes import PlaceHoldOutcome, ReleaseHoldOutcome, encode
from resolvers.holds.problems import refused
from resolvers.holds.recovery import recover, recovered_outcome, taken_over
from resolvers.holds.saga import Saga, SagaStatus, action_ids, ended, saga_id, saga_to_row
from sources.errors import SourceError
from sources.store import Fence, Store


def store_of(ctx: Context) -> Store:
    if ctx.store is None:
        raise RuntimeError("holds need the durable store, and this context has none")
    return ctx.store


@dataclass(slots=True)
class Run:
    """One run of a command: its context, and the saga record as last written (None before it is)."""

    ctx: Context
    key: str
    fingerprint: str
    saga: Saga | None = None
    token: str = ""
    """The token of the run's idempotency claim: its writes are fenced by it (``ClaimLost`` once taken over)."""

    @property
    def store(self) -> Store:
        return store_of(self.ctx)

    async def write(self, saga: Saga, actions: Sequence[PendingAction] = ()) -> None:
        policy = self.ctx.holds
        lease_until = (utc_now() + timedelta(seconds=policy.lease_seconds)).timestamp()
        rows = [action_to_row(a) for a in actions]
        row = saga_to_row(saga, lease_until=lease_until)
        await self.store.save_saga(row, rows, lease_seconds=policy.lease_seconds, fence=self.fence)
        self.saga = saga

    @property
    def fence(self) -> Fence:
        return Fence(self.key, self.token, self.ctx.holds.lease_seconds)

    async def end(self) -> None:
        if self.saga is not None and self.saga.status is SagaStatus.RUNNING:
            await self.store.save_saga(saga_to_row(ended(self.saga, SagaStatus.DONE, now=utc_now()), lease_until=0))


OutcomeT = TypeVar("OutcomeT", PlaceHoldOutcome, ReleaseHoldOutcome)


async def resume_or(run: Run, token: str, first_run: Callable[[], Awaitable[Ran[OutcomeT]]]) -> Ran[OutcomeT]:
    """The run of the claim ``token``. A request whose first run died after writing its saga record finishes that
    record instead of planning again (the claim was taken over after its lease), or answers from it when recovery
    finished it but could not store the answer (its own lease ran out first). The answer is that earlier run's, so
    it is marked replayed."""
    run.token = token
    saga = await taken_over(run.store, saga_id(run.key))
    if saga is None:
        return await first_run()
    if saga.status is SagaStatus.RUNNING:
        outcome = await recover(run.store, run.ctx.bus, run.ctx.sources, run.ctx.holds, saga, run.fence)
    else:
        left = [action_of_row(row) for row in await run.store.action_rows(action_ids(saga))]
        outcome = recovered_outcome(saga, left)
    return Ran(cast(OutcomeT, replace(outcome, replayed=True)), keep=True)


async def run_command(
    ctx: Context,
    key: str,
    kind: str,
    fields: dict[str, Any],
    base: OutcomeT,
    first_run: Callable[[Run], Awaitable[Ran[OutcomeT]]],
    decode: Callable[[str], OutcomeT],
) -> OutcomeT:
    """A hold command of ``kind`` once per idempotency ``key``: claimed under the fingerprint of its caller and
    ``fields``, run (or resumed from the saga record of a run that died), its answer stored for repeats. A refused
    claim (the key used for another request, or a run still going) answers ``base`` with that refusal."""
    run = Run(ctx, key, fingerprint(kind, ctx.user, fields))
    result = await run_once(
        run.store, run.key, run.fingerprint, lease_seconds=ctx.holds.lease_seconds,
        run=lambda token: resume_or(run, token, lambda: first_run(run)), encode=encode, decode=decode, after=run.end,
    )  # fmt: skip
    if isinstance(result, Refusal):
        return replace(base, errors=(refused(result),))
    return result


Plants = dict[str, str | None]


async def plants_of(ctx: Context, lot_ids: list[str]) -> Plants:
    """The plant of each lot (MES master data, usually cached), for event metadata; nothing when the MES is down."""
    if not lot_ids:
        return {}
    try:
        masters = await ctx.sources.mes.lots(lot_ids)
    except SourceError:
        return {}
    return {lot_id: master.plant for lot_id, master in masters.items()}
