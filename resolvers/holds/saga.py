"""The saga record of a hold command: its intent, written durably before the first upstream command (DESIGN.md
rule 2 — nothing silently lost, a crash included), and advanced per step.

A record holds the operation, the idempotency key (and fingerprint) of the request, its lots, the upstream keys of
each lot's QMS and WMS steps, and the step reached::

    PLANNED  -- the QMS step done for every lot, WMS steps recorded as pending actions (one write) -->  QMS_DONE
    PLANNED | QMS_DONE  -- the answer stored under the idempotency key -->  DONE
    PLANNED | QMS_DONE  -- its process died; recovery turned what is left into pending actions -->  RECOVERED

Recovery needs no upstream call: a PLANNED record becomes one PLACE_HOLD (or RELEASE_HOLD) action per lot whose
QMS step was not recorded — each first asks the QMS whether it happened, and sends it under the recorded key
only when it did not — and a BLOCK_STOCK action per lot found on hold; a QMS_DONE record has its actions already.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from resolvers.holds.model import ActionKind, PendingAction, action_id, new_action
from sources.store import RUNNING, SagaRow

PLACE = "placeHold"
RELEASE = "releaseHold"


class SagaStep(Enum):
    PLANNED = "PLANNED"
    QMS_DONE = "QMS_DONE"


class SagaStatus(Enum):
    RUNNING = RUNNING
    DONE = "DONE"
    RECOVERED = "RECOVERED"


@dataclass(frozen=True, slots=True)
class SagaLot:
    lot_id: str
    qms_key: str
    """The Idempotency-Key of the QMS command for this lot (place or release)."""
    wms_key: str
    """The Idempotency-Key of the WMS command for this lot (block or unblock)."""
    hold_id: str | None = None
    """placeHold: the hold the lot stands on, once the QMS confirmed it; releaseHold: the hold released."""
    plant: str | None = None


@dataclass(frozen=True, slots=True)
class Saga:
    id: str
    operation: str
    idempotency_key: str
    fingerprint: str
    requested_by: str
    correlation_id: str
    created_at: datetime
    updated_at: datetime
    lots: tuple[SagaLot, ...]
    reason_code: str | None = None
    comment: str | None = None
    propagated: tuple[str, ...] = ()
    step: SagaStep = SagaStep.PLANNED
    status: SagaStatus = SagaStatus.RUNNING


def saga_id(idempotency_key: str) -> str:
    """The id of the saga of a request: one per idempotency key, so a repeat finds the record of the first run."""
    return "SG-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def advanced(saga: Saga, hold_ids: dict[str, str], *, now: datetime) -> Saga:
    """The QMS step done: ``hold_ids`` (lot -> hold) for the lots that stand on a hold now; the others dropped."""
    lots = tuple(replace(lot, hold_id=hold_ids[lot.lot_id]) for lot in saga.lots if lot.lot_id in hold_ids)
    return replace(saga, lots=lots, step=SagaStep.QMS_DONE, updated_at=now)


def ended(saga: Saga, status: SagaStatus, *, now: datetime) -> Saga:
    return replace(saga, status=status, updated_at=now)


def wms_action(saga: Saga, lot: SagaLot, *, max_attempts: int, now: datetime) -> PendingAction:
    """The WMS step of one lot, once its hold is known: block (placeHold) or unblock (releaseHold)."""
    hold_id = lot.hold_id or ""
    if saga.operation == PLACE:
        kind, reason = ActionKind.BLOCK_STOCK, f"quality hold {hold_id} ({saga.reason_code})"
    else:
        kind, reason = ActionKind.UNBLOCK_STOCK, f"quality hold {hold_id} released"
    return new_action(kind, lot_id=lot.lot_id, hold_id=hold_id, upstream_key=lot.wms_key, reason=reason,
                      **_common(saga, lot, max_attempts, now))  # fmt: skip


def qms_action(saga: Saga, lot: SagaLot, *, max_attempts: int, now: datetime) -> PendingAction:
    """The whole command for one lot whose QMS step is not recorded: asks the QMS first, then the WMS step."""
    if saga.operation == PLACE:
        kind, hold_id, reason = ActionKind.PLACE_HOLD, "", f"quality hold ({saga.reason_code})"
    else:
        kind, hold_id, reason = ActionKind.RELEASE_HOLD, lot.hold_id or "", f"quality hold {lot.hold_id} released"
    return new_action(
        kind,
        lot_id=lot.lot_id,
        hold_id=hold_id,
        upstream_key=lot.qms_key,
        reason=reason,
        next_key=lot.wms_key,
        hold_reason=saga.reason_code,
        comment=saga.comment,
        **_common(saga, lot, max_attempts, now),
    )


def _common(saga: Saga, lot: SagaLot, max_attempts: int, now: datetime) -> dict[str, Any]:
    return {
        "operation": saga.operation,
        "requested_by": saga.requested_by,
        "correlation_id": saga.correlation_id,
        "max_attempts": max_attempts,
        "now": now,
        "plant": lot.plant,
    }


def remaining(saga: Saga, *, max_attempts: int, now: datetime) -> list[PendingAction]:
    """What recovery records for a saga whose process died: nothing once the QMS step is recorded (its actions
    are); else the whole command for each lot not known to be held, and the block of each lot found on hold."""
    if saga.step is SagaStep.QMS_DONE:
        return []
    return [
        wms_action(saga, lot, max_attempts=max_attempts, now=now)
        if saga.operation == PLACE and lot.hold_id
        else qms_action(saga, lot, max_attempts=max_attempts, now=now)
        for lot in saga.lots
    ]


def action_ids(saga: Saga) -> list[str]:
    """The ids of the pending actions this saga leaves, whichever step it reached (ids derive from keys)."""
    if saga.step is SagaStep.QMS_DONE:
        return [action_id(lot.wms_key) for lot in saga.lots]
    return [a.id for a in remaining(saga, max_attempts=1, now=saga.updated_at)]


# -- codec ----------------------------------------------------------------------------------------------------------


def saga_to_row(saga: Saga, *, lease_until: float) -> SagaRow:
    body = asdict(saga)
    body |= {
        "created_at": saga.created_at.isoformat(),
        "updated_at": saga.updated_at.isoformat(),
        "step": saga.step.value,
        "status": saga.status.value,
    }
    text = json.dumps(body, separators=(",", ":"))
    return SagaRow(saga.id, saga.status.value, lease_until, saga.updated_at.timestamp(), text)


def saga_of_row(row: SagaRow) -> Saga:
    d: dict[str, Any] = json.loads(row.body)
    return Saga(
        **{
            **d,
            "created_at": datetime.fromisoformat(d["created_at"]),
            "updated_at": datetime.fromisoformat(d["updated_at"]),
            "lots": tuple(SagaLot(**lot) for lot in d["lots"]),
            "propagated": tuple(d["propagated"]),
            "step": SagaStep(d["step"]),
            "status": SagaStatus(d["status"]),
        }
    )
