"""Plain records of the four source systems, and the enums of the domain vocabulary (DESIGN.md).

These are what adapters return and what resolvers reason over: immutable records, no I/O, no GraphQL.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Generic, TypeVar

from sources.record_type import Sited, record

T = TypeVar("T")


class OrderStatus(Enum):
    CREATED = "CREATED"
    RELEASED = "RELEASED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ShipmentStatus(Enum):
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class Disposition(Enum):
    PENDING = "PENDING"
    RELEASED = "RELEASED"
    ON_HOLD = "ON_HOLD"
    REJECTED = "REJECTED"
    RECALLED = "RECALLED"
    EXPIRED = "EXPIRED"


class HoldStatus(Enum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"
    CANCELLED = "CANCELLED"


class DeviationStatus(Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Severity(Enum):
    MINOR = "MINOR"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"


class LotKind(Enum):
    RAW = "RAW"
    INTERMEDIATE = "INTERMEDIATE"
    FINISHED = "FINISHED"


class StockStatus(Enum):
    UNRESTRICTED = "UNRESTRICTED"
    QUALITY_INSPECTION = "QUALITY_INSPECTION"
    BLOCKED = "BLOCKED"


class WarehouseStage(Enum):
    """CBV business steps of a shipment in the warehouse, in the order they happen."""

    ALLOCATED = "ALLOCATED"
    PICKING = "PICKING"
    PICKED = "PICKED"
    STAGED = "STAGED"
    LOADED = "LOADED"
    SHIPPED = "SHIPPED"

    @property
    def rank(self) -> int:
        return _STAGE_ORDER.index(self)


_STAGE_ORDER = list(WarehouseStage)


# -- ERP ---------------------------------------------------------------------------------------------------------


@record
class Customer(Sited):
    id: str
    name: str
    country: str
    coa_required: bool


@record
class Product(Sited):
    id: str
    name: str
    uom: str
    coa_required: bool
    shelf_life_days: int | None


@record
class OrderLine:
    line_no: int
    product_id: str
    quantity: float
    uom: str


@record
class SalesOrder(Sited):
    id: str
    customer_id: str
    status: OrderStatus
    order_date: date | None
    requested_date: date | None
    credit_block: bool
    credit_block_since: datetime | None
    delivery_block: bool
    delivery_block_reason: str | None
    delivery_block_since: datetime | None
    lines: tuple[OrderLine, ...]
    shipment_ids: tuple[str, ...]


@record
class LotAssignment:
    lot_id: str
    quantity: float


@record
class ShipmentLine:
    line_no: int
    order_line_no: int | None
    product_id: str
    quantity: float
    uom: str
    lots: tuple[LotAssignment, ...]


@record
class Shipment(Sited):
    id: str
    order_id: str
    customer_id: str
    status: ShipmentStatus
    warehouse: str | None
    ship_date: date | None
    shipped_at: datetime | None
    lines: tuple[ShipmentLine, ...]

    @property
    def lot_ids(self) -> list[str]:
        return list(dict.fromkeys(a.lot_id for line in self.lines for a in line.lots))


# -- QMS ---------------------------------------------------------------------------------------------------------


@record
class Certificate:
    id: str
    issued_at: datetime | None


@record
class QualityLot(Sited):
    lot_id: str
    product_id: str | None
    disposition: Disposition
    disposition_at: datetime | None
    expiry_date: date | None
    coa: Certificate | None


@record
class Hold(Sited):
    id: str
    lot_id: str
    status: HoldStatus
    reason_code: str
    comment: str | None
    placed_by: str | None
    placed_at: datetime | None
    released_by: str | None
    released_at: datetime | None
    release_comment: str | None
    correlation_id: str | None


@record
class Deviation(Sited):
    id: str
    lot_id: str
    status: DeviationStatus
    severity: Severity
    title: str
    opened_at: datetime | None
    closed_at: datetime | None


# -- MES ---------------------------------------------------------------------------------------------------------


@record
class Lot(Sited):
    id: str
    product_id: str
    kind: LotKind
    quantity: float
    uom: str
    produced_at: datetime | None
    plant: str | None
    work_order_id: str | None
    supplier: str | None
    gtin: str | None = None
    """GTIN-14 of the lot's product, when the system knows it (GS1 lot number = ``id``)."""


@record
class GenealogyEdge(Sited):
    input_lot_id: str
    output_lot_id: str
    quantity: float | None
    uom: str | None
    work_order_id: str | None
    occurred_at: datetime | None


# -- WMS ---------------------------------------------------------------------------------------------------------


@record
class Stock(Sited):
    lot_id: str
    location: str
    quantity: float
    uom: str
    status: StockStatus
    status_since: datetime | None


@record
class Allocation:
    line_no: int
    lot_id: str
    location: str | None
    quantity: float
    stock_status: StockStatus


@record
class ShipmentProgress(Sited):
    shipment_id: str
    stage: WarehouseStage
    stage_at: datetime | None
    allocations: tuple[Allocation, ...]


# -- searches ------------------------------------------------------------------------------------------------------


@record
class Page(Generic[T]):
    """One page of a search: the items, how many match in all, and whether more follow."""

    items: list[T]
    total: int
    has_more: bool


@record
class ShipmentFilter:
    """Which shipments an ERP search returns: every condition given must hold."""

    ids: list[str] | None = None
    statuses: list[ShipmentStatus] | None = None
    customer_id: str | None = None
    ship_date_from: date | None = None
    ship_date_to: date | None = None


@record
class StockChange:
    """The WMS's answer to a block or unblock: the lot's stock after it, the shipments whose allocations changed."""

    lot_id: str
    status: StockStatus
    stock: tuple[Stock, ...]
    shipment_ids: tuple[str, ...]
