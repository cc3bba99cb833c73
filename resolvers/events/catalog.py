"""The event catalog: every event type, each version of its payload as a JSON Schema, and who publishes it.

A change to a payload that could break a consumer adds a new version here; old versions stay, so events recorded
under them stay readable (``eventTypes`` lists them all, ``docs/events.md`` shows them). The envelope around every
payload (id, type, version, occurred-at, recorded-at, source, correlation id, plant, business keys, cursor) is
the same for all types (DESIGN.md rule 4).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sources.bus.envelope import EVENT_TYPES
from sources.bus.envelope import Event as Event  # the envelope around every payload; schema/ shows it

HOLD_TYPES = frozenset({"HoldPlaced", "HoldReleased"})


class EventKind(enum.Enum):
    """The event types, as an enumeration (the same names as ``sources.bus.envelope.EVENT_TYPES``)."""

    HoldPlaced = "HoldPlaced"
    HoldReleased = "HoldReleased"
    LotDispositionChanged = "LotDispositionChanged"
    StockStatusChanged = "StockStatusChanged"
    AllocationChanged = "AllocationChanged"
    OrderStatusChanged = "OrderStatusChanged"
    ShipmentStatusChanged = "ShipmentStatusChanged"
    ShipmentReadinessChanged = "ShipmentReadinessChanged"
    PendingActionChanged = "PendingActionChanged"
    DeviationOpened = "DeviationOpened"
    DeviationClosed = "DeviationClosed"


@dataclass(frozen=True, slots=True)
class EventSchema:
    type: str
    version: int
    description: str
    sources: tuple[str, ...]  # who publishes it: erp, qms, mes, wms, lotgraph
    keys: tuple[str, ...]  # the business keys it carries
    payload: dict[str, Any]  # JSON Schema (draft 2020-12) of the payload
    logged: bool = True  # False: delivered by a subscription, never appended to the event log


def _text(nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"]} if nullable else {"type": "string", "minLength": 1}


def _time(nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}


def _enum(*values: str, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "enum": [*values, *([None] if nullable else [])]}


def _object(required: tuple[str, ...], **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": list(required),
        "properties": properties,
        "additionalProperties": True,
    }


DISPOSITIONS = ("PENDING", "RELEASED", "ON_HOLD", "REJECTED", "RECALLED", "EXPIRED")
STOCK_STATUSES = ("UNRESTRICTED", "QUALITY_INSPECTION", "BLOCKED")
STAGES = ("ALLOCATED", "PICKING", "PICKED", "STAGED", "LOADED", "SHIPPED")

HOLD = _object(
    ("id", "lot_id", "status"),
    id=_text(),
    lot_id=_text(),
    status=_enum("ACTIVE", "RELEASED", "CANCELLED"),
    reason_code=_text(nullable=True),
    comment=_text(nullable=True),
    placed_by=_text(nullable=True),
    placed_at=_time(nullable=True),
    released_by=_text(nullable=True),
    released_at=_time(nullable=True),
    release_comment=_text(nullable=True),
    correlation_id=_text(nullable=True),
    idempotency_key={"type": "string", "description": "lotgraph's own commands: the command's idempotency key"},
)

DEVIATION = _object(
    ("id", "lot_id", "status"),
    id=_text(),
    lot_id=_text(),
    status=_enum("OPEN", "CLOSED"),
    severity=_enum("MINOR", "MAJOR", "CRITICAL", nullable=True),
    title=_text(nullable=True),
    opened_at=_time(nullable=True),
    closed_at=_time(nullable=True),
)

CATALOG: tuple[EventSchema, ...] = (
    EventSchema(
        "HoldPlaced",
        1,
        "A quality hold was placed on a lot (the hold as recorded by the QMS). One per hold: lotgraph's placeHold "
        "and the QMS's webhook for it are one event.",
        ("qms", "lotgraph"),
        ("lot", "item"),
        HOLD,
    ),
    EventSchema(
        "HoldReleased",
        1,
        "A quality hold was released (the hold as recorded by the QMS, with who released it and when).",
        ("qms", "lotgraph"),
        ("lot", "item"),
        HOLD,
    ),
    EventSchema(
        "LotDispositionChanged",
        1,
        "The QMS usage decision of a lot changed.",
        ("qms",),
        ("lot", "item"),
        _object(
            ("disposition",),
            disposition=_enum(*DISPOSITIONS),
            previous_disposition=_enum(*DISPOSITIONS, nullable=True),
            decided_by=_text(nullable=True),
        ),
    ),
    EventSchema("DeviationOpened", 1, "A deviation was opened against a lot.", ("qms",), ("lot", "item"), DEVIATION),
    EventSchema("DeviationClosed", 1, "A deviation of a lot was closed.", ("qms",), ("lot",), DEVIATION),
    EventSchema(
        "StockStatusChanged",
        1,
        "The stock status of a lot changed in the WMS (blocked, unblocked), at the locations listed.",
        ("wms", "lotgraph"),
        ("lot", "shipment"),
        _object(
            ("status",),
            status=_enum(*STOCK_STATUSES),
            locations={"type": "array", "items": {"type": "string"}},
            reason=_text(nullable=True),
            reference=_text(nullable=True),
            hold_id=_text(nullable=True),
            shipment_ids={"type": "array", "items": {"type": "string"}},
            requested_by=_text(nullable=True),
        ),
    ),
    EventSchema(
        "AllocationChanged",
        1,
        "A shipment's allocation or warehouse stage changed: a lot allocated to a line (line_no, quantity), the "
        "stock status of an allocated lot (stock_status), or the stage (stage, previous_stage).",
        ("wms",),
        ("shipment", "lot"),
        _object(
            (),
            line_no={"type": "integer", "minimum": 1},
            quantity={"type": "number", "minimum": 0},
            stock_status=_enum(*STOCK_STATUSES),
            stage=_enum(*STAGES),
            previous_stage=_enum(*STAGES, nullable=True),
        ),
    ),
    EventSchema(
        "OrderStatusChanged",
        1,
        "A sales order's status or its credit or delivery block changed in the ERP.",
        ("erp",),
        ("order",),
        _object(
            ("status",),
            status=_enum("CREATED", "RELEASED", "COMPLETED", "CANCELLED"),
            credit_block={"type": "boolean"},
            delivery_block={"type": "boolean"},
            delivery_block_reason=_text(nullable=True),
            customer_id=_text(nullable=True),
        ),
    ),
    EventSchema(
        "ShipmentStatusChanged",
        1,
        "An outbound delivery's status changed in the ERP.",
        ("erp",),
        ("shipment", "order"),
        _object(
            ("status",),
            status=_enum("PLANNED", "IN_PROGRESS", "SHIPPED", "CANCELLED"),
            previous_status=_enum("PLANNED", "IN_PROGRESS", "SHIPPED", "CANCELLED", nullable=True),
            shipped_at=_time(nullable=True),
        ),
    ),
    EventSchema(
        "ShipmentReadinessChanged",
        1,
        "A watched shipment's readiness (status or blockers) changed. Sent by the shipmentReadinessChanged "
        "subscription to its subscriber; not appended to the event log.",
        ("lotgraph",),
        ("shipment",),
        _object(
            ("status", "blockers"),
            status=_enum("READY", "NOT_READY", "UNKNOWN"),
            previous_status=_enum("READY", "NOT_READY", "UNKNOWN", nullable=True),
            blockers={
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "source", "key", "message"],
                    "properties": {
                        "code": _text(),
                        "source": _text(),
                        "key": _text(nullable=True),
                        "message": _text(),
                    },
                },
            },
        ),
        logged=False,
    ),
    EventSchema(
        "PendingActionChanged",
        1,
        "A later step of a hold command (block or unblock stock) was recorded, retried, done or given up on.",
        ("lotgraph",),
        ("lot",),
        _object(
            ("id", "kind", "status", "lot_id", "hold_id", "attempts"),
            id=_text(),
            kind=_text(),
            status=_enum("PENDING", "DONE", "FAILED"),
            lot_id=_text(),
            hold_id=_text(),
            operation=_text(nullable=True),
            attempts={"type": "integer", "minimum": 0},
            max_attempts={"type": "integer", "minimum": 1},
            next_attempt_at=_time(nullable=True),
            last_error=_text(nullable=True),
            outcome=_text(nullable=True),
        ),
    ),
)

_BY_KEY = {(schema.type, schema.version): schema for schema in CATALOG}
assert {schema.type for schema in CATALOG} == set(EVENT_TYPES), "every event type needs a catalog entry"
assert [kind.value for kind in EventKind] == list(EVENT_TYPES), "EventKind lists EVENT_TYPES"


def schema_of(type_: str, version: int) -> EventSchema | None:
    return _BY_KEY.get((type_, version))


def current_version(type_: str) -> int | None:
    versions = [schema.version for schema in CATALOG if schema.type == type_]
    return max(versions) if versions else None


def versions_of(type_: str) -> list[EventSchema]:
    return sorted((schema for schema in CATALOG if schema.type == type_), key=lambda s: s.version)
