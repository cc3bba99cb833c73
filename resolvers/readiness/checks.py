"""Each readiness check: the records it reads in, the blockers it finds out (none when it passes). Pure functions,
run by ``resolvers.readiness.rules.evaluate`` only on inputs their sources answered."""

from __future__ import annotations

from datetime import UTC, date, datetime

from resolvers.readiness.model import Blocker, BlockerCode
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

QUANTITY_TOLERANCE = 1e-6


# -- ERP ---------------------------------------------------------------------------------------------------------


def shipment_open(s: Shipment) -> list[Blocker]:
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


def order_released(s: Shipment, order: SalesOrder | None) -> list[Blocker]:
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


def no_credit_block(order: SalesOrder | None) -> list[Blocker]:
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


def no_delivery_block(order: SalesOrder | None) -> list[Blocker]:
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


def lots_assigned(s: Shipment) -> list[Blocker]:
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


def lots_released(lot_ids: list[str], quality: dict[str, QualityLot]) -> list[Blocker]:
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


def no_hold(lot_ids: list[str], holds: dict[str, list[Hold]], quality: dict[str, QualityLot]) -> list[Blocker]:
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


def no_deviation(lot_ids: list[str], deviations: dict[str, list[Deviation]]) -> list[Blocker]:
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


def not_expired(lot_ids: list[str], quality: dict[str, QualityLot], today: date) -> list[Blocker]:
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


def certificates(
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


def allocation_complete(s: Shipment, progress: ShipmentProgress | None) -> list[Blocker]:
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


def stock_unrestricted(progress: ShipmentProgress | None) -> list[Blocker]:
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


def stage_reached(progress: ShipmentProgress | None, required: WarehouseStage) -> list[Blocker]:
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
