"""Lots and genealogy: raw material → intermediate steps → finished goods, per product family.

Each family is a chain of levels. A lot consumes one to three lots of the level below produced
shortly before it (merges); lots picked by several consumers, and batches of one work order split into
several lots, are splits. Raw materials come from the family's own suppliers, plus a few shared raw
materials used across families: one big delivery of those, ``raw_wide``, reaches far forward. Windows
hold a few candidates each, so the graph has locality: a family raw lot reaches part of its family only.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right

from plant.gen.catalog import PLANTS, SUPPLIERS, Catalog
from plant.gen.model import Lot, Plant, Product

SPAN = 420.0  # days of production history
CYCLE_LOTS = 5


def levels_for(lots: int) -> int:
    """Levels from raw to finished: 7 for 2,000 lots, 14 (depth 13) from 10,000 lots on."""
    return max(5, min(14, round(4 + 3 * math.log2(max(lots, 1000) / 1000))))


def families_for(lots: int) -> int:
    return max(3, min(40, lots // 5000))


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class Level:
    """The lots of one family at one level, sorted by time, for window lookups."""

    def __init__(self, lots: list[Lot]) -> None:
        self.lots = sorted(lots, key=lambda lot: (lot.t, lot.idx))
        self.times = [lot.t for lot in self.lots]
        self.window = max(5.0, 4.0 * SPAN / max(len(self.lots), 1))

    def pick(self, rng: random.Random, t: float, count: int, window: float | None = None) -> list[Lot]:
        """Up to ``count`` lots produced within ``window`` days before ``t`` (at least the latest one)."""
        if not self.lots:
            return []
        lo = bisect_left(self.times, t - (window or self.window))
        hi = bisect_right(self.times, t - 0.25)
        if hi == 0:
            return [self.lots[0]]
        lo = min(lo, hi - 1)
        return [self.lots[i] for i in rng.sample(range(lo, hi), min(count, hi - lo))]


class GenealogyBuilder:
    def __init__(self, rng: random.Random, plant: Plant, catalog: Catalog) -> None:
        self.rng = rng
        self.plant = plant
        self.catalog = catalog
        self.lots = plant.lots

    def new(self, product: Product, level: int, t: float, code: str, supplier: str | None = None) -> Lot:
        lot = Lot(len(self.lots), product, level, t, code, supplier)
        self.lots.append(lot)
        return lot

    def link(self, lot: Lot, inputs: list[Lot]) -> None:
        for source in inputs:
            if source.idx not in lot.inputs and source is not lot:
                lot.inputs.append(source.idx)
                lot.edge_qty.append(0.0)
                source.consumers.append(lot.idx)
        latest = max((self.lots[i].t for i in lot.inputs), default=lot.t - 1)
        if latest >= lot.t - 0.25:
            lot.t = latest + 0.3

    def build(self, total: int) -> Lot:
        """Create ``total`` lots with their genealogy; return the wide raw lot."""
        rng, catalog = self.rng, self.catalog
        families, levels = catalog.families, catalog.levels
        main = total - CYCLE_LOTS
        raw_total, finished_total = round(main * 0.14), round(main * 0.36)
        shared_total = max(8, raw_total // 25)
        inter_per = _split(main - raw_total - finished_total, families * (levels - 2))
        raw_per, finished_per = _split(raw_total - shared_total, families), _split(finished_total, families)

        shared_lots: list[list[Lot]] = [[] for _ in catalog.shared]
        for i in range(shared_total):
            s = i % len(catalog.shared)
            lot = self.new(catalog.shared[s], 0, rng.uniform(-SPAN - 5, -1), PLANTS[0], rng.choice(SUPPLIERS))
            lot.quantity = round(rng.uniform(4000, 12000), 1)
            shared_lots[s].append(lot)
        shared_levels = [Level(group) for group in shared_lots]
        wide = min(shared_lots[0], key=lambda lot: (abs(lot.t + 300), lot.idx))
        wide.quantity = 25000.0

        first_steps: list[Level] = []
        for family in range(families):
            code = PLANTS[family % len(PLANTS)]
            raws = []
            for _ in range(raw_per[family]):
                product = rng.choice(catalog.raw[family])
                lot = self.new(product, 0, rng.uniform(-SPAN - 5, -0.5), code, rng.choice(SUPPLIERS))
                lot.quantity = round(rng.uniform(800, 3000), 1)
                raws.append(lot)
            row = [Level(raws)]
            shared = [shared_levels[catalog.shared.index(p)] for p in catalog.shared_of[family]]
            for level in range(1, levels):
                if level < levels - 1:
                    count = inter_per[family * (levels - 2) + level - 1]
                    products = [catalog.steps[family][level - 1]]
                else:
                    count, products = finished_per[family], catalog.finished[family]
                start = -SPAN + 1.5 * level
                made = [self.new(rng.choice(products), level, rng.uniform(start, -0.2), code) for _ in range(count)]
                self.choose_inputs(made, row, level, shared)
                row.append(Level(made))
            first_steps.append(row[1])
        self.widen(wide, first_steps)
        self.quantities(levels)
        self.cycle_corner()
        return wide

    def choose_inputs(self, made: list[Lot], row: list[Level], level: int, shared: list[Level]) -> None:
        rng, levels = self.rng, self.catalog.levels
        made.sort(key=lambda lot: (lot.t, lot.idx))
        below, raw = row[level - 1], row[0]
        previous: Lot | None = None
        for lot in made:
            if previous is not None and rng.random() < 0.12:  # another batch of the same work order
                lot.t = previous.t + 0.01
                lot.batch_of = previous.batch_of if previous.batch_of >= 0 else previous.idx
                self.link(lot, [self.lots[i] for i in previous.inputs])
                previous = lot
                continue
            if level == 1:
                inputs = raw.pick(rng, lot.t, rng.choice((1, 2, 2, 3)), max(30.0, raw.window))
                if shared and rng.random() < 0.5:
                    inputs += rng.choice(shared).pick(rng, lot.t, 1, 45.0)
            else:
                finished = level == levels - 1
                inputs = below.pick(rng, lot.t, rng.choice((1, 1, 1, 2) if finished else (1, 2, 2, 3)))
                if not finished and rng.random() < 0.2:
                    inputs += raw.pick(rng, lot.t, 1, max(60.0, raw.window))
            self.link(lot, inputs)
            previous = lot

    def widen(self, wide: Lot, first_steps: list[Level]) -> None:
        """Make the big shared delivery an input of most first steps of every family for months.

        Small plants have fewer, sparser levels, so their delivery lasts longer to reach as far."""
        days, share = (60.0, 0.6) if self.catalog.levels >= 12 else (120.0, 0.8)
        for step in first_steps:
            for lot in step.lots:
                if wide.t + 0.5 < lot.t < wide.t + days and self.rng.random() < share:
                    self.link(lot, [wide])

    def quantities(self, levels: int) -> None:
        """Raw quantities are given; each lot hands most of itself to its consumers, level by level."""
        rng = self.rng
        by_level: list[list[Lot]] = [[] for _ in range(levels)]
        for lot in self.lots:
            by_level[lot.level].append(lot)
        for level, group in enumerate(by_level):
            for lot in group:
                if level > 0:
                    lot.quantity = max(round(sum(lot.edge_qty) * rng.uniform(1.0, 1.3), 1), 1.0)
                if not lot.consumers:
                    continue
                share = lot.quantity * rng.uniform(0.75, 0.98)
                weights = [rng.uniform(0.6, 1.4) for _ in lot.consumers]
                scale = share / sum(weights)
                for consumer_idx, weight in zip(lot.consumers, weights, strict=True):
                    consumer = self.lots[consumer_idx]
                    qty = max(round(weight * scale, 1), 0.1)
                    consumer.edge_qty[consumer.inputs.index(lot.idx)] = qty
                    lot.consumed += qty

    def cycle_corner(self) -> None:
        """Bad source data: a rework loop recorded as A → B → C → A, fed by a raw lot, feeding a finished lot."""
        raw_p, blend, granulate = self.catalog.rework
        code = PLANTS[1]
        raw = self.new(raw_p, 0, -60.0, code, SUPPLIERS[0])
        a, b, c = (self.new(blend, 1, t, code) for t in (-50.0, -49.5, -49.0))
        finished = self.new(granulate, 2, -45.0, code)
        raw.quantity, a.quantity, b.quantity, c.quantity, finished.quantity = 500.0, 430.0, 400.0, 380.0, 290.0
        for source, target, qty in ((raw, a, 420.0), (a, b, 410.0), (b, c, 395.0), (c, a, 40.0), (c, finished, 300.0)):
            target.inputs.append(source.idx)
            target.edge_qty.append(qty)
            source.consumers.append(target.idx)
            source.consumed += qty


def assign_ids(plant: Plant, first_lot: int = 1) -> None:
    """Lot ids in production order (numbered from ``first_lot``); one work order per produced lot, shared by
    batches split from it."""
    work_orders: dict[int, str] = {}
    for number, lot in enumerate(sorted(plant.lots, key=lambda lot: (lot.t, lot.idx)), start=first_lot):
        lot.id = f"LOT-{number:06d}"
        if lot.kind == "RAW":
            continue
        group = lot.batch_of if lot.batch_of >= 0 else lot.idx
        if group not in work_orders:
            work_orders[group] = f"WO-{len(work_orders) + 1:07d}"
        lot.work_order = work_orders[group]


def forward(plant: Plant, start: Lot) -> tuple[int, int, int]:
    """How many lots ``start`` reaches forward, in how many trace levels, and how many are finished goods."""
    seen = {start.idx}
    frontier = [start.idx]
    depth = 0
    while frontier:
        following = []
        for idx in frontier:
            for consumer in plant.lots[idx].consumers:
                if consumer not in seen:
                    seen.add(consumer)
                    following.append(consumer)
        if following:
            depth += 1
        frontier = following
    finished = sum(1 for idx in seen if plant.lots[idx].kind == "FINISHED")
    return len(seen) - 1, depth, finished
