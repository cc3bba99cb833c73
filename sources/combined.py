"""Combined reads: what one readiness decision needs from a system, in one call where the system can answer it.

``ErpPort.shipments_expanded`` answers shipments with their order, customer and products; ``QmsPort.quality_status``
answers, per lot, its quality record, its active holds and its open deviations. An adapter whose system has such a
read uses it (the contract's ``GET /shipments/expanded`` and ``GET /quality-status``; Tryton's dotted reads); one
without it composes the answer from the single reads with the functions here, so nothing else changes per kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sources.records import (
    Customer,
    Deviation,
    DeviationStatus,
    Hold,
    HoldStatus,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
)


@dataclass(frozen=True, slots=True)
class ExpandedShipment:
    """A shipment with its order, its customer and the products of its lines (None, or absent, when the ERP does
    not know them)."""

    shipment: Shipment
    order: SalesOrder | None
    customer: Customer | None
    products: tuple[Product, ...]


@dataclass(frozen=True, slots=True)
class LotQuality:
    """One lot's quality status: its QMS record (None when the QMS does not know the lot), active holds, open
    deviations."""

    lot_id: str
    quality: QualityLot | None
    active_holds: tuple[Hold, ...]
    open_deviations: tuple[Deviation, ...]


class _SingleErpReads(Protocol):
    async def shipments(self, ids: Iterable[str]) -> dict[str, Shipment]: ...

    async def orders(self, ids: Iterable[str]) -> dict[str, SalesOrder]: ...

    async def customers(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Customer]: ...

    async def products(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Product]: ...


class _SingleQmsReads(Protocol):
    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]: ...

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]: ...

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]: ...


async def expanded_by_reads(erp: _SingleErpReads, ids: Iterable[str]) -> dict[str, ExpandedShipment]:
    """Shipments, then their orders, customers and products at once (fresh): two round trips, four calls."""
    shipments = await erp.shipments(ids)
    found = list(shipments.values())
    orders, customers, products = await asyncio.gather(
        erp.orders({s.order_id for s in found}),
        erp.customers({s.customer_id for s in found}, fresh=True),
        erp.products({line.product_id for s in found for line in s.lines}, fresh=True),
    )
    return {s.id: expand(s, orders, customers, products) for s in found}


def expand(
    s: Shipment, orders: dict[str, SalesOrder], customers: dict[str, Customer], products: dict[str, Product]
) -> ExpandedShipment:
    """``s`` with its records picked from the ones read for it."""
    own = dict.fromkeys(line.product_id for line in s.lines)
    return ExpandedShipment(
        s, orders.get(s.order_id), customers.get(s.customer_id), tuple(products[p] for p in own if p in products)
    )


async def quality_by_reads(qms: _SingleQmsReads, lot_ids: Iterable[str]) -> dict[str, LotQuality]:
    """Quality records, active holds and open deviations of the lots, in three parallel reads; a lot none of them
    knows is absent. Any read failing fails the whole answer (a decision never stands on part of it)."""
    wanted = list(dict.fromkeys(lot_ids))
    if not wanted:
        return {}
    quality, holds, deviations = await asyncio.gather(
        qms.lots(wanted),
        qms.holds_by_lot(wanted, HoldStatus.ACTIVE),
        qms.deviations_by_lot(wanted, DeviationStatus.OPEN),
    )
    return {
        lot: LotQuality(
            lot,
            quality.get(lot),
            tuple(h for h in holds.get(lot, ()) if h.status is HoldStatus.ACTIVE),
            tuple(d for d in deviations.get(lot, ()) if d.status is DeviationStatus.OPEN),
        )
        for lot in wanted
        if lot in quality or lot in holds or lot in deviations
    }
