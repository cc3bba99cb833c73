"""What a person does about a pending action that is stuck or FAILED: retry it now, or close it with a reason.
Both are audited: the change is announced (PendingActionChanged, with who did it) and kept in the hold history."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.context import Context
from resolvers.holds import events as hold_events
from resolvers.holds.command import store_of
from resolvers.holds.model import NotOpen, PendingAction, action_of_row, action_to_row, closed, retried, utc_now
from resolvers.holds.requests import MAX_COMMENT, MAX_ID


@dataclass(frozen=True, slots=True)
class OperatorProblem:
    code: str
    """INVALID_INPUT, ACTION_NOT_FOUND or ACTION_NOT_OPEN."""
    message: str


async def _load(ctx: Context, action_id: str) -> PendingAction | OperatorProblem:
    action_id = action_id.strip()
    if not action_id or len(action_id) > MAX_ID:
        return OperatorProblem("INVALID_INPUT", f"id: must be non-empty and at most {MAX_ID} characters")
    rows = await store_of(ctx).action_rows([action_id])
    if not rows:
        return OperatorProblem("ACTION_NOT_FOUND", f"no pending action {action_id!r}")
    return action_of_row(rows[0])


async def retry_action(ctx: Context, action_id: str) -> PendingAction | OperatorProblem:
    """Due now, with the configured number of attempts again; the retry worker takes it up at once."""
    found = await _load(ctx, action_id)
    if isinstance(found, OperatorProblem):
        return found
    try:
        action = retried(found, now=utc_now(), extra_attempts=ctx.holds.max_attempts)
    except NotOpen as exc:
        return OperatorProblem("ACTION_NOT_OPEN", str(exc))
    return await _save(ctx, action, "retried")


async def close_action(ctx: Context, action_id: str, reason: str) -> PendingAction | OperatorProblem:
    """Never tried again; the reason is kept with the action and in the history."""
    if not reason.strip() or len(reason) > MAX_COMMENT:
        return OperatorProblem("INVALID_INPUT", f"reason: must be non-empty and at most {MAX_COMMENT} characters")
    found = await _load(ctx, action_id)
    if isinstance(found, OperatorProblem):
        return found
    try:
        action = closed(found, now=utc_now(), by=ctx.user, reason=reason.strip())
    except NotOpen as exc:
        return OperatorProblem("ACTION_NOT_OPEN", str(exc))
    return await _save(ctx, action, "closed")


async def _save(ctx: Context, action: PendingAction, change: str) -> PendingAction:
    store = store_of(ctx)
    await store.save_actions([action_to_row(action)])
    event = hold_events.pending_action_changed(action, plant=action.plant, change=change, by=ctx.user)
    await hold_events.publish(ctx.bus, store, [event], ids=ctx.sources.ids)
    return action
