"""Shipment readiness: one fail-closed decision over ERP, QMS and WMS records (DESIGN.md rule 1).

``evaluate`` is a pure function: it takes the records (or the error that stood in for them) and returns every
check, every blocker and the status. A shipment is READY only when every check ran on fresh data and passed; a
check whose source could not answer is NOT_RUN, adds a SOURCE_UNAVAILABLE blocker naming the source, and makes
the status UNKNOWN — never READY. Checks whose sources did answer are still evaluated and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import TypeAlias, TypeVar

from sources.errors import SourceError
from sources.records import (
    Customer,
    Deviation,
    DeviationStatus,
    Disposition,
    Hold,
    HoldStatus,
    OrderStatus,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentProgress,
    ShipmentStatus,
    StockStatus,
    WarehouseStage,
)

T = TypeVar("T")
Fetched: TypeAlias = T | SourceError
"""A record as fetched, or the error that stood in for it."""

QUANTITY_TOLERANCE = 1e-6


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


@dataclass
class _Rules:
    """Collects checks and blockers while the rules run."""

    checks: list[Check] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    unavailable: dict[str, SourceError] = field(default_factory=dict)

    def run(self, name: str, source: str, inputs: Iterable[object], rule: Callable[[], list[Blocker]]) -> None:
        errors = [i for i in inputs if isinstance(i, SourceError)]
        if errors:
            self.checks.append(Check(name, source, CheckStatus.NOT_RUN, errors[0].message))
            for error in errors:
                self.unavailable.setdefault(error.source, error)
            return
        found = rule()
        self.blockers.extend(found)
        if found:
            detail = "; ".join(dict.fromkeys(b.message for b in found))
            self.checks.append(Check(name, source, CheckStatus.FAILED, detail))
        else:
            self.checks.append(Check(name, source, CheckStatus.PASSED, "ok"))


def evaluate(i: ReadinessInputs) -> Decision:
    s = i.shipment
    lot_ids = s.lot_ids
    rules = _Rules()

    rules.run("shipment_open", "erp", [], lambda: _shipment_open(s))
    rules.run("order_released", "erp", [i.order], lambda: _order_released(s, _ok(i.order)))
    rules.run("no_credit_block", "erp", [i.order], lambda: _no_credit_block(_ok(i.order)))
    rules.run("no_delivery_block", "erp", [i.order], lambda: _no_delivery_block(_ok(i.order)))
    rules.run("lots_assigned", "erp", [], lambda: _lots_assigned(s))
    rules.run("lots_released", "qms", [i.quality], lambda: _lots_released(lot_ids, _ok(i.quality)))
    rules.run("no_active_hold", "qms", [i.holds, i.quality], lambda: _no_hold(lot_ids, _ok(i.holds), _ok(i.quality)))
    rules.run("no_open_deviation", "qms", [i.deviations], lambda: _no_deviation(lot_ids, _ok(i.deviations)))
    rules.run("not_expired", "qms", [i.quality], lambda: _not_expired(lot_ids, _ok(i.quality), i.today))
    rules.run(
        "certificate_on_file",
        "qms",
        [i.quality, i.products, i.customer],
        lambda: _certificates(s, _ok(i.quality), _ok(i.products), _ok(i.customer)),
    )
    rules.run("allocation_complete", "wms", [i.progress], lambda: _allocation_complete(s, _ok(i.progress)))
    rules.run("stock_unrestricted", "wms", [i.progress], lambda: _stock_unrestricted(_ok(i.progress)))
    rules.run("warehouse_stage", "wms", [i.progress], lambda: _stage_reached(_ok(i.progress), i.required_stage))

    for source, error in rules.unavailable.items():
        rules.blockers.append(
            Blocker(BlockerCode.SOURCE_UNAVAILABLE, source, f"{error.message}: readiness cannot be decided")
        )
    if rules.unavailable:
        status = ReadinessStatus.UNKNOWN
    elif rules.blockers:
        status = ReadinessStatus.NOT_READY
    else:
        status = ReadinessStatus.READY
    return Decision(status, rules.blockers, rules.checks)


def _ok(value: Fetched[T]) -> T:
    assert not isinstance(value, SourceError)  # the caller checked: rules run only on fetched inputs
    return value


# -- ERP ---------------------------------------------------------------------------------------------------------


def _shipment_open(s: Shipment) -> list[Blocker]:
    if s.status in (ShipmentStatus.PLANNED, ShipmentStatus.IN_PROGRESS):
        return []
    return [
        Blocker(
            BlockerCode.SHIPMENT_NOT_OPEN,
            "erp",
            f"Shipment {s.id} is {s.status.value.lower()}",
            order_id=s.order_id,
            since=s.shipped_at,
        )
    ]


def _order_released(s: Shipment, order: SalesOrder | None) -> list[Blocker]:
    if order is None:
        return [
            Blocker(BlockerCode.ORDER_NOT_RELEASED, "erp", f"Order {s.order_id} is not in the ERP", order_id=s.order_id)
        ]
    if order.status is OrderStatus.RELEASED:
        return []
    return [
        Blocker(
            BlockerCode.ORDER_NOT_RELEASED,
            "erp",
            f"Order {order.id} is {order.status.value.lower()}, not released",
            order_id=order.id,
        )
    ]


def _no_credit_block(order: SalesOrder | None) -> list[Blocker]:
    if order is None or not order.credit_block:
        return []
    return [
        Blocker(
            BlockerCode.CREDIT_BLOCK,
            "erp",
            f"Order {order.id} is blocked by credit management",
            order_id=order.id,
            since=order.credit_block_since,
        )
    ]


def _no_delivery_block(order: SalesOrder | None) -> list[Blocker]:
    if order is None or not order.delivery_block:
        return []
    reason = f": {order.delivery_block_reason}" if order.delivery_block_reason else ""
    return [
        Blocker(
            BlockerCode.DELIVERY_BLOCK,
            "erp",
            f"Order {order.id} has a delivery block{reason}",
            order_id=order.id,
            since=order.delivery_block_since,
        )
    ]


def _lots_assigned(s: Shipment) -> list[Blocker]:
    blockers = []
    for line in s.lines:
        assigned = sum(a.quantity for a in line.lots)
        if assigned + QUANTITY_TOLERANCE < line.quantity:
            blockers.append(
                Blocker(
                    BlockerCode.ALLOCATION_INCOMPLETE,
                    "erp",
                    f"Line {line.line_no}: lots assigned for {assigned:g} of {line.quantity:g} {line.uom}",
                    order_id=s.order_id,
                    line_no=line.line_no,
                )
            )
    return blockers


# -- QMS ---------------------------------------------------------------------------------------------------------


def _lots_released(lot_ids: list[str], quality: dict[str, QualityLot]) -> list[Blocker]:
    blockers = []
    for lot_id in lot_ids:
        q = quality.get(lot_id)
        if q is None:
            blockers.append(
                Blocker(BlockerCode.LOT_NOT_RELEASED, "qms", f"Lot {lot_id} is not in the QMS", lot_id=lot_id)
            )
        elif q.disposition in (Disposition.PENDING, Disposition.REJECTED, Disposition.RECALLED):
            blockers.append(
                Blocker(
                    BlockerCode.LOT_NOT_RELEASED,
                    "qms",
                    f"Lot {lot_id} is {_words(q.disposition.value)}, not released",
                    lot_id=lot_id,
                    since=q.disposition_at,
                )
            )
    return blockers


def _no_hold(lot_ids: list[str], holds: dict[str, list[Hold]], quality: dict[str, QualityLot]) -> list[Blocker]:
    blockers = []
    for lot_id in lot_ids:
        active = [h for h in holds.get(lot_id, []) if h.status is HoldStatus.ACTIVE]
        for h in active:
            blockers.append(
                Blocker(
                    BlockerCode.LOT_ON_HOLD,
                    "qms",
                    f"Lot {lot_id} is on hold ({h.reason_code}, hold {h.id})",
                    lot_id=lot_id,
                    since=h.placed_at,
                )
            )
        q = quality.get(lot_id)
        if not active and q is not None and q.disposition is Disposition.ON_HOLD:
            blockers.append(
                Blocker(
                    BlockerCode.LOT_ON_HOLD, "qms", f"Lot {lot_id} is on hold", lot_id=lot_id, since=q.disposition_at
                )
            )
    return blockers


def _no_deviation(lot_ids: list[str], deviations: dict[str, list[Deviation]]) -> list[Blocker]:
    return [
        Blocker(
            BlockerCode.OPEN_DEVIATION,
            "qms",
            f"Lot {lot_id} has open deviation {d.id} ({d.severity.value.lower()}): {d.title}",
            lot_id=lot_id,
            since=d.opened_at,
        )
        for lot_id in lot_ids
        for d in deviations.get(lot_id, [])
        if d.status is DeviationStatus.OPEN
    ]


def _not_expired(lot_ids: list[str], quality: dict[str, QualityLot], today: date) -> list[Blocker]:
    blockers = []
    for lot_id in lot_ids:
        q = quality.get(lot_id)
        if q is None:
            continue
        if q.disposition is Disposition.EXPIRED or (q.expiry_date is not None and q.expiry_date < today):
            when = f" on {q.expiry_date.isoformat()}" if q.expiry_date else ""
            blockers.append(
                Blocker(
                    BlockerCode.LOT_EXPIRED,
                    "qms",
                    f"Lot {lot_id} expired{when}",
                    lot_id=lot_id,
                    since=_midnight(q.expiry_date),
                )
            )
    return blockers


def _certificates(
    s: Shipment, quality: dict[str, QualityLot], products: dict[str, Product], customer: Customer | None
) -> list[Blocker]:
    blockers = []
    for line in s.lines:
        product = products.get(line.product_id)
        needed_by = "customer" if customer is not None and customer.coa_required else None
        if product is not None and product.coa_required:
            needed_by = "product"
        if needed_by is None:
            continue
        for a in line.lots:
            q = quality.get(a.lot_id)
            if q is not None and q.coa is None:
                blockers.append(
                    Blocker(
                        BlockerCode.COA_MISSING,
                        "qms",
                        f"Lot {a.lot_id} has no certificate of analysis, which the {needed_by} requires",
                        lot_id=a.lot_id,
                        line_no=line.line_no,
                    )
                )
    return blockers


# -- WMS ---------------------------------------------------------------------------------------------------------


def _allocation_complete(s: Shipment, progress: ShipmentProgress | None) -> list[Blocker]:
    if progress is None:
        return [
            Blocker(
                BlockerCode.ALLOCATION_INCOMPLETE,
                "wms",
                f"The warehouse has not allocated shipment {s.id}",
                order_id=s.order_id,
            )
        ]
    allocated: dict[int, float] = {}
    for a in progress.allocations:
        allocated[a.line_no] = allocated.get(a.line_no, 0.0) + a.quantity
    blockers = []
    for line in s.lines:
        have = allocated.get(line.line_no, 0.0)
        if have + QUANTITY_TOLERANCE < line.quantity:
            blockers.append(
                Blocker(
                    BlockerCode.ALLOCATION_INCOMPLETE,
                    "wms",
                    f"Line {line.line_no}: {have:g} of {line.quantity:g} {line.uom} allocated in the warehouse",
                    order_id=s.order_id,
                    line_no=line.line_no,
                )
            )
    return blockers


def _stock_unrestricted(progress: ShipmentProgress | None) -> list[Blocker]:
    if progress is None:
        return []
    return [
        Blocker(
            BlockerCode.STOCK_BLOCKED,
            "wms",
            f"Stock of lot {a.lot_id} allocated to line {a.line_no} is {_words(a.stock_status.value)}",
            lot_id=a.lot_id,
            line_no=a.line_no,
        )
        for a in progress.allocations
        if a.stock_status is not StockStatus.UNRESTRICTED
    ]


def _stage_reached(progress: ShipmentProgress | None, required: WarehouseStage) -> list[Blocker]:
    if progress is None or progress.stage.rank >= required.rank:
        return []
    code = BlockerCode.NOT_STAGED if progress.stage is WarehouseStage.PICKED else BlockerCode.PICKING_INCOMPLETE
    return [
        Blocker(
            code,
            "wms",
            f"The shipment is {_words(progress.stage.value)}, not yet {_words(required.value)}",
            since=progress.stage_at,
        )
    ]


def _words(value: str) -> str:
    return value.lower().replace("_", " ")


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
