"""Sales orders and shipments over the whole history, with finished lots assigned first in, first out.

Shipments dated before yesterday have shipped; the rest are open, in some warehouse stage. Lots kept
for readiness scenarios are left alone; everything else can be split over several shipments, so some
lots reach several customers.
"""

from __future__ import annotations

import random
import statistics

from plant.gen.catalog import Catalog
from plant.gen.model import Lot, Order, Plant, Shipment, ShipmentLine

STAGES = [(None, 10), ("ALLOCATED", 15), ("PICKING", 10), ("PICKED", 15), ("STAGED", 35), ("LOADED", 15)]


def finished_pools(plant: Plant) -> dict[str, list[Lot]]:
    """Released finished lots per product, oldest first."""
    pools: dict[str, list[Lot]] = {}
    for lot in plant.lots:
        if lot.kind == "FINISHED" and lot.t < -5 and not lot.reserved and lot.product.family < plant.families:
            pools.setdefault(lot.product.id, []).append(lot)
    for pool in pools.values():
        pool.sort(key=lambda lot: (lot.t, lot.idx))
    return pools


def build_sales(rng: random.Random, plant: Plant, catalog: Catalog, count: int) -> None:
    pools = finished_pools(plant)
    typical = {pid: statistics.median(lot.quantity for lot in pool) for pid, pool in pools.items()}
    orders: list[Order] = []
    for _ in range(count):
        customer = rng.choice(plant.customers)
        family = rng.choice(customer.families)
        products = [p for p in catalog.finished[family] if p.id in pools]
        if not products:
            continue
        day = rng.randint(-380, 5)
        chosen = rng.sample(products, min(len(products), rng.choice((1, 1, 1, 1, 1, 2, 2, 2, 3, 3))))
        lines = [(n, p, round(typical[p.id] * rng.uniform(0.5, 2.0), 1)) for n, p in enumerate(chosen, 1)]
        order = Order(customer, day, day + rng.randint(7, 21), lines)
        orders.append(order)
        if day > -2:
            order.status = "CREATED"
        elif rng.random() < 0.02:
            order.status = "CANCELLED"
        else:
            _plan_shipments(rng, order)
    shipments = sorted((s for o in orders for s in o.shipments), key=lambda s: s.ship_day)
    pointers: dict[str, int] = {}
    for shipment in shipments:
        for line in shipment.lines:
            _assign_fifo(line, shipment, pools[line.product.id], pointers)
    for order in orders:
        _settle(rng, order)
        if order.status in ("CREATED", "CANCELLED") or order.shipments:
            plant.orders.append(order)


def _plan_shipments(rng: random.Random, order: Order) -> None:
    parts = rng.choice((1, 1, 1, 1, 1, 1, 1, 2, 2, 3))
    for part in range(parts):
        lines = [ShipmentLine(n, n, product, round(qty / parts, 1), []) for n, product, qty in order.lines]
        order.shipments.append(Shipment(order, order.requested_day + 7 * part, lines))


def _assign_fifo(line: ShipmentLine, shipment: Shipment, pool: list[Lot], pointers: dict[str, int]) -> None:
    need, i = line.quantity, pointers.get(line.product.id, 0)
    latest = min(shipment.ship_day - 1, -5)
    shipped = shipment.ship_day < -1
    while need > 0.05 and i < len(pool) and pool[i].t < latest:
        lot = pool[i]
        take = round(min(lot.free, need), 1)
        if take > 0:
            lot.assigned = round(lot.assigned + take, 1)
            if shipped:
                lot.shipped = round(lot.shipped + take, 1)
            line.lots.append((lot, take))
            need = round(need - take, 1)
        if lot.free <= 0.05:
            i += 1
    pointers[line.product.id] = i
    line.quantity = round(sum(qty for _, qty in line.lots), 1)


def _settle(rng: random.Random, order: Order) -> None:
    """Drop empty lines and shipments, make order lines add up, and set statuses and stages."""
    for shipment in order.shipments:
        shipment.lines = [line for line in shipment.lines if line.lots]
        for n, line in enumerate(shipment.lines, 1):
            line.line_no = n
    order.shipments = [s for s in order.shipments if s.lines]
    if order.status in ("CREATED", "CANCELLED"):
        return
    totals: dict[int, float] = {}
    for shipment in order.shipments:
        for line in shipment.lines:
            totals[line.order_line_no] = round(totals.get(line.order_line_no, 0.0) + line.quantity, 1)
    order.lines = [(n, p, totals[n]) for n, p, _ in order.lines if n in totals]
    for shipment in order.shipments:
        if shipment.ship_day < -1:
            shipment.status, shipment.stage = "SHIPPED", "SHIPPED"
            shipment.shipped_t = shipment.ship_day + rng.uniform(0.3, 0.7)
        else:
            shipment.stage = rng.choices([s for s, _ in STAGES], [w for _, w in STAGES])[0]
            shipment.status = "PLANNED" if shipment.stage in (None, "ALLOCATED") else "IN_PROGRESS"
    if all(s.status == "SHIPPED" for s in order.shipments):
        order.status = "COMPLETED"
    elif rng.random() < 0.03:
        order.credit_block_t = order.order_day + rng.uniform(0, 2)
    elif rng.random() < 0.02:
        order.delivery_block = (order.order_day + rng.uniform(0, 2), "Customer asked to hold the delivery")
