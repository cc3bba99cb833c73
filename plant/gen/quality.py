"""Quality data: expiry, dispositions and certificates of every lot, and the history of holds and deviations."""

from __future__ import annotations

import math
import random

from plant.gen.model import Deviation, Hold, Lot, Plant

REASONS = ["CONTAMINATION_SUSPECTED", "SPEC_DEVIATION", "CUSTOMER_COMPLAINT", "DOCUMENTATION", "SUPPLIER_NOTICE"]
PEOPLE = ["qa.weber", "qa.schmidt", "qa.okafor", "qa.lindqvist", "qa.moreau", "qc.tanaka"]
DEVIATIONS = [
    "Particle size out of trend",
    "Moisture above alert limit",
    "Label reconciliation gap",
    "Temperature excursion in storage",
    "Batch record missing signature",
    "Foreign particle found at sieving",
]


def base_quality(rng: random.Random, plant: Plant) -> None:
    """Released after inspection unless produced in the last days; expired past the expiry date."""
    for lot in plant.lots:
        lot.expiry_day = math.floor(lot.t) + lot.product.shelf_life_days
        if lot.kind == "FINISHED" and lot.t > -4:
            lot.disposition, lot.disposition_t, lot.coa = "PENDING", lot.t + 0.05, False
            continue
        lot.disposition_t = min(lot.t + rng.uniform(0.3, 1.5), -0.05)
        lot.coa = lot.kind == "RAW" or (lot.kind == "FINISHED" and (lot.product.coa_required or rng.random() < 0.8))
        if lot.expiry_day < 0:
            lot.disposition, lot.disposition_t = "EXPIRED", lot.expiry_day + 0.01


def quality_history(rng: random.Random, plant: Plant) -> list[Lot]:
    """Released holds, deviations, some active holds and rejections; returns the lots now on hold."""
    candidates = [lot for lot in plant.lots if not lot.reserved and lot.product.family < plant.families]
    count = len(plant.lots)
    for lot in rng.sample(candidates, max(3, count * 15 // 1000)):
        placed = lot.t + rng.uniform(0.5, 5)
        released = placed + rng.uniform(0.5, 10)
        if released < -0.5:
            reason = rng.choice(REASONS)
            hold = Hold(lot, reason, f"{reason.replace('_', ' ').lower()}", rng.choice(PEOPLE), placed)
            hold.released_t, hold.released_by = released, rng.choice(PEOPLE)
            plant.holds.append(hold)
    for lot in rng.sample(candidates, max(3, count * 2 // 100)):
        opened = lot.t + rng.uniform(0.2, 3)
        closed = opened + rng.uniform(1, 20)
        if closed < -0.5:
            severity = rng.choice(("MINOR", "MINOR", "MAJOR"))
            plant.deviations.append(Deviation(lot, severity, rng.choice(DEVIATIONS), opened, closed))
    recent = [lot for lot in candidates if -60 < lot.t < -1]
    for lot in rng.sample(recent, min(len(recent), max(2, count // 500))):
        plant.deviations.append(Deviation(lot, "MINOR", rng.choice(DEVIATIONS), lot.t + 0.5))
    free = [
        lot
        for lot in candidates
        if lot.kind == "FINISHED" and lot.assigned == 0 and lot.disposition == "RELEASED" and -90 < lot.t < -5
    ]
    picked = rng.sample(free, min(len(free), max(6, count * 4 // 1000)))
    held, rejected = picked[: len(picked) * 2 // 3], picked[len(picked) * 2 // 3 :]
    for lot in held:
        placed = -rng.uniform(0.5, 10)
        reason = rng.choice(REASONS)
        plant.holds.append(Hold(lot, reason, "placed during routine review", rng.choice(PEOPLE), placed))
        lot.pre_hold, lot.disposition, lot.disposition_t = lot.disposition, "ON_HOLD", placed
        lot.stock_status = "BLOCKED" if rng.random() < 0.75 else "UNRESTRICTED"
    for lot in rejected:
        lot.disposition, lot.disposition_t = "REJECTED", lot.t + rng.uniform(1, 3)
    return sorted(held, key=lambda lot: lot.id)
