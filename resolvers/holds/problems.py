"""How a failure becomes a typed error or warning of a hold command's payload."""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.context import Context
from resolvers.holds.idempotency import Refusal
from resolvers.holds.model import ActionKind, ActionStatus, PendingAction
from resolvers.holds.outcomes import HoldErrorCode, HoldNotice, HoldProblem, HoldWarningCode
from resolvers.sites import outside_scope, site_of
from sources.errors import NotFound, SourceError, SourceProtocolError, SourceRejected


def out_of_scope(ctx: Context, ids: Sequence[str], what: str, *, holds: bool = False) -> tuple[HoldProblem, ...]:
    """FORBIDDEN for each lot (or hold) of a site the caller's token is not scoped to (docs/sites.md)."""
    scope = ", ".join(sorted(ctx.sites or ())) or "no site"
    return tuple(
        HoldProblem(
            HoldErrorCode.FORBIDDEN,
            f"{record_id} is of site {site_of(ctx, record_id)}, and your roles are scoped to {scope}: {what}",
            hold_id=record_id if holds else None,
            lot_id=None if holds else record_id,
        )
        for record_id in outside_scope(ctx, ids)
    )


def refused(refusal: Refusal) -> HoldProblem:
    if refusal is Refusal.IN_PROGRESS:
        return HoldProblem(
            HoldErrorCode.IN_PROGRESS,
            "a request with this idempotencyKey is still running: repeat it later to get its answer",
        )
    return HoldProblem(
        HoldErrorCode.IDEMPOTENCY_KEY_REUSED, "this idempotencyKey was already used with another request"
    )


def source_problem(
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


_STEP = {
    ActionKind.BLOCK_STOCK: "block the stock of",
    ActionKind.UNBLOCK_STOCK: "unblock the stock of",
    ActionKind.PLACE_HOLD: "hold and block",
    ActionKind.RELEASE_HOLD: "release the hold and unblock",
}


def pending_notice(action: PendingAction) -> HoldNotice:
    step = _STEP[action.kind]
    if action.status is ActionStatus.FAILED:
        return HoldNotice(
            HoldWarningCode.ACTION_FAILED,
            f"lotgraph could not {step} lot {action.lot_id} and will not try again: {action.last_error}",
            lot_id=action.lot_id,
            pending_action_id=action.id,
        )
    return HoldNotice(
        HoldWarningCode.PENDING_ACTION,
        f"lotgraph has yet to {step} lot {action.lot_id} ({action.last_error or 'recorded'}); it keeps trying",
        lot_id=action.lot_id,
        pending_action_id=action.id,
    )
