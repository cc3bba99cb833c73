"""Open shipments built to be READY, or blocked by exactly the listed readiness codes.

Every case starts from a clean shipment: a released order without blocks, lots of its own (released,
certified, far from expiry, no hold or deviation, unrestricted stock), fully allocated and staged. Then
the case changes exactly what its codes need. The lots are reserved before the rest of the sales are
generated, so nothing else touches them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from plant.gen.catalog import Catalog
from plant.gen.model import Customer, Deviation, Hold, Lot, Order, Plant, Product, Shipment, ShipmentLine


@dataclass(frozen=True)
class Case:
    expected: tuple[str, ...]
    note: str
    order: str = ""  # credit, delivery, created (joined with +)
    lot: str = ""  # pending, rejected, hold, block, deviation, no_coa, expired, expired_date (joined with +)
    alloc: str = "full"  # full, erp_short, wms_short, wms_missing
    stage: str = "STAGED"
    lines: int = 1
    lots_per_line: int = 1
    customer_coa: bool = False
    product_coa: bool | None = None
    group: str = ""  # cases of one group share an order


READY = "all checks pass"
CASES = [
    Case((), READY),
    Case((), READY, stage="LOADED", lines=2),
    Case((), READY + "; two lots on the line, customer needs certificates", lots_per_line=2, customer_coa=True),
    Case((), READY + "; product needs certificates", product_coa=True),
    Case((), READY + "; loaded, customer needs certificates", stage="LOADED", customer_coa=True),
    Case((), READY + "; two lines, two lots each", lines=2, lots_per_line=2),
    Case((), "one of three shipments of an order that is READY as a whole", group="ready"),
    Case((), "one of three shipments of an order that is READY as a whole", group="ready", stage="LOADED"),
    Case((), "one of three shipments of an order that is READY as a whole", group="ready"),
    Case((), "the ready shipment of an order with one ready and one unstaged shipment", group="mixed"),
    Case(("NOT_STAGED",), "the unstaged shipment of the mixed order", group="mixed", stage="PICKED"),
    Case(("CREDIT_BLOCK",), "the order has a credit block", order="credit"),
    Case(("CREDIT_BLOCK",), "the order has a credit block; two lines", order="credit", lines=2),
    Case(("DELIVERY_BLOCK",), "the order has a delivery block", order="delivery"),
    Case(("DELIVERY_BLOCK",), "the order has a delivery block; loaded", order="delivery", stage="LOADED"),
    Case(("ORDER_NOT_RELEASED",), "the order is still CREATED", order="created"),
    Case(("ORDER_NOT_RELEASED",), "the order is still CREATED; two lots", order="created", lots_per_line=2),
    Case(("LOT_NOT_RELEASED",), "a lot is back in inspection (PENDING), stock not yet moved", lot="pending"),
    Case(("LOT_NOT_RELEASED",), "a lot was REJECTED after allocation, WMS not yet told", lot="rejected"),
    Case(("LOT_ON_HOLD",), "a lot has an active hold placed in the QMS only (stock not blocked)", lot="hold"),
    Case(("LOT_ON_HOLD",), "one of two lots has an active hold in the QMS only", lot="hold", lots_per_line=2),
    Case(("OPEN_DEVIATION",), "a lot has an open MINOR deviation", lot="deviation"),
    Case(("OPEN_DEVIATION",), "a lot has an open MAJOR deviation; two lines", lot="deviation", lines=2),
    Case(("COA_MISSING",), "the product needs a certificate; a lot has none", lot="no_coa", product_coa=True),
    Case(("COA_MISSING",), "the customer needs certificates; a lot has none", lot="no_coa", customer_coa=True),
    Case(("LOT_EXPIRED",), "a lot expired two days ago (disposition EXPIRED)", lot="expired"),
    Case(("LOT_EXPIRED",), "a lot's expiry date has passed; disposition still RELEASED", lot="expired_date"),
    Case(("STOCK_BLOCKED",), "the allocated stock of a lot is BLOCKED in the WMS", lot="block"),
    Case(("STOCK_BLOCKED",), "one of two lots has BLOCKED stock", lot="block", lots_per_line=2),
    Case(("ALLOCATION_INCOMPLETE",), "ERP lots cover only part of the line quantity", alloc="erp_short"),
    Case(("ALLOCATION_INCOMPLETE",), "the WMS allocated only part of the line", alloc="wms_short"),
    Case(("ALLOCATION_INCOMPLETE",), "the WMS has not started on the shipment (missing)", alloc="wms_missing"),
    Case(("PICKING_INCOMPLETE",), "warehouse stage ALLOCATED", stage="ALLOCATED"),
    Case(("PICKING_INCOMPLETE",), "warehouse stage PICKING", stage="PICKING"),
    Case(("NOT_STAGED",), "warehouse stage PICKED", stage="PICKED"),
    Case(("NOT_STAGED",), "warehouse stage PICKED; two lines", stage="PICKED", lines=2),
    Case(("CREDIT_BLOCK", "DELIVERY_BLOCK"), "credit and delivery block", order="credit+delivery"),
    Case(("LOT_ON_HOLD", "STOCK_BLOCKED"), "a hold placed through the gateway: QMS and WMS", lot="hold+block"),
    Case(
        ("COA_MISSING", "LOT_NOT_RELEASED"),
        "a lot in inspection, no certificate yet",
        lot="pending+no_coa",
        customer_coa=True,
    ),
    Case(
        ("LOT_ON_HOLD", "OPEN_DEVIATION", "STOCK_BLOCKED"),
        "a deviation led to a hold and a stock block",
        lot="hold+block+deviation",
    ),
    Case(("NOT_STAGED", "ORDER_NOT_RELEASED"), "order not released, shipment picked", order="created", stage="PICKED"),
    Case(("LOT_EXPIRED", "PICKING_INCOMPLETE"), "an expired lot being picked", lot="expired", stage="PICKING"),
    Case((), "sandbox for demos and tests that place a hold: READY until someone changes it", group="demo"),
]  # fmt: skip


@dataclass
class Built:
    case: Case
    shipment: Shipment
    lots: list[Lot]


class ScenarioBuilder:
    def __init__(self, rng: random.Random, plant: Plant, catalog: Catalog) -> None:
        self.rng = rng
        self.plant = plant
        self.products = [p for family in catalog.finished for p in family]
        self.pools: dict[str, list[Lot]] = {p.id: [] for p in self.products}
        for lot in plant.lots:
            if lot.kind == "FINISHED" and -120 < lot.t < -8 and lot.product.id in self.pools:
                self.pools[lot.product.id].append(lot)
        for pool in self.pools.values():
            pool.sort(key=lambda lot: (-lot.t, lot.idx))  # newest first
        self.turn = 0

    def reserve(self) -> list[Built]:
        """Build every case; its lots are reserved so that the rest of the plant leaves them alone."""
        groups: dict[str, Order] = {}
        built = []
        for case in CASES:
            customer = self.customer(case)
            order = groups.get(case.group) if case.group else None
            if order is None:
                day = -self.rng.randint(5, 12)
                order = Order(customer, day, day + 6, [])
                self.plant.orders.append(order)
                if case.group:
                    groups[case.group] = order
            shipment, lots = self.shipment(case, order)
            built.append(Built(case, shipment, lots))
        for item in built:
            self.apply(item)
        for order in {id(item.shipment.order): item.shipment.order for item in built}.values():
            totals: dict[int, float] = {}
            for shipment in order.shipments:
                for line in shipment.lines:
                    totals[line.order_line_no] = round(totals.get(line.order_line_no, 0.0) + line.quantity, 1)
            order.lines = [(n, p, totals[n]) for n, p, _ in order.lines]
        return built

    def customer(self, case: Case) -> Customer:
        matching = [c for c in self.plant.customers if c.coa_required == case.customer_coa]
        return self.rng.choice(matching)

    def product(self, case: Case, needed: int, used: list[Product]) -> Product:
        for _ in range(len(self.products)):
            product = self.products[self.turn % len(self.products)]
            self.turn += 1
            if case.product_coa is not None and product.coa_required != case.product_coa:
                continue
            if product not in used and len(self.pools[product.id]) >= needed:
                return product
        raise RuntimeError("not enough finished lots for the readiness scenarios: generate more lots")

    def shipment(self, case: Case, order: Order) -> tuple[Shipment, list[Lot]]:
        lines: list[ShipmentLine] = []
        lots: list[Lot] = []
        used: list[Product] = []
        for line_no in range(1, case.lines + 1):
            product = self.product(case, case.lots_per_line, used)
            used.append(product)
            taken = []
            for _ in range(case.lots_per_line):
                lot = self.pools[product.id].pop(0)
                lot.reserved = True
                qty = round(lot.quantity * self.rng.uniform(0.5, 1.0), 1)
                lot.assigned = qty
                taken.append((lot, qty))
                lots.append(lot)
            order_line = next((n for n, p, _ in order.lines if p is product), None)
            if order_line is None:
                order_line = len(order.lines) + 1
                order.lines.append((order_line, product, 0.0))
            total = round(sum(q for _, q in taken), 1)
            lines.append(ShipmentLine(line_no, order_line, product, total, taken))
        shipment = Shipment(order, self.rng.randint(-1, 3), lines, stage=case.stage)
        shipment.status = "PLANNED" if case.stage == "ALLOCATED" else "IN_PROGRESS"
        order.shipments.append(shipment)
        return shipment, lots

    def apply(self, item: Built) -> None:
        case, shipment, lot = item.case, item.shipment, item.lots[0]
        order, effects = shipment.order, set(case.lot.split("+")) - {""}
        for other in item.lots:
            other.coa = True
            other.stock_status = "BLOCKED" if "block" in effects and other is lot else "UNRESTRICTED"
        order_effects = set(case.order.split("+"))
        if "credit" in order_effects:
            order.credit_block_t = order.order_day + 1.2
        if "delivery" in order_effects:
            order.delivery_block = (order.order_day + 2.4, "Customer requested a later delivery")
        if "created" in order_effects:
            order.status = "CREATED"
        if effects & {"pending", "rejected", "expired"}:
            lot.disposition = "PENDING" if "pending" in effects else "REJECTED" if "rejected" in effects else "EXPIRED"
            lot.disposition_t = -1.6
        if "expired" in effects:
            lot.expiry_day = -2
        if "expired_date" in effects:
            lot.expiry_day = -1
        if "no_coa" in effects:
            lot.coa = False
        if "deviation" in effects:
            severity = "MAJOR" if case.lines > 1 or "hold" in effects else "MINOR"
            self.plant.deviations.append(Deviation(lot, severity, "Particle size out of trend", -2.5))
        if "hold" in effects:
            self.plant.holds.append(Hold(lot, "QUALITY_INVESTIGATION", "Investigation pending", "qa.weber", -1.2))
            lot.pre_hold, lot.disposition, lot.disposition_t = lot.disposition, "ON_HOLD", -1.2
        if case.alloc == "erp_short":
            line = shipment.lines[0]
            line.quantity = round(line.quantity * 1.4, 1)
        elif case.alloc == "wms_short":
            line = shipment.lines[0]
            first, qty = line.lots[0]
            shipment.allocations = [(line.line_no, first, round(qty * 0.6, 1))]
            shipment.allocations += [(ln.line_no, lt, q) for ln in shipment.lines for lt, q in ln.lots][1:]
        elif case.alloc == "wms_missing":
            shipment.stage, shipment.status = None, "PLANNED"
