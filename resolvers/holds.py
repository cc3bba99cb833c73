"""Holds and releases: the quality engineer's commands (DESIGN.md rules 2 and 3), and the hold queries.

placeHold, for every lot given (and, with propagation FORWARD, every lot made from them):

1. the QMS creates the hold — the system of record, so a failure here is an error for that lot and nothing else
   is done for it. A lot that already has an active hold for the same reason keeps it (LOT_ALREADY_ON_HOLD); a
   hold for another reason does not stop a new one (each is released on its own);
2. the WMS blocks the lot's stock (also of a lot found on hold, so that a hold always blocks). The block is
   recorded as a pending action before it is tried: one that fails stays in the durable store, is retried in the
   background and shows in the payload as a warning, in ``pendingActions`` and as an event;
3. events: HoldPlaced, StockStatusChanged, PendingActionChanged.

Input that cannot be held (unknown lots, more than the limit, a genealogy that cannot be walked fully) changes
nothing. ``complete`` is true only when every lot is on hold in the QMS and blocked in the WMS.

releaseHold releases the hold in the QMS (which decides the lot's disposition), then unblocks the stock only if no
other hold is active on the lot and its disposition is RELEASED; that step is a pending action too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from resolvers import hold_events
from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.hold_outcomes import (
    HoldErrorCode,
    HoldNotice,
    HoldProblem,
    HoldReason,
    HoldWarningCode,
    PlaceHoldOutcome,
    Propagation,
    ReleaseHoldOutcome,
    StockRelease,
    decode_place,
    decode_release,
    encode,
)
from resolvers.hold_scope import forward_closure
from resolvers.idempotency import Ran, Refusal, check_key, fingerprint, run_once, upstream_key
from resolvers.lots import lot_id_of, lot_name
from resolvers.paging import MAX_IDS, Slice, check_first, slice_search
from resolvers.pending_actions import Attempt, attempt, events_of, pending_of, postponed
from sources.errors import NotFound, SourceError, SourceProtocolError, SourceRejected
from sources.records import Hold, HoldStatus, Page
from sources.store import ActionKind, ActionStatus, PendingAction, Store, new_action_id, utc_now

MAX_COMMENT = 2000
MAX_ID = 200


@dataclass(frozen=True, slots=True)
class PlaceHoldRequest:
    lot_ids: Sequence[str]
    reason: HoldReason
    idempotency_key: str
    comment: str | None = None
    propagate: Propagation = Propagation.NONE


@dataclass(frozen=True, slots=True)
class ReleaseHoldRequest:
    hold_id: str
    idempotency_key: str
    comment: str | None = None


def store_of(ctx: Context) -> Store:
    if ctx.store is None:
        raise RuntimeError("holds need the durable store, and this context has none")
    return ctx.store


# -- placeHold ------------------------------------------------------------------------------------------------------


async def place_hold(ctx: Context, request: PlaceHoldRequest) -> PlaceHoldOutcome:
    base = PlaceHoldOutcome(requested_by=ctx.user, correlation_id=ctx.correlation_id, requested_at=utc_now())
    lot_ids, problems = _check_place(request)
    if problems:
        return replace(base, errors=problems)
    fields = {
        "lot_ids": sorted(lot_ids),
        "reason": request.reason.value,
        "comment": request.comment,
        "propagate": request.propagate.value,
    }
    result = await run_once(
        store_of(ctx),
        request.idempotency_key,
        fingerprint("placeHold", ctx.user, fields),
        lease_seconds=ctx.holds.lease_seconds,
        run=lambda: _place(ctx, request, lot_ids, base),
        encode=encode,
        decode=decode_place,
    )
    if isinstance(result, Refusal):
        return replace(base, errors=(_refused(result),))
    return result


def _check_place(request: PlaceHoldRequest) -> tuple[list[str], tuple[HoldProblem, ...]]:
    problems: list[str] = []
    lot_ids = list(dict.fromkeys(lot_name(lot_id) for lot_id in request.lot_ids))
    if not request.lot_ids:
        problems.append("lotIds: give at least one lot")
    elif len(lot_ids) > MAX_IDS:
        problems.append(f"lotIds: at most {MAX_IDS} lots per request, got {len(lot_ids)}")
    elif any(not lot_id or len(lot_id) > MAX_ID or "," in lot_id for lot_id in lot_ids):
        problems.append(f"lotIds: every lot id must be non-empty, without commas, at most {MAX_ID} characters")
    if request.comment is not None and len(request.comment) > MAX_COMMENT:
        problems.append(f"comment: at most {MAX_COMMENT} characters, got {len(request.comment)}")
    if (key_problem := check_key(request.idempotency_key)) is not None:
        problems.append(key_problem)
    return lot_ids, tuple(HoldProblem(HoldErrorCode.INVALID_INPUT, message) for message in problems)


async def _place(
    ctx: Context, request: PlaceHoldRequest, lot_ids: list[str], base: PlaceHoldOutcome
) -> Ran[PlaceHoldOutcome]:
    policy = ctx.holds

    def refuse(*problems: HoldProblem) -> Ran[PlaceHoldOutcome]:
        return Ran(replace(base, errors=problems), keep=False)

    scope = list(lot_ids)
    if request.propagate is Propagation.FORWARD:
        try:
            closure = await forward_closure(ctx, lot_ids, max_lots=policy.max_lots)
        except SourceError as exc:
            return refuse(_source_problem(exc, "the genealogy could not be read, so nothing was held"))
        if closure.incomplete is not None:
            return refuse(
                HoldProblem(
                    HoldErrorCode.PROPAGATION_INCOMPLETE, f"{closure.incomplete}: nothing was held", source="mes"
                )
            )
        scope = list(closure.lot_ids)
    if len(scope) > policy.max_lots:
        return refuse(HoldProblem(HoldErrorCode.TOO_MANY_LOTS, f"at most {policy.max_lots} lots per hold request"))
    propagated = scope[len(lot_ids) :]

    qms = ctx.sources.qms
    try:
        quality, active, plants = await asyncio.gather(
            qms.lots(scope), qms.holds_by_lot(scope, HoldStatus.ACTIVE), _plants(ctx, scope)
        )
    except SourceError as exc:
        return refuse(_source_problem(exc, "the QMS could not be read, so nothing was held"))
    unknown = [lot_id for lot_id in lot_ids if lot_id not in quality]
    if unknown:
        return refuse(
            *(
                HoldProblem(HoldErrorCode.LOT_NOT_FOUND, f"no lot {lot_id!r} in the QMS", lot_id=lot_id, source="qms")
                for lot_id in unknown
            )
        )

    errors: list[HoldProblem] = []
    held: dict[str, Hold] = {}  # lot -> the hold this request stands on (found or created)
    to_place: list[str] = []
    for lot_id in scope:
        if lot_id not in quality:
            errors.append(
                HoldProblem(
                    HoldErrorCode.LOT_NOT_FOUND,
                    f"lot {lot_id!r}, made from a held lot, is not in the QMS: it is not on hold",
                    lot_id=lot_id,
                    source="qms",
                )
            )
            continue
        same = [
            h for h in active.get(lot_id, []) if h.status is HoldStatus.ACTIVE and h.reason_code == request.reason.value
        ]
        if same:
            held[lot_id] = same[0]
            errors.append(
                HoldProblem(
                    HoldErrorCode.LOT_ALREADY_ON_HOLD,
                    f"lot {lot_id} is already on hold for {request.reason.value} (hold {same[0].id})",
                    lot_id=lot_id,
                    hold_id=same[0].id,
                    source="qms",
                )
            )
        else:
            to_place.append(lot_id)

    publisher = hold_events.Publisher(ctx.bus)
    try:
        outcome = await _hold_and_block(ctx, request, base, scope, to_place, held, plants, publisher)
    finally:
        not_recorded = await publisher.close()
    warnings = list(outcome.warnings)
    if not_recorded:
        warnings.append(
            HoldNotice(HoldWarningCode.EVENT_NOT_RECORDED, f"{len(not_recorded)} event(s) could not be recorded")
        )
    outcome = replace(
        outcome,
        propagated_lot_ids=tuple(propagated),
        errors=(*errors, *outcome.errors),
        warnings=tuple(warnings),
        complete=outcome.complete and all(e.code is HoldErrorCode.LOT_ALREADY_ON_HOLD for e in errors),
    )
    return Ran(outcome, keep=bool(outcome.holds or outcome.lot_ids))


async def _hold_and_block(
    ctx: Context,
    request: PlaceHoldRequest,
    base: PlaceHoldOutcome,
    scope: list[str],
    to_place: list[str],
    held: dict[str, Hold],
    plants: dict[str, str | None],
    publisher: hold_events.Publisher,
) -> PlaceHoldOutcome:
    """Steps 1 and 2 for the lots in ``scope``: holds for ``to_place`` (``held`` has the lots already on hold for
    the reason), then blocks for all; the events go to ``publisher`` as each step succeeds."""
    policy = ctx.holds
    created, errors = await _create_holds(ctx, request, to_place, plants, publisher)
    held.update({hold.lot_id: hold for hold in created})
    targets = [lot_id for lot_id in scope if lot_id in held]

    now = utc_now()
    actions = [
        PendingAction(
            id=new_action_id(),
            kind=ActionKind.BLOCK_STOCK,
            lot_id=lot_id,
            hold_id=held[lot_id].id,
            operation="placeHold",
            upstream_key=upstream_key(request.idempotency_key, "block", lot_id),
            reason=f"quality hold {held[lot_id].id} ({held[lot_id].reason_code})",
            requested_by=ctx.user,
            correlation_id=ctx.correlation_id,
            created_at=now,
            updated_at=now,
            max_attempts=policy.max_attempts,
            plant=plants.get(lot_id),
        )
        for lot_id in targets
    ]
    store = store_of(ctx)
    await store.put_actions(actions, lease_seconds=policy.lease_seconds)
    results = await _first_attempts(ctx, actions, publisher)
    pending = pending_of(results)
    await store.remove_actions([r.action.id for r in results if r.action.status is ActionStatus.DONE])
    await store.save_actions(pending)
    return replace(
        base,
        holds=tuple(created),
        lot_ids=tuple(targets),
        blocked_lot_ids=tuple(r.action.lot_id for r in results if r.action.status is ActionStatus.DONE),
        pending_actions=tuple(pending),
        errors=tuple(errors),
        warnings=tuple(_pending_notice(action) for action in pending),
        complete=not pending and not errors,
    )


async def _create_holds(
    ctx: Context,
    request: PlaceHoldRequest,
    lot_ids: list[str],
    plants: dict[str, str | None],
    publisher: hold_events.Publisher,
) -> tuple[list[Hold], list[HoldProblem]]:
    """One QMS hold per lot, ``concurrency`` at a time. Once the QMS fails to answer, the rest are not tried."""
    limit = asyncio.Semaphore(ctx.holds.concurrency)
    down: list[SourceError] = []

    async def one(lot_id: str) -> Hold | HoldProblem:
        async with limit:
            if down:
                return _source_problem(down[0], "not tried: the QMS failed on another lot", lot_id=lot_id)
            try:
                hold = await ctx.sources.qms.place_hold(
                    lot_id,
                    reason_code=request.reason.value,
                    comment=request.comment,
                    placed_by=ctx.user,
                    idempotency_key=upstream_key(request.idempotency_key, "hold", lot_id),
                )
            except SourceError as exc:
                if not isinstance(exc, SourceRejected | NotFound):
                    down.append(exc)
                return _source_problem(exc, "the hold was not placed", lot_id=lot_id)
            publisher.emit(
                [hold_events.hold_placed(hold, plant=plants.get(lot_id), operation_key=request.idempotency_key)]
            )
            return hold

    answers = await asyncio.gather(*(one(lot_id) for lot_id in lot_ids))
    return [a for a in answers if isinstance(a, Hold)], [a for a in answers if isinstance(a, HoldProblem)]


async def _first_attempts(
    ctx: Context, actions: list[PendingAction], publisher: hold_events.Publisher
) -> list[Attempt]:
    """Try each action once now, ``concurrency`` at a time. Once the WMS fails to answer, the rest are postponed
    rather than each waiting for its own timeout."""
    policy = ctx.holds
    limit = asyncio.Semaphore(policy.concurrency)
    down: list[str] = []

    async def one(action: PendingAction) -> Attempt:
        async with limit:
            if down:
                return Attempt(action, postponed(action, policy, f"not tried yet: {down[0]}"), None)
            result = await attempt(ctx.sources, action, policy, verify_hold=False)
            if result.action.status is ActionStatus.PENDING and result.action.last_error:
                down.append(result.action.last_error)
            publisher.emit(events_of(result, announce=result.action.status is not ActionStatus.DONE))
            return result

    return list(await asyncio.gather(*(one(action) for action in actions)))


async def _plants(ctx: Context, lot_ids: list[str]) -> dict[str, str | None]:
    """The plant of each lot (MES master data, usually cached), for event metadata; nothing when the MES is down."""
    try:
        masters = await ctx.sources.mes.lots(lot_ids)
    except SourceError:
        return {}
    return {lot_id: master.plant for lot_id, master in masters.items()}


# -- releaseHold ----------------------------------------------------------------------------------------------------


async def release_hold(ctx: Context, request: ReleaseHoldRequest) -> ReleaseHoldOutcome:
    base = ReleaseHoldOutcome(requested_by=ctx.user, correlation_id=ctx.correlation_id, requested_at=utc_now())
    hold_id = request.hold_id.strip()
    problems = []
    if not hold_id or len(hold_id) > MAX_ID:
        problems.append(f"holdId: must be non-empty and at most {MAX_ID} characters")
    if request.comment is not None and len(request.comment) > MAX_COMMENT:
        problems.append(f"comment: at most {MAX_COMMENT} characters, got {len(request.comment)}")
    if (key_problem := check_key(request.idempotency_key)) is not None:
        problems.append(key_problem)
    if problems:
        return replace(base, errors=tuple(HoldProblem(HoldErrorCode.INVALID_INPUT, m) for m in problems))
    result = await run_once(
        store_of(ctx),
        request.idempotency_key,
        fingerprint("releaseHold", ctx.user, {"hold_id": hold_id, "comment": request.comment}),
        lease_seconds=ctx.holds.lease_seconds,
        run=lambda: _release(ctx, request, hold_id, base),
        encode=encode,
        decode=decode_release,
    )
    if isinstance(result, Refusal):
        return replace(base, errors=(_refused(result),))
    return result


async def _release(
    ctx: Context, request: ReleaseHoldRequest, hold_id: str, base: ReleaseHoldOutcome
) -> Ran[ReleaseHoldOutcome]:
    policy = ctx.holds

    def refuse(problem: HoldProblem) -> Ran[ReleaseHoldOutcome]:
        return Ran(replace(base, errors=(problem,)), keep=False)

    try:
        hold = await ctx.sources.qms.release_hold(
            hold_id,
            released_by=ctx.user,
            comment=request.comment,
            idempotency_key=upstream_key(request.idempotency_key, "release", hold_id),
        )
    except NotFound:
        return refuse(HoldProblem(HoldErrorCode.HOLD_NOT_FOUND, f"no hold {hold_id!r} in the QMS", hold_id=hold_id))
    except SourceRejected as exc:
        if exc.upstream_code == "HOLD_NOT_ACTIVE":
            return refuse(HoldProblem(HoldErrorCode.HOLD_NOT_ACTIVE, exc.message, hold_id=hold_id, source="qms"))
        return refuse(_source_problem(exc, "the hold was not released", hold_id=hold_id))
    except SourceError as exc:
        return refuse(_source_problem(exc, "the hold was not released", hold_id=hold_id))

    plants = await _plants(ctx, [hold.lot_id])
    now = utc_now()
    action = PendingAction(
        id=new_action_id(),
        kind=ActionKind.UNBLOCK_STOCK,
        lot_id=hold.lot_id,
        hold_id=hold.id,
        operation="releaseHold",
        upstream_key=upstream_key(request.idempotency_key, "unblock", hold.lot_id),
        reason=f"quality hold {hold.id} released",
        requested_by=ctx.user,
        correlation_id=ctx.correlation_id,
        created_at=now,
        updated_at=now,
        max_attempts=policy.max_attempts,
        plant=plants.get(hold.lot_id),
    )
    store = store_of(ctx)
    await store.put_actions([action], lease_seconds=policy.lease_seconds)
    result = await attempt(ctx.sources, action, policy, verify_hold=False)
    done = result.action.status is ActionStatus.DONE
    if done:
        await store.remove_actions([action.id])
    else:
        await store.save_actions([result.action])

    events = [
        hold_events.hold_released(
            hold, plant=action.plant, correlation_id=ctx.correlation_id, operation_key=request.idempotency_key
        ),
        *events_of(result, announce=not done),
    ]
    not_recorded = await hold_events.publish(ctx.bus, events)

    applied = result.applied
    warnings = [] if done else [_pending_notice(result.action)]
    if applied is not None and applied.stock is StockRelease.KEPT_BLOCKED:
        warnings.append(HoldNotice(HoldWarningCode.STOCK_KEPT_BLOCKED, applied.outcome, lot_id=hold.lot_id))
    if not_recorded:
        warnings.append(
            HoldNotice(HoldWarningCode.EVENT_NOT_RECORDED, f"{len(not_recorded)} event(s) could not be recorded")
        )
    outcome = replace(
        base,
        hold=hold,
        disposition=applied.disposition if applied else None,
        stock=applied.stock if applied else StockRelease.PENDING,
        active_hold_ids=applied.active_hold_ids if applied else (),
        pending_actions=() if done else (result.action,),
        warnings=tuple(warnings),
        complete=done,
    )
    return Ran(outcome, keep=True)


# -- shared ---------------------------------------------------------------------------------------------------------


def _refused(refusal: Refusal) -> HoldProblem:
    if refusal is Refusal.IN_PROGRESS:
        return HoldProblem(
            HoldErrorCode.IN_PROGRESS,
            "a request with this idempotencyKey is still running: repeat it later to get its answer",
        )
    return HoldProblem(
        HoldErrorCode.IDEMPOTENCY_KEY_REUSED, "this idempotencyKey was already used with another request"
    )


def _source_problem(
    exc: SourceError, what: str, *, lot_id: str | None = None, hold_id: str | None = None
) -> HoldProblem:
    if isinstance(exc, SourceRejected):
        code = HoldErrorCode.LOT_NOT_FOUND if exc.upstream_code == "LOT_NOT_FOUND" else HoldErrorCode.SOURCE_REJECTED
    elif isinstance(exc, NotFound):
        code = HoldErrorCode.LOT_NOT_FOUND if lot_id else HoldErrorCode.HOLD_NOT_FOUND
    elif isinstance(exc, SourceProtocolError):
        code = HoldErrorCode.SOURCE_PROTOCOL_ERROR
    else:
        code = HoldErrorCode.SOURCE_UNAVAILABLE
    return HoldProblem(code, f"{exc.message}: {what}", lot_id=lot_id, hold_id=hold_id, source=exc.source)


def _pending_notice(action: PendingAction) -> HoldNotice:
    step = "block" if action.kind is ActionKind.BLOCK_STOCK else "unblock"
    if action.status is ActionStatus.FAILED:
        return HoldNotice(
            HoldWarningCode.ACTION_FAILED,
            f"the WMS did not {step} the stock of lot {action.lot_id} and will not be asked again: {action.last_error}",
            lot_id=action.lot_id,
            pending_action_id=action.id,
        )
    return HoldNotice(
        HoldWarningCode.PENDING_ACTION,
        f"the stock of lot {action.lot_id} is not {step}ed yet ({action.last_error}); lotgraph keeps trying",
        lot_id=action.lot_id,
        pending_action_id=action.id,
    )


# -- queries --------------------------------------------------------------------------------------------------------


async def hold(ctx: Context, hold_id: str) -> Hold | None:
    hold_id = hold_id.strip()
    if not hold_id or len(hold_id) > MAX_ID or "," in hold_id:
        raise InputError(f"id: not a hold id: {hold_id[:MAX_ID]!r}")
    return (await ctx.sources.qms.holds([hold_id])).get(hold_id)


async def holds(
    ctx: Context,
    *,
    status: HoldStatus | None,
    lot_id: str | None,
    reason_code: str | None,
    first: int,
    after: str | None,
) -> Slice[Hold]:
    for name, value in (("lotId", lot_id), ("reasonCode", reason_code)):
        if value is not None and (not value.strip() or len(value) > MAX_ID):
            raise InputError(f"{name}: must be non-empty and at most {MAX_ID} characters")
    lot_id = lot_id_of(lot_id) if lot_id is not None else None

    async def search(limit: int, after_id: str | None) -> Page[Hold]:
        return await ctx.sources.qms.search_holds(
            status=status, lot_id=lot_id, reason_code=reason_code, limit=limit, after=after_id
        )

    return await slice_search(first, after, search, lambda h: h.id)


async def pending_actions(ctx: Context, statuses: Sequence[ActionStatus] | None, first: int) -> list[PendingAction]:
    check_first(first)
    return await store_of(ctx).actions(None if not statuses else set(statuses), first)
