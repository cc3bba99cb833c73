"""Pending actions, as plain records: a step of a hold command that must still happen in a system of record (or
that happened after a retry, was given up on, or was closed by a person), its JSON codec and its transitions.

Transitions (all pure; ``now`` is given)::

    PENDING --attempted ok--> DONE
    PENDING --attempted, error, retry_in--> PENDING (due again after the backoff)
    PENDING --attempted, error, no retry left / refused--> FAILED
    PENDING | FAILED --retried by a person--> PENDING (due now, a fresh budget of attempts)
    PENDING | FAILED --closed by a person, with a reason--> CLOSED

Kinds: BLOCK_STOCK and UNBLOCK_STOCK (the WMS step of placeHold and releaseHold); PLACE_HOLD and RELEASE_HOLD
(the whole command for one lot, left by recovery when a process died before its QMS step was recorded).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from sources.store import ActionRow


class ActionKind(Enum):
    BLOCK_STOCK = "BLOCK_STOCK"
    UNBLOCK_STOCK = "UNBLOCK_STOCK"
    PLACE_HOLD = "PLACE_HOLD"
    RELEASE_HOLD = "RELEASE_HOLD"


class ActionStatus(Enum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"
    CLOSED = "CLOSED"


OPEN = frozenset({ActionStatus.PENDING, ActionStatus.FAILED})
"""The statuses a person may retry or close."""


@dataclass(frozen=True, slots=True)
class PendingAction:
    id: str
    kind: ActionKind
    lot_id: str
    hold_id: str
    """The hold it serves ("" for a PLACE_HOLD whose hold the QMS has not confirmed yet)."""
    operation: str
    """The command that made it: ``placeHold`` or ``releaseHold``."""
    upstream_key: str
    """The ``Idempotency-Key`` every attempt sends, so the system of record applies it once."""
    reason: str
    """What the WMS records with the block."""
    requested_by: str
    correlation_id: str
    created_at: datetime
    updated_at: datetime
    max_attempts: int
    status: ActionStatus = ActionStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    outcome: str | None = None
    """What the successful attempt did, in words (e.g. "stock blocked at 2 locations")."""
    plant: str | None = None
    """The lot's plant (MES), for the metadata of the events the action publishes."""
    next_key: str | None = None
    """PLACE_HOLD, RELEASE_HOLD: the key of the WMS step that follows the QMS step."""
    hold_reason: str | None = None
    """PLACE_HOLD: the reason code of the hold to place."""
    comment: str | None = None
    """PLACE_HOLD, RELEASE_HOLD: the requester's comment, for the QMS."""
    closed_by: str | None = None
    close_reason: str | None = None


def action_id(upstream_key: str) -> str:
    """The id of the action that sends ``upstream_key``: the same for every run of the same step."""
    return "PA-" + hashlib.sha256(upstream_key.encode()).hexdigest()[:20]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_action(
    kind: ActionKind,
    *,
    lot_id: str,
    hold_id: str,
    operation: str,
    upstream_key: str,
    reason: str,
    requested_by: str,
    correlation_id: str,
    max_attempts: int,
    now: datetime,
    plant: str | None = None,
    **extra: Any,
) -> PendingAction:
    """The one place a pending action is made: PENDING, not tried yet, its id derived from its upstream key."""
    return PendingAction(
        id=action_id(upstream_key),
        kind=kind,
        lot_id=lot_id,
        hold_id=hold_id,
        operation=operation,
        upstream_key=upstream_key,
        reason=reason,
        requested_by=requested_by,
        correlation_id=correlation_id,
        created_at=now,
        updated_at=now,
        max_attempts=max_attempts,
        plant=plant,
        **extra,
    )


# -- transitions ----------------------------------------------------------------------------------------------------


def attempted(
    action: PendingAction, *, now: datetime, error: str | None, retry_in: float | None, outcome: str | None = None
) -> PendingAction:
    """The action after one attempt: DONE when ``error`` is None; else PENDING again in ``retry_in`` seconds, or
    FAILED when ``retry_in`` is None (given up)."""
    attempts = action.attempts + 1
    if error is None:
        return replace(
            action, status=ActionStatus.DONE, attempts=attempts, updated_at=now, next_attempt_at=None, outcome=outcome
        )
    if retry_in is None:
        return replace(
            action,
            status=ActionStatus.FAILED,
            attempts=attempts,
            updated_at=now,
            next_attempt_at=None,
            last_error=error,
        )
    return replace(
        action, attempts=attempts, updated_at=now, last_error=error, next_attempt_at=now + timedelta(seconds=retry_in)
    )


def postponed(action: PendingAction, *, now: datetime, delay: float, reason: str) -> PendingAction:
    """An action not tried now (its system just failed another one): due again after ``delay``."""
    return replace(action, updated_at=now, last_error=reason, next_attempt_at=now + timedelta(seconds=delay))


class NotOpen(ValueError):
    """A person asked to retry or close an action that is DONE or CLOSED already."""


def retried(action: PendingAction, *, now: datetime, extra_attempts: int) -> PendingAction:
    """Due now, with ``extra_attempts`` more before it is escalated again."""
    if action.status not in OPEN:
        raise NotOpen(f"pending action {action.id} is {action.status.value}: only PENDING or FAILED ones are retried")
    return replace(
        action,
        status=ActionStatus.PENDING,
        updated_at=now,
        next_attempt_at=now,
        max_attempts=action.attempts + extra_attempts,
    )


def closed(action: PendingAction, *, now: datetime, by: str, reason: str) -> PendingAction:
    """Given up on by a person, who says why; never tried again."""
    if action.status not in OPEN:
        raise NotOpen(f"pending action {action.id} is {action.status.value}: only PENDING or FAILED ones are closed")
    return replace(
        action, status=ActionStatus.CLOSED, updated_at=now, next_attempt_at=None, closed_by=by, close_reason=reason
    )


def due_time(action: PendingAction) -> float:
    """When a worker should next take the action up (epoch seconds)."""
    return (action.next_attempt_at or action.updated_at).timestamp()


# -- codec ----------------------------------------------------------------------------------------------------------

_TIMES = ("created_at", "updated_at", "next_attempt_at")


def action_to_dict(action: PendingAction) -> dict[str, Any]:
    body: dict[str, Any] = {name: getattr(action, name) for name in PendingAction.__dataclass_fields__}
    body["kind"] = action.kind.value
    body["status"] = action.status.value
    for name in _TIMES:
        body[name] = body[name].isoformat() if body[name] is not None else None
    return body


def action_of_dict(d: dict[str, Any]) -> PendingAction:
    """Also reads actions written before the optional fields existed (they are left out there)."""
    fields: dict[str, Any] = {name: d[name] for name in PendingAction.__dataclass_fields__ if name in d}
    for name in _TIMES:
        fields[name] = datetime.fromisoformat(d[name]) if d.get(name) else None
    return PendingAction(
        **{**fields, "kind": ActionKind(d["kind"]), "status": ActionStatus(d["status"])},
    )


def action_to_row(action: PendingAction) -> ActionRow:
    return ActionRow(
        id=action.id,
        status=action.status.value,
        lot_id=action.lot_id,
        created_at=action.created_at.timestamp(),
        updated_at=action.updated_at.timestamp(),
        due_at=due_time(action),
        body=json.dumps(action_to_dict(action), separators=(",", ":")),
    )


def action_of_row(row: ActionRow) -> PendingAction:
    return action_of_dict(json.loads(row.body))
