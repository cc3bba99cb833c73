"""What a shipment readiness decision is made of: its statuses, blockers and checks, the inputs the rules read,
and the answer with what each source contributed (DESIGN.md rule 1). Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TypeAlias, TypeVar

from sources.errors import SourceError
from sources.records import (
    Customer,
    Deviation,
    Hold,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentProgress,
    WarehouseStage,
)

T = TypeVar("T")
Fetched: TypeAlias = T | SourceError
"""A record as fetched, or the error that stood in for it."""


class ReadinessStatus(Enum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    UNKNOWN = "UNKNOWN"


class CheckStatus(Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_RUN = "NOT_RUN"


class BlockerCode(Enum):
    SHIPMENT_NOT_FOUND = "SHIPMENT_NOT_FOUND"
    SHIPMENT_NOT_OPEN = "SHIPMENT_NOT_OPEN"
    ORDER_NOT_RELEASED = "ORDER_NOT_RELEASED"
    CREDIT_BLOCK = "CREDIT_BLOCK"
    DELIVERY_BLOCK = "DELIVERY_BLOCK"
    LOT_NOT_RELEASED = "LOT_NOT_RELEASED"
    LOT_ON_HOLD = "LOT_ON_HOLD"
    OPEN_DEVIATION = "OPEN_DEVIATION"
    COA_MISSING = "COA_MISSING"
    LOT_EXPIRED = "LOT_EXPIRED"
    STOCK_BLOCKED = "STOCK_BLOCKED"
    ALLOCATION_INCOMPLETE = "ALLOCATION_INCOMPLETE"
    PICKING_INCOMPLETE = "PICKING_INCOMPLETE"
    NOT_STAGED = "NOT_STAGED"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Blocker:
    code: BlockerCode
    source: str
    message: str
    lot_id: str | None = None
    order_id: str | None = None
    line_no: int | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    source: str
    status: CheckStatus
    detail: str


@dataclass(frozen=True, slots=True)
class ReadinessInputs:
    """Everything the rules look at, each as fetched or as the error that stood in for it."""

    shipment: Shipment
    order: Fetched[SalesOrder | None]
    products: Fetched[dict[str, Product]]
    customer: Fetched[Customer | None]
    quality: Fetched[dict[str, QualityLot]]
    holds: Fetched[dict[str, list[Hold]]]
    deviations: Fetched[dict[str, list[Deviation]]]
    progress: Fetched[ShipmentProgress | None]
    today: date
    required_stage: WarehouseStage = WarehouseStage.STAGED


@dataclass(frozen=True, slots=True)
class Decision:
    status: ReadinessStatus
    blockers: list[Blocker]
    checks: list[Check]


@dataclass(frozen=True, slots=True)
class Observation:
    """What one source contributed to a decision: when it answered, how long its slowest call took."""

    source: str
    fetched_at: datetime | None
    latency_ms: float | None
    from_cache: bool
    ok: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class Readiness:
    shipment_id: str
    status: ReadinessStatus
    blockers: list[Blocker]
    checks: list[Check]
    evaluated_at: datetime
    required_stage: WarehouseStage
    observations: list[Observation]

    @property
    def ready(self) -> bool:
        return self.status is ReadinessStatus.READY
