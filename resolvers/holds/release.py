"""releaseHold: the QMS releases the hold (and decides the lot's disposition), then the WMS unblocks the stock only
if no other hold is active on the lot and it is RELEASED; that step is a pending action too. A saga record is
written before the QMS command and advanced with the unblock action, as for placeHold (``resolvers.holds.service``).
"""

from __future__ import annotations

from dataclasses import replace

from resolvers.context import Context
from resolvers.holds import crashpoints
from resolvers.holds import events as hold_events
from resolvers.holds.command import Run, plants_of, run_command
from resolvers.holds.idempotency import Ran, upstream_key
from resolvers.holds.model import ActionStatus, PendingAction, action_to_row, utc_now
from resolvers.holds.outcomes import (
    HoldErrorCode,
    HoldNotice,
    HoldProblem,
    HoldWarningCode,
    ReleaseHoldOutcome,
    StockRelease,
    decode_release,
)
from resolvers.holds.problems import out_of_scope, pending_notice, source_problem
from resolvers.holds.requests import ReleaseHoldRequest, check_release
from resolvers.holds.saga import RELEASE, Saga, SagaLot, SagaStatus, advanced, ended, saga_id, wms_action
from resolvers.holds.steps import attempt, events_of, expected_of
from sources.errors import NotFound, SourceError, SourceRejected
from sources.records import Hold, HoldStatus

__all__ = ["ReleaseHoldRequest", "release_hold"]


# -- releaseHold ----------------------------------------------------------------------------------------------------


async def release_hold(ctx: Context, request: ReleaseHoldRequest) -> ReleaseHoldOutcome:
    base = ReleaseHoldOutcome(requested_by=ctx.user, correlation_id=ctx.correlation_id, requested_at=utc_now())
    hold_id, problems = check_release(request)
    problems = problems or out_of_scope(ctx, [hold_id], "it was not released", holds=True)
    if problems:
        return replace(base, errors=problems)
    fields = {"hold_id": hold_id, "comment": request.comment}
    return await run_command(
        ctx,
        request.idempotency_key,
        RELEASE,
        fields,
        base,
        lambda run: _release(run, request, hold_id, base),
        decode_release,
    )


async def _release(
    run: Run, request: ReleaseHoldRequest, hold_id: str, base: ReleaseHoldOutcome
) -> Ran[ReleaseHoldOutcome]:
    ctx = run.ctx
    before, problem = await _hold_to_release(ctx, hold_id)
    if problem is not None:
        return Ran(replace(base, errors=(problem,)), keep=False)
    assert before is not None
    plants = await plants_of(ctx, [before.lot_id])
    lot = SagaLot(
        before.lot_id,
        upstream_key(run.key, "release", hold_id),
        upstream_key(run.key, "unblock", before.lot_id),
        hold_id=hold_id,
        plant=plants.get(before.lot_id),
    )
    now = utc_now()
    saga = Saga(saga_id(run.key), RELEASE, run.key, run.fingerprint, ctx.user, ctx.correlation_id, now, now, (lot,),
                comment=request.comment)  # fmt: skip
    await run.write(saga)
    crashpoints.reached("release:planned")
    try:
        hold = await ctx.sources.qms.release_hold(
            hold_id, released_by=ctx.user, comment=request.comment, idempotency_key=lot.qms_key
        )
    except SourceError as exc:
        await run.write(ended(saga, SagaStatus.DONE, now=utc_now()))
        return Ran(replace(base, errors=(_release_problem(exc, hold_id),)), keep=False)
    crashpoints.reached("release:qms-done")
    saga = advanced(saga, {hold.lot_id: hold.id}, now=utc_now())
    action = wms_action(saga, saga.lots[0], max_attempts=ctx.holds.max_attempts, now=utc_now())
    await run.write(saga, [action])
    return Ran(await _unblock(run, base, hold, action), keep=True)


async def _hold_to_release(ctx: Context, hold_id: str) -> tuple[Hold | None, HoldProblem | None]:
    try:
        hold = (await ctx.sources.qms.holds([hold_id])).get(hold_id)
    except SourceError as exc:
        return None, _release_problem(exc, hold_id)
    if hold is None:
        return None, HoldProblem(HoldErrorCode.HOLD_NOT_FOUND, f"no hold {hold_id!r} in the QMS", hold_id=hold_id)
    if hold.status is not HoldStatus.ACTIVE:
        message = f"hold {hold_id} is {hold.status.value}, not ACTIVE"
        return None, HoldProblem(HoldErrorCode.HOLD_NOT_ACTIVE, message, hold_id=hold_id, source="qms")
    return hold, None


def _release_problem(exc: SourceError, hold_id: str) -> HoldProblem:
    if isinstance(exc, NotFound):
        return HoldProblem(HoldErrorCode.HOLD_NOT_FOUND, f"no hold {hold_id!r} in the QMS", hold_id=hold_id)
    if isinstance(exc, SourceRejected) and exc.upstream_code == "HOLD_NOT_ACTIVE":
        return HoldProblem(HoldErrorCode.HOLD_NOT_ACTIVE, exc.message, hold_id=hold_id, source="qms")
    return source_problem(exc, "the hold was not released", hold_id=hold_id)


async def _unblock(run: Run, base: ReleaseHoldOutcome, hold: Hold, action: PendingAction) -> ReleaseHoldOutcome:
    """The WMS step of a release, tried once now and recorded; the answer of the command."""
    ctx = run.ctx
    result = await attempt(ctx.sources, action, ctx.holds, verify_hold=False)
    done = result.action.status is ActionStatus.DONE
    # What the systems did is published before the step is recorded, so no crash loses it (a run that repeats the
    # step repeats its events under the same ids, which the bus keeps once).
    released = hold_events.hold_released(hold, plant=action.plant, correlation_id=ctx.correlation_id,
                                         operation_key=run.key)  # fmt: skip
    not_recorded = await hold_events.publish(ctx.bus, run.store, [released, *events_of(result)], ids=ctx.sources.ids)
    if done:
        await run.store.remove_actions([action.id])
    else:
        await run.store.save_actions([action_to_row(result.action)], expected=expected_of([result]))
        announced = [hold_events.pending_action_changed(result.action, plant=action.plant)]
        not_recorded += await hold_events.publish(ctx.bus, run.store, announced, ids=ctx.sources.ids)
    crashpoints.reached("release:wms-done")
    applied = result.applied
    warnings = [] if done else [pending_notice(result.action)]
    if applied is not None and applied.stock is StockRelease.KEPT_BLOCKED:
        warnings.append(HoldNotice(HoldWarningCode.STOCK_KEPT_BLOCKED, applied.outcome, lot_id=hold.lot_id))
    if not_recorded:
        warnings.append(HoldNotice(HoldWarningCode.EVENT_NOT_RECORDED,
                                   f"{len(not_recorded)} event(s) could not be recorded"))  # fmt: skip
    return replace(
        base,
        hold=hold,
        disposition=applied.disposition if applied else None,
        stock=applied.stock if applied else StockRelease.PENDING,
        active_hold_ids=applied.active_hold_ids if applied else (),
        pending_actions=() if done else (result.action,),
        warnings=tuple(warnings),
        complete=done,
    )
