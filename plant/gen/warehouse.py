"""Warehouse data: where each lot's stock lies, its status, and the allocation and stage of shipments."""

from __future__ import annotations

import random

from plant.gen.model import Lot, Plant, Shipment

AREAS = {"RAW": "RM", "INTERMEDIATE": "WIP", "FINISHED": "FG"}


def place_stock(rng: random.Random, plant: Plant) -> None:
    """A storage bin per lot; some unallocated finished lots are spread over two bins."""
    for lot in plant.lots:
        lot.location = _bin(rng, AREAS[lot.kind])
        if lot.kind == "FINISHED" and lot.assigned == 0 and lot.remaining > 50 and rng.random() < 0.25:
            second = _bin(rng, "FG")
            if second != lot.location:
                plant.extra_stock_locations[lot.idx] = second


def _bin(rng: random.Random, area: str) -> str:
    return f"{area}-{'ABCDEFGH'[rng.randrange(8)]}-{rng.randint(1, 40):02d}-{rng.randint(1, 5)}"


def stock_status(lot: Lot) -> str:
    if lot.stock_status is not None:
        return lot.stock_status
    if lot.disposition == "PENDING":
        return "QUALITY_INSPECTION"
    if lot.disposition in ("REJECTED", "RECALLED", "EXPIRED", "ON_HOLD"):
        return "BLOCKED"
    return "UNRESTRICTED"


def allocations(shipment: Shipment) -> list[tuple[int, Lot, float]]:
    """What the WMS allocated: the ERP lots of every line unless a scenario says otherwise."""
    if shipment.allocations is not None:
        return shipment.allocations
    return [(line.line_no, lot, qty) for line in shipment.lines for lot, qty in line.lots]
