"""placeHold and releaseHold, the quality engineer's commands (DESIGN.md rules 2 and 3): the plan of
``resolvers.holds.plan`` carried out over the QMS, WMS, store and bus ports, with a saga record written before the
first upstream command.

placeHold, for every lot given (and, with propagation FORWARD, every lot made from them):

1. the plan: which lots get a QMS hold, which already have one for the reason (LOT_ALREADY_ON_HOLD, kept and
   blocked anyway), which cannot be held; a request that cannot be held as a whole changes nothing;
2. the saga record (the lots, the upstream keys of each step), then the QMS holds — the system of record, so a
   failure here is an error for that lot and nothing else is done for it;
3. the QMS step recorded with the WMS blocks as pending actions (one write), then each block tried once and its
   result recorded: one that fails stays in the store, is retried in the background and shows in the payload as a
   warning, in ``pendingActions`` and as an event;
4. events HoldPlaced, StockStatusChanged, PendingActionChanged (and the hold history) as each step succeeds.

``complete`` is true only when every lot is on hold in the QMS and blocked in the WMS. A process that dies between
the steps leaves a RUNNING saga record that ``resolvers.holds.recovery`` finishes. releaseHold is in
``resolvers.holds.release``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from resolvers.context import Context
from resolvers.holds import crashpoints
from resolvers.holds import events as hold_events
from resolvers.holds.command import Plants, Run, plants_of, run_command
from resolvers.holds.idempotency import Ran, upstream_key
from resolvers.holds.model import ActionStatus, PendingAction, action_to_row, postponed, utc_now
from resolvers.holds.outcomes import (
    HoldErrorCode,
    HoldNotice,
    HoldProblem,
    HoldWarningCode,
    PlaceHoldOutcome,
    Propagation,
    decode_place,
)
from resolvers.holds.plan import PlacePlan, plan_place
from resolvers.holds.problems import out_of_scope, pending_notice, source_problem
from resolvers.holds.requests import PlaceHoldRequest, at_sites, check_place
from resolvers.holds.saga import PLACE, Saga, SagaLot, advanced, saga_id, wms_action
from resolvers.holds.scope import forward_closure
from resolvers.holds.steps import Attempt, attempt, events_of, expected_of
from sources.errors import NotFound, SourceError, SourceRejected
from sources.records import Hold, HoldStatus

__all__ = ["PlaceHoldRequest", "place_hold"]


# -- placeHold ------------------------------------------------------------------------------------------------------


async def place_hold(ctx: Context, request: PlaceHoldRequest) -> PlaceHoldOutcome:
    base = PlaceHoldOutcome(requested_by=ctx.user, correlation_id=ctx.correlation_id, requested_at=utc_now())
    lot_ids, problems = check_place(request)
    if not problems:
        lot_ids, unresolved = await at_sites(ctx, request, lot_ids)
        problems = (HoldProblem(HoldErrorCode.INVALID_INPUT, unresolved),) if unresolved else ()
    problems = problems or out_of_scope(ctx, lot_ids, "nothing was held")
    if problems:
        return replace(base, errors=problems)
    fields = {"lot_ids": sorted(lot_ids), "reason": request.reason.value, "comment": request.comment,
              "propagate": request.propagate.value}  # fmt: skip
    return await run_command(
        ctx, request.idempotency_key, PLACE, fields, base, lambda run: _place(run, request, lot_ids, base), decode_place
    )


async def _place(
    run: Run, request: PlaceHoldRequest, lot_ids: list[str], base: PlaceHoldOutcome
) -> Ran[PlaceHoldOutcome]:
    ctx = run.ctx
    plan, plants, problems = await _plan(ctx, request, lot_ids)
    if problems or plan is None:
        return Ran(replace(base, errors=problems), keep=False)
    lots = tuple(
        SagaLot(lot_id, upstream_key(run.key, "hold", lot_id), upstream_key(run.key, "block", lot_id),
                hold_id=plan.found[lot_id].id if lot_id in plan.found else None, plant=plants.get(lot_id))
        for lot_id in plan.targets
    )  # fmt: skip
    now = utc_now()
    saga = Saga(saga_id(run.key), PLACE, run.key, run.fingerprint, ctx.user, ctx.correlation_id, now, now, lots,
                reason_code=request.reason.value, comment=request.comment, propagated=plan.propagated)  # fmt: skip
    if lots:
        await run.write(saga)
        crashpoints.reached("place:planned")
    publisher = hold_events.Publisher(ctx.bus, run.store, ids=ctx.sources.ids)
    try:
        outcome = await _hold_and_block(run, saga, plan, base, publisher)
    finally:
        not_recorded = await publisher.close()
    warnings = list(outcome.warnings)
    if not_recorded:
        warnings.append(HoldNotice(HoldWarningCode.EVENT_NOT_RECORDED,
                                   f"{len(not_recorded)} event(s) could not be recorded"))  # fmt: skip
    errors = (*plan.errors, *outcome.errors)
    complete = outcome.complete and all(e.code is HoldErrorCode.LOT_ALREADY_ON_HOLD for e in plan.errors)
    outcome = replace(outcome, propagated_lot_ids=plan.propagated, errors=errors, warnings=tuple(warnings),
                      complete=complete)  # fmt: skip
    return Ran(outcome, keep=bool(outcome.holds or outcome.lot_ids))


async def _plan(
    ctx: Context, request: PlaceHoldRequest, lot_ids: list[str]
) -> tuple[PlacePlan | None, Plants, tuple[HoldProblem, ...]]:
    """The plan over the given lots and, with propagation, every lot made from them (with each lot's plant); or
    why nothing is held."""
    scope = list(lot_ids)
    if request.propagate is Propagation.FORWARD:
        try:
            closure = await forward_closure(ctx, lot_ids, max_lots=ctx.holds.max_lots)
        except SourceError as exc:
            return None, {}, (source_problem(exc, "the genealogy could not be read, so nothing was held"),)
        if closure.incomplete is not None:
            message = f"{closure.incomplete}: nothing was held"
            return None, {}, (HoldProblem(HoldErrorCode.PROPAGATION_INCOMPLETE, message, source="mes"),)
        scope = list(closure.lot_ids)
        if forbidden := out_of_scope(ctx, scope, "the hold propagates to it, so nothing was held"):
            return None, {}, forbidden
    if len(scope) > ctx.holds.max_lots:
        return None, {}, plan_place(lot_ids, scope, {}, {}, "", max_lots=ctx.holds.max_lots).refusals
    qms = ctx.sources.qms
    try:
        known, active, plants = await asyncio.gather(
            qms.lots(scope), qms.holds_by_lot(scope, HoldStatus.ACTIVE), plants_of(ctx, scope)
        )
    except SourceError as exc:
        return None, {}, (source_problem(exc, "the QMS could not be read, so nothing was held"),)
    plan = plan_place(lot_ids, scope, known, active, request.reason.value, max_lots=ctx.holds.max_lots)
    return plan, plants, plan.refusals


async def _hold_and_block(
    run: Run, saga: Saga, plan: PlacePlan, base: PlaceHoldOutcome, publisher: hold_events.Publisher
) -> PlaceHoldOutcome:
    """The QMS step for the lots to place, recorded with the WMS blocks of every lot on hold; then the blocks."""
    created, errors = await _create_holds(run, saga, plan.to_place, publisher)
    crashpoints.reached("place:qms-done")
    held = {lot_id: hold.id for lot_id, hold in plan.found.items()} | {h.lot_id: h.id for h in created}
    saga = advanced(saga, held, now=utc_now())
    actions = [wms_action(saga, lot, max_attempts=run.ctx.holds.max_attempts, now=utc_now()) for lot in saga.lots]
    if saga.lots:
        await run.write(saga, actions)
        crashpoints.reached("place:recorded")
    results = await _first_attempts(run, actions, publisher)
    crashpoints.reached("place:wms-done")
    pending = [r.action for r in results if r.action.status is not ActionStatus.DONE]
    return replace(
        base,
        holds=tuple(created),
        lot_ids=tuple(lot.lot_id for lot in saga.lots),
        blocked_lot_ids=tuple(r.action.lot_id for r in results if r.action.status is ActionStatus.DONE),
        pending_actions=tuple(pending),
        errors=tuple(errors),
        warnings=tuple(pending_notice(action) for action in pending),
        complete=not pending and not errors,
    )


async def _create_holds(
    run: Run, saga: Saga, lot_ids: tuple[str, ...], publisher: hold_events.Publisher
) -> tuple[list[Hold], list[HoldProblem]]:
    """One QMS hold per lot, ``concurrency`` at a time. Once the QMS fails to answer, the rest are not tried."""
    ctx = run.ctx
    lots = {lot.lot_id: lot for lot in saga.lots}
    limit = asyncio.Semaphore(ctx.holds.concurrency)
    down: list[SourceError] = []

    async def one(lot_id: str) -> Hold | HoldProblem:
        async with limit:
            if down:
                return source_problem(down[0], "not tried: the QMS failed on another lot", lot_id=lot_id)
            try:
                hold = await ctx.sources.qms.place_hold(
                    lot_id, reason_code=saga.reason_code or "", comment=saga.comment, placed_by=ctx.user,
                    idempotency_key=lots[lot_id].qms_key,
                )  # fmt: skip
            except SourceError as exc:
                if not isinstance(exc, SourceRejected | NotFound):
                    down.append(exc)
                return source_problem(exc, "the hold was not placed", lot_id=lot_id)
            crashpoints.reached("place:qms")
            publisher.emit([hold_events.hold_placed(hold, plant=lots[lot_id].plant, operation_key=run.key)])
            return hold

    answers = await asyncio.gather(*(one(lot_id) for lot_id in lot_ids))
    return [a for a in answers if isinstance(a, Hold)], [a for a in answers if isinstance(a, HoldProblem)]


async def _first_attempts(run: Run, actions: list[PendingAction], publisher: hold_events.Publisher) -> list[Attempt]:
    """Try each action once now, ``concurrency`` at a time. Each one done is recorded at once (a crash repeats no
    command recorded done); the others when all were tried, so the retry worker leaves them alone meanwhile. Once
    the WMS fails to answer, the rest are postponed rather than each waiting for its own timeout."""
    policy = run.ctx.holds
    limit = asyncio.Semaphore(policy.concurrency)
    down: list[str] = []

    async def one(action: PendingAction) -> Attempt:
        async with limit:
            if down:
                delay = policy.retry_in(1) or policy.retry_base_seconds
                later = postponed(action, now=utc_now(), delay=delay, reason=f"not tried yet: {down[0]}")
                result = Attempt(action, later, None)
            else:
                result = await attempt(run.ctx.sources, action, policy, verify_hold=False)
                if result.action.status is ActionStatus.PENDING and result.action.last_error:
                    down.append(result.action.last_error)
            # What the systems did is published before the action is recorded done, so no crash loses it (a run
            # that repeats the step repeats its events under the same ids, which the bus keeps once).
            await publisher.record(events_of(result))
            if result.action.status is ActionStatus.DONE:
                await run.store.remove_actions([action.id])
            else:
                publisher.emit([hold_events.pending_action_changed(result.action, plant=result.action.plant)])
            crashpoints.reached("place:wms")
            return result

    results = list(await asyncio.gather(*(one(action) for action in actions)))
    left = [r for r in results if r.action.status is not ActionStatus.DONE]
    await run.store.save_actions([action_to_row(r.action) for r in left], expected=expected_of(left))
    return results
