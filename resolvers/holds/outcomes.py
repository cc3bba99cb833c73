"""What placeHold and releaseHold answer, as plain records, and their JSON form kept with the idempotency key.

A repeated request gets the stored answer back, so the answer must survive a round trip through JSON exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from resolvers.holds.model import PendingAction, action_of_dict, action_to_dict
from sources.records import Disposition, Hold, HoldStatus


class HoldReason(Enum):
    SUSPECTED_CONTAMINATION = "SUSPECTED_CONTAMINATION"
    OUT_OF_SPEC = "OUT_OF_SPEC"
    CUSTOMER_COMPLAINT = "CUSTOMER_COMPLAINT"
    SUPPLIER_NOTICE = "SUPPLIER_NOTICE"
    RECALL = "RECALL"
    OTHER = "OTHER"


class Propagation(Enum):
    NONE = "NONE"
    FORWARD = "FORWARD"


class HoldErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    LOT_NOT_FOUND = "LOT_NOT_FOUND"
    LOT_ALREADY_ON_HOLD = "LOT_ALREADY_ON_HOLD"
    TOO_MANY_LOTS = "TOO_MANY_LOTS"
    PROPAGATION_INCOMPLETE = "PROPAGATION_INCOMPLETE"
    HOLD_NOT_FOUND = "HOLD_NOT_FOUND"
    HOLD_NOT_ACTIVE = "HOLD_NOT_ACTIVE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IN_PROGRESS = "IN_PROGRESS"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    SOURCE_PROTOCOL_ERROR = "SOURCE_PROTOCOL_ERROR"
    SOURCE_REJECTED = "SOURCE_REJECTED"
    FORBIDDEN = "FORBIDDEN"


class HoldWarningCode(Enum):
    PENDING_ACTION = "PENDING_ACTION"
    ACTION_FAILED = "ACTION_FAILED"
    STOCK_KEPT_BLOCKED = "STOCK_KEPT_BLOCKED"
    EVENT_NOT_RECORDED = "EVENT_NOT_RECORDED"


class StockRelease(Enum):
    """What became of the lot's stock when a hold was released."""

    UNBLOCKED = "UNBLOCKED"
    KEPT_BLOCKED = "KEPT_BLOCKED"
    PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class HoldProblem:
    code: HoldErrorCode
    message: str
    lot_id: str | None = None
    hold_id: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class HoldNotice:
    code: HoldWarningCode
    message: str
    lot_id: str | None = None
    pending_action_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceHoldOutcome:
    requested_by: str
    correlation_id: str
    requested_at: datetime | None = None
    holds: tuple[Hold, ...] = ()
    """Holds this request created in the QMS."""
    lot_ids: tuple[str, ...] = ()
    """Every lot this request holds: given or reached by propagation, with a new hold or one found for the reason."""
    propagated_lot_ids: tuple[str, ...] = ()
    blocked_lot_ids: tuple[str, ...] = ()
    """Lots whose stock the WMS has blocked for this request."""
    pending_actions: tuple[PendingAction, ...] = ()
    errors: tuple[HoldProblem, ...] = ()
    warnings: tuple[HoldNotice, ...] = ()
    complete: bool = False
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ReleaseHoldOutcome:
    requested_by: str
    correlation_id: str
    requested_at: datetime | None = None
    hold: Hold | None = None
    disposition: Disposition | None = None
    """The lot's disposition in the QMS after the release, when it could be read."""
    stock: StockRelease | None = None
    active_hold_ids: tuple[str, ...] = ()
    """Other holds still active on the lot."""
    pending_actions: tuple[PendingAction, ...] = ()
    errors: tuple[HoldProblem, ...] = ()
    warnings: tuple[HoldNotice, ...] = ()
    complete: bool = False
    replayed: bool = False

    @property
    def lot_id(self) -> str | None:
        return self.hold.lot_id if self.hold else None


# -- JSON ----------------------------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def hold_to_dict(h: Hold) -> dict[str, Any]:
    return {
        "id": h.id,
        "lot_id": h.lot_id,
        "status": h.status.value,
        "reason_code": h.reason_code,
        "comment": h.comment,
        "placed_by": h.placed_by,
        "placed_at": _time(h.placed_at),
        "released_by": h.released_by,
        "released_at": _time(h.released_at),
        "release_comment": h.release_comment,
        "correlation_id": h.correlation_id,
    }


