"""The deterministic plant generator: same seed, size and base date → the same four databases."""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from plant.gen.catalog import build_catalog, build_customers
from plant.gen.genealogy import GenealogyBuilder, assign_ids, families_for, levels_for
from plant.gen.manifest import build_manifest
from plant.gen.model import Plant
from plant.gen.quality import base_quality, quality_history
from plant.gen.sales import build_sales
from plant.gen.scenarios import ScenarioBuilder
from plant.gen.warehouse import place_stock
from plant.gen.write import write_plant

MIN_LOTS = 2000


def lots_argument(value: str) -> int:
    """argparse type of ``--lots``: a whole number, at least MIN_LOTS (every scenario needs room)."""
    try:
        lots = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if lots < MIN_LOTS:
        raise argparse.ArgumentTypeError(f"the plant needs at least {MIN_LOTS} lots, not {lots}")
    return lots


MANIFEST = "manifest.json"


def generate(
    data_dir: Path, *, seed: int = 7, lots: int = 2000, base_date: date | None = None, first_lot: int = 1
) -> dict[str, Any]:
    """Write ``erp.db``, ``qms.db``, ``mes.db``, ``wms.db`` and ``manifest.json`` into ``data_dir``; lot numbers
    start at ``first_lot`` (another site's plant numbers its lots apart)."""
    if lots < MIN_LOTS:
        raise ValueError(f"the plant needs at least {MIN_LOTS} lots, not {lots}")
    started = time.perf_counter()
    base = base_date or datetime.now(UTC).date()
    rng = random.Random(seed)
    plant = Plant(base)
    catalog = build_catalog(rng, plant, families_for(lots), levels_for(lots))
    build_customers(rng, plant, max(12, min(600, lots // 80)), plant.families)
    wide = GenealogyBuilder(rng, plant, catalog).build(lots)
    assign_ids(plant, first_lot)
    base_quality(rng, plant)
    built = ScenarioBuilder(rng, plant, catalog).reserve()
    build_sales(rng, plant, catalog, lots // 10 - len(plant.orders))
    on_hold = quality_history(rng, plant)
    place_stock(rng, plant)
    number_documents(plant)
    write_plant(plant, data_dir)
    manifest = build_manifest(plant, built, wide, on_hold)
    manifest["seed"] = seed
    manifest["generation_seconds"] = round(time.perf_counter() - started, 2)
    (data_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_manifest(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / MANIFEST
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def number_documents(plant: Plant) -> None:
    """Ids of orders, shipments, holds and deviations in date order."""
    orders = sorted(enumerate(plant.orders), key=lambda pair: (pair[1].order_day, pair[0]))
    for number, (_, order) in enumerate(orders, start=100001):
        order.id = f"SO-{number}"
    plant.orders = [order for _, order in orders]
    shipments = sorted(
        ((s.ship_day, o.id, i, s) for o in plant.orders for i, s in enumerate(o.shipments)), key=lambda t: t[:3]
    )
    for number, (*_, shipment) in enumerate(shipments, start=800001):
        shipment.id = f"DL-{number}"
    plant.holds.sort(key=lambda h: (h.placed_t, h.lot.id))
    for number, hold in enumerate(plant.holds, start=1):
        hold.id = f"H-{number:06d}"
    plant.deviations.sort(key=lambda d: (d.opened_t, d.lot.id))
    for number, deviation in enumerate(plant.deviations, start=1):
        deviation.id = f"DEV-{number:06d}"
