"""The manifest: sizes, seed, and the ids of the interesting cases the generator built."""

from __future__ import annotations

from typing import Any

from plant.gen.genealogy import forward
from plant.gen.model import Lot, Order, Plant
from plant.gen.scenarios import Built


def _first_lot(plant: Plant, test: Any) -> Lot | None:
    return next((lot for lot in sorted(plant.lots, key=lambda lot: lot.id) if test(lot)), None)


def _id(item: Lot | Order | None) -> str | None:
    return item.id if item is not None else None


def build_manifest(plant: Plant, built: list[Built], wide: Lot, on_hold: list[Lot]) -> dict[str, Any]:
    lots = plant.lots
    shipments = plant.shipments()
    reach, depth, finished = forward(plant, wide)
    ready = [b.shipment.id for b in built if not b.case.expected and b.case.group != "demo"]
    blocked = [
        {"id": b.shipment.id, "expected": sorted(b.case.expected), "note": b.case.note}
        for b in built
        if b.case.expected
    ]
    groups = {b.case.group: b for b in built if b.case.group}
    first_case = {code: b for b in reversed(built) if len(b.case.expected) == 1 for code in b.case.expected}

    def split_lot(lot: Lot) -> bool:
        orders = [lots[c].work_order for c in lot.consumers]
        return len(lot.consumers) >= 3 and len(set(orders)) < len(orders)

    shipped_to: dict[str, set[str]] = {}
    for shipment in shipments:
        if shipment.status == "SHIPPED":
            for line in shipment.lines:
                for lot, _ in line.lots:
                    shipped_to.setdefault(lot.id, set()).add(shipment.order.customer.id)
    multi = sorted(lot_id for lot_id, customers in shipped_to.items() if len(customers) >= 2)
    several = [o for o in sorted(plant.orders, key=lambda o: o.id) if len(o.shipments) >= 2]
    completed = next((o for o in several if o.status == "COMPLETED"), None)
    demo = groups["demo"]
    ready_orders = [groups["ready"].shipment.order.id] + [
        b.shipment.order.id for b in built if not b.case.expected and not b.case.group
    ]
    counts = {
        "customers": len(plant.customers),
        "products": len(plant.products),
        "orders": len(plant.orders),
        "shipments": len(shipments),
        "shipments_open": sum(1 for s in shipments if s.status not in ("SHIPPED", "CANCELLED")),
        "lots": len(lots),
        "lots_raw": sum(1 for lot in lots if lot.kind == "RAW"),
        "lots_finished": sum(1 for lot in lots if lot.kind == "FINISHED"),
        "genealogy_edges": sum(len(lot.inputs) for lot in lots),
        "holds": len(plant.holds),
        "holds_active": sum(1 for h in plant.holds if h.released_t is None),
        "deviations": len(plant.deviations),
    }
    return {
        "seed": 0,
        "base_date": plant.base.isoformat(),
        "generation_seconds": 0.0,
        "genealogy": {"families": plant.families, "levels": plant.levels},
        "counts": counts,
        "shipments": {
            "ready": ready,
            "blocked": blocked,
            "shipped": sorted(s.id for s in shipments if s.status == "SHIPPED")[:5],
        },
        "orders": {
            "ready": ready_orders,
            "mixed": groups["mixed"].shipment.order.id,
            "credit_block": first_case["CREDIT_BLOCK"].shipment.order.id,
            "delivery_block": first_case["DELIVERY_BLOCK"].shipment.order.id,
            "not_released": first_case["ORDER_NOT_RELEASED"].shipment.order.id,
            "completed": _id(completed),
            "multi_shipment": [o.id for o in several[:5]],
        },
        "lots": {
            "merge": _id(_first_lot(plant, lambda lot: lot.kind == "INTERMEDIATE" and len(lot.inputs) >= 3)),
            "split": _id(_first_lot(plant, split_lot)),
            "multi_customer": multi[0] if multi else None,
            "raw_wide": wide.id,
            "raw_wide_reach": reach,
            "raw_wide_depth": depth,
            "raw_wide_finished": finished,
            "cycle": [lot.id for lot in lots[-4:-1]],
            "on_hold": on_hold[0].id,
            "held": [lot.id for lot in on_hold[:10]],
        },
        "demo": {
            "order": groups["ready"].shipment.order.id,
            "shipment_ready": ready[0],
            "shipment_blocked": first_case["LOT_ON_HOLD"].shipment.id,
            "lot_backward": built[0].lots[0].id,
            "lot_forward": wide.id,
            "lot_recall": multi[0] if multi else None,
            "hold_shipment": demo.shipment.id,
            "hold_lot": demo.lots[0].id,
        },
    }