def hold_of_dict(d: dict[str, Any]) -> Hold:
    return Hold(
        id=d["id"],
        lot_id=d["lot_id"],
        status=HoldStatus(d["status"]),
        reason_code=d["reason_code"],
        comment=d["comment"],
        placed_by=d["placed_by"],
        placed_at=_parse_time(d["placed_at"]),
        released_by=d["released_by"],
        released_at=_parse_time(d["released_at"]),
        release_comment=d["release_comment"],
        correlation_id=d["correlation_id"],
    )


def _common(o: PlaceHoldOutcome | ReleaseHoldOutcome) -> dict[str, Any]:
    return {
        "requested_by": o.requested_by,
        "correlation_id": o.correlation_id,
        "requested_at": _time(o.requested_at),
        "pending_actions": [action_to_dict(a) for a in o.pending_actions],
        "errors": [
            {"code": e.code.value, "message": e.message, "lot_id": e.lot_id, "hold_id": e.hold_id, "source": e.source}
            for e in o.errors
        ],
        "warnings": [
            {"code": w.code.value, "message": w.message, "lot_id": w.lot_id, "pending_action_id": w.pending_action_id}
            for w in o.warnings
        ],
        "complete": o.complete,
    }


def _common_of(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "requested_by": d["requested_by"],
        "correlation_id": d["correlation_id"],
        "requested_at": _parse_time(d["requested_at"]),
        "pending_actions": tuple(action_of_dict(a) for a in d["pending_actions"]),
        "errors": tuple(
            HoldProblem(HoldErrorCode(e["code"]), e["message"], e["lot_id"], e["hold_id"], e["source"])
            for e in d["errors"]
        ),
        "warnings": tuple(
            HoldNotice(HoldWarningCode(w["code"]), w["message"], w["lot_id"], w["pending_action_id"])
            for w in d["warnings"]
        ),
        "complete": d["complete"],
    }


def encode(outcome: PlaceHoldOutcome | ReleaseHoldOutcome) -> str:
    body = _common(outcome)
    if isinstance(outcome, PlaceHoldOutcome):
        body |= {
            "kind": "placeHold",
            "holds": [hold_to_dict(h) for h in outcome.holds],
            "lot_ids": list(outcome.lot_ids),
            "propagated_lot_ids": list(outcome.propagated_lot_ids),
            "blocked_lot_ids": list(outcome.blocked_lot_ids),
        }
    else:
        body |= {
            "kind": "releaseHold",
            "hold": hold_to_dict(outcome.hold) if outcome.hold else None,
            "disposition": outcome.disposition.value if outcome.disposition else None,
            "stock": outcome.stock.value if outcome.stock else None,
            "active_hold_ids": list(outcome.active_hold_ids),
        }
    return json.dumps(body, separators=(",", ":"))


def decode_place(text: str) -> PlaceHoldOutcome:
    """The stored answer of a placeHold, marked as replayed."""
    d: dict[str, Any] = json.loads(text)
    return PlaceHoldOutcome(
        **_common_of(d),
        holds=tuple(hold_of_dict(h) for h in d["holds"]),
        lot_ids=tuple(d["lot_ids"]),
        propagated_lot_ids=tuple(d["propagated_lot_ids"]),
        blocked_lot_ids=tuple(d["blocked_lot_ids"]),
        replayed=True,
    )


def decode_release(text: str) -> ReleaseHoldOutcome:
    """The stored answer of a releaseHold, marked as replayed."""
    d: dict[str, Any] = json.loads(text)
    return ReleaseHoldOutcome(
        **_common_of(d),
        hold=hold_of_dict(d["hold"]) if d["hold"] else None,
        disposition=Disposition(d["disposition"]) if d["disposition"] else None,
        stock=StockRelease(d["stock"]) if d["stock"] else None,
        active_hold_ids=tuple(d["active_hold_ids"]),
        replayed=True,
    )
