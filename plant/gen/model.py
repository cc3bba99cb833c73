"""The generated plant in memory, before it is written to the four databases.

Times are days relative to midnight (UTC) of the base date: ``-3.5`` is noon three days before. Ids are
assigned once everything exists, in time order, so that they read chronologically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass(slots=True)
class Product:
    id: str
    name: str
    kind: str  # RAW, INTERMEDIATE, FINISHED
    family: int  # -1 for raw materials shared by several families
    level: int
    coa_required: bool = False
    shelf_life_days: int = 365
    uom: str = "kg"


@dataclass(slots=True)
class Customer:
    id: str
    name: str
    country: str
    coa_required: bool
    families: list[int]


@dataclass(slots=True)
class Lot:
    idx: int
    product: Product
    level: int
    t: float
    plant: str
    supplier: str | None = None
    id: str = ""
    work_order: str | None = None
    batch_of: int = -1  # a lot split from the same work order as lot ``batch_of``
    quantity: float = 0.0
    inputs: list[int] = field(default_factory=list)
    edge_qty: list[float] = field(default_factory=list)  # consumed quantity per input, same order
    consumers: list[int] = field(default_factory=list)
    consumed: float = 0.0
    shipped: float = 0.0  # on SHIPPED shipments
    assigned: float = 0.0  # on any shipment
    reserved: bool = False  # kept for a readiness scenario
    disposition: str = "RELEASED"
    disposition_t: float = 0.0
    pre_hold: str | None = None
    expiry_day: int = 0
    coa: bool = False
    location: str = ""
    stock_status: str | None = None  # forced by a scenario

    @property
    def kind(self) -> str:
        return self.product.kind

    @property
    def remaining(self) -> float:
        return round(self.quantity - self.consumed - self.shipped, 1)

    @property
    def free(self) -> float:
        """Quantity neither consumed nor on a shipment."""
        return round(self.quantity - self.consumed - self.assigned, 1)


@dataclass(slots=True)
class ShipmentLine:
    line_no: int
    order_line_no: int
    product: Product
    quantity: float
    lots: list[tuple[Lot, float]]


@dataclass(slots=True)
class Shipment:
    order: Order
    ship_day: int
    lines: list[ShipmentLine]
    status: str = "PLANNED"
    shipped_t: float | None = None
    stage: str | None = None  # None: the WMS has not started on it
    allocations: list[tuple[int, Lot, float]] | None = None  # (line_no, lot, qty); None: same as ERP lots
    id: str = ""


@dataclass(slots=True)
class Order:
    customer: Customer
    order_day: int
    requested_day: int
    lines: list[tuple[int, Product, float]]  # (line_no, product, quantity)
    status: str = "RELEASED"
    credit_block_t: float | None = None
    delivery_block: tuple[float, str] | None = None
    shipments: list[Shipment] = field(default_factory=list)
    id: str = ""


@dataclass(slots=True)
class Hold:
    lot: Lot
    reason_code: str
    comment: str
    placed_by: str
    placed_t: float
    released_t: float | None = None
    released_by: str | None = None
    id: str = ""


@dataclass(slots=True)
class Deviation:
    lot: Lot
    severity: str
    title: str
    opened_t: float
    closed_t: float | None = None
    id: str = ""


@dataclass
class Plant:
    base: date
    products: list[Product] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    families: int = 0
    levels: int = 0
    extra_stock_locations: dict[int, str] = field(default_factory=dict)  # lot idx -> second location

    def shipments(self) -> list[Shipment]:
        return [shipment for order in self.orders for shipment in order.shipments]


class Clock:
    """Turns day offsets into the contract's date and timestamp strings, quickly."""

    def __init__(self, base: date) -> None:
        self.midnight = datetime(base.year, base.month, base.day, tzinfo=UTC)
        self._days: dict[int, str] = {}

    def day(self, offset: int) -> str:
        text = self._days.get(offset)
        if text is None:
            text = (self.midnight + timedelta(days=offset)).strftime("%Y-%m-%d")
            self._days[offset] = text
        return text

    def stamp(self, t: float) -> str:
        minutes = round(t * 1440)
        day, minute = divmod(minutes, 1440)
        return f"{self.day(day)}T{minute // 60:02d}:{minute % 60:02d}:00Z"
