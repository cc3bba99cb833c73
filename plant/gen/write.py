"""Writing the generated plant into the four system databases (fresh files, bulk inserts)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from plant.db import connect
from plant.gen.model import Clock, Lot, Plant
from plant.gen.warehouse import allocations, stock_status
from plant.tables import SCHEMAS


def remove_databases(data_dir: Path) -> None:
    for system in SCHEMAS:
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"{system}.db{suffix}").unlink(missing_ok=True)


def _fill(path: Path, schema: str, tables: dict[str, Iterable[Sequence[Any]]]) -> None:
    conn = connect(path, bulk=True)
    try:
        conn.executescript(schema)
        conn.execute("BEGIN")
        for table, rows in tables.items():
            rows = list(rows)
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def write_plant(plant: Plant, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    remove_databases(data_dir)
    clock = Clock(plant.base)
    _fill(data_dir / "erp.db", SCHEMAS["erp"], _erp(plant, clock))
    _fill(data_dir / "qms.db", SCHEMAS["qms"], _qms(plant, clock))
    _fill(data_dir / "mes.db", SCHEMAS["mes"], _mes(plant, clock))
    _fill(data_dir / "wms.db", SCHEMAS["wms"], _wms(plant, clock))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _erp(plant: Plant, clock: Clock) -> dict[str, Iterable[Sequence[Any]]]:
    orders: list[Sequence[Any]] = []
    shipments: list[Sequence[Any]] = []
    shipment_lots: list[Sequence[Any]] = []
    for order in plant.orders:
        lines = [{"line_no": n, "product_id": p.id, "quantity": q, "uom": p.uom} for n, p, q in order.lines]
        credit, delivery = order.credit_block_t, order.delivery_block
        orders.append(
            (
                order.id,
                order.customer.id,
                order.status,
                clock.day(order.order_day),
                clock.day(order.requested_day),
                int(credit is not None),
                clock.stamp(credit) if credit is not None else None,
                int(delivery is not None),
                delivery[1] if delivery else None,
                clock.stamp(delivery[0]) if delivery else None,
                _json(lines),
            )
        )
        for shipment in order.shipments:
            ship_lines = [
                {
                    "line_no": line.line_no,
                    "order_line_no": line.order_line_no,
                    "product_id": line.product.id,
                    "quantity": line.quantity,
                    "uom": line.product.uom,
                    "lots": [{"lot_id": lot.id, "quantity": qty} for lot, qty in line.lots],
                }
                for line in shipment.lines
            ]
            shipped_at = clock.stamp(shipment.shipped_t) if shipment.shipped_t is not None else None
            shipments.append(
                (
                    shipment.id,
                    order.id,
                    order.customer.id,
                    shipment.status,
                    "WH01",
                    clock.day(shipment.ship_day),
                    shipped_at,
                    _json(ship_lines),
                )
            )
            lot_ids = dict.fromkeys(lot.id for line in shipment.lines for lot, _ in line.lots)
            shipment_lots.extend((lot_id, shipment.id) for lot_id in lot_ids)
    return {
        "customers": [(c.id, c.name, c.country, int(c.coa_required)) for c in plant.customers],
        "products": [(p.id, p.name, p.uom, int(p.coa_required), p.shelf_life_days) for p in plant.products],
        "orders": orders,
        "shipments": shipments,
        "shipment_lots": shipment_lots,
    }


def _qms(plant: Plant, clock: Clock) -> dict[str, Iterable[Sequence[Any]]]:
    def quality(lot: Lot) -> Sequence[Any]:
        issued = clock.stamp(min(lot.t + 1.0, -0.1)) if lot.coa else None
        return (
            lot.id,
            lot.product.id,
            lot.disposition,
            clock.stamp(lot.disposition_t),
            clock.day(lot.expiry_day),
            f"COA-{lot.id[4:]}" if lot.coa else None,
            issued,
            lot.pre_hold,
        )

    holds = [
        (
            n,
            h.id,
            h.lot.id,
            "ACTIVE" if h.released_t is None else "RELEASED",
            h.reason_code,
            h.comment,
            h.placed_by,
            clock.stamp(h.placed_t),
            h.released_by,
            clock.stamp(h.released_t) if h.released_t is not None else None,
            "investigation closed" if h.released_t is not None else None,
            None,
            None,
        )
        for n, h in enumerate(plant.holds, 1)
    ]
    deviations = [
        (
            n,
            d.id,
            d.lot.id,
            "OPEN" if d.closed_t is None else "CLOSED",
            d.severity,
            d.title,
            clock.stamp(d.opened_t),
            clock.stamp(d.closed_t) if d.closed_t is not None else None,
            None,
        )
        for n, d in enumerate(plant.deviations, 1)
    ]
    return {"quality_lots": map(quality, plant.lots), "holds": holds, "deviations": deviations}


def _mes(plant: Plant, clock: Clock) -> dict[str, Iterable[Sequence[Any]]]:
    lots = plant.lots
    rows = [
        (
            lot.id,
            lot.product.id,
            lot.kind,
            lot.quantity,
            "kg",
            clock.stamp(lot.t),
            lot.plant,
            lot.work_order,
            lot.supplier,
        )
        for lot in lots
    ]
    edges = [
        (lots[i].id, lot.id, qty, lots[i].product.uom, lot.work_order, clock.stamp(lot.t - 0.1))
        for lot in lots
        for i, qty in zip(lot.inputs, lot.edge_qty, strict=True)
    ]
    return {"lots": rows, "genealogy": edges}


def _wms(plant: Plant, clock: Clock) -> dict[str, Iterable[Sequence[Any]]]:
    stock = []
    for lot in plant.lots:
        remaining = lot.remaining
        if remaining <= 0.05:
            continue
        status = stock_status(lot)
        since = clock.stamp(max(lot.disposition_t, lot.t + 0.1) if status != "UNRESTRICTED" else lot.t + 0.1)
        second = plant.extra_stock_locations.get(lot.idx)
        if second is None:
            stock.append((lot.id, lot.location, remaining, lot.product.uom, status, since))
        else:
            first_qty = round(remaining * 0.6, 1)
            stock.append((lot.id, lot.location, first_qty, lot.product.uom, status, since))
            stock.append((lot.id, second, round(remaining - first_qty, 1), lot.product.uom, status, since))
    progress, allocated = [], []
    for shipment in plant.shipments():
        if shipment.stage is None:
            continue
        shipped = shipment.stage == "SHIPPED"
        at = shipment.shipped_t if shipment.shipped_t is not None else min(shipment.ship_day - 0.5, -0.1)
        progress.append((shipment.id, shipment.stage, clock.stamp(at)))
        merged: dict[tuple[int, str], float] = {}
        for line_no, lot, qty in allocations(shipment):
            merged[(line_no, lot.id)] = round(merged.get((line_no, lot.id), 0.0) + qty, 1)
        lot_by_id = {lot.id: lot for _, lot, _ in allocations(shipment)}
        for (line_no, lot_id), qty in merged.items():
            lot = lot_by_id[lot_id]
            status = "UNRESTRICTED" if shipped else stock_status(lot)
            allocated.append((shipment.id, line_no, lot_id, lot.location, qty, status))
    return {"stock": stock, "shipments": progress, "allocations": allocated}
