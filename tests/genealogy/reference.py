"""The expected answers, computed independently of the gateway: the plant's raw tables read with sqlite3 and a
plain breadth-first search over them."""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Edge = tuple[str, str]


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        yield db


@dataclass(frozen=True)
class Closure:
    depth: dict[str, int]
    """Every lot reached (the root at 0), at its shortest distance."""
    edges: set[Edge]
    """Every edge (input, output) between two lots of the closure, in the walk's direction."""
    truncated: bool
    """A lot at the last allowed depth still has an edge to a lot outside the closure."""


class Genealogy:
    def __init__(self, plant_dir: Path) -> None:
        with read_only(plant_dir / "mes.db") as db:
            rows = db.execute(
                "SELECT input_lot_id, output_lot_id, quantity, uom, work_order_id, occurred_at FROM genealogy"
            ).fetchall()
            self.lots = {row[0] for row in db.execute("SELECT id FROM lots")}
        self.rows: dict[Edge, tuple[Any, ...]] = {(r[0], r[1]): r for r in rows}
        self.inputs: dict[str, list[str]] = {}
        self.outputs: dict[str, list[str]] = {}
        for source, target in self.rows:
            self.outputs.setdefault(source, []).append(target)
            self.inputs.setdefault(target, []).append(source)

    def closure(self, root: str, forward: bool, max_depth: int) -> Closure:
        following = self.outputs if forward else self.inputs
        depth = {root: 0}
        queue = deque([root])
        truncated = False
        while queue:
            lot = queue.popleft()
            for other in following.get(lot, []):
                if other in depth:
                    continue
                if depth[lot] == max_depth:
                    truncated = True
                    continue
                depth[other] = depth[lot] + 1
                queue.append(other)
        edges = {
            (lot, other) if forward else (other, lot)
            for lot in depth
            for other in following.get(lot, [])
            if other in depth
        }
        return Closure(depth, edges, truncated)


def shipments_of(plant_dir: Path, lot_ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """Shipments carrying any of ``lot_ids``: id -> (status, customer id, order id)."""
    with read_only(plant_dir / "erp.db") as db:
        carried = {s for lot, s in db.execute("SELECT lot_id, shipment_id FROM shipment_lots") if lot in lot_ids}
        return {
            row[0]: (row[1], row[2], row[3])
            for row in db.execute("SELECT id, status, customer_id, order_id FROM shipments")
            if row[0] in carried
        }


def order_status(plant_dir: Path) -> dict[str, str]:
    with read_only(plant_dir / "erp.db") as db:
        return dict(db.execute("SELECT id, status FROM orders").fetchall())


def dispositions(plant_dir: Path) -> dict[str, str]:
    with read_only(plant_dir / "qms.db") as db:
        return dict(db.execute("SELECT lot_id, disposition FROM quality_lots").fetchall())


def stock(plant_dir: Path) -> dict[str, set[tuple[str, str, float]]]:
    """Stock per lot: (location, status, quantity)."""
    found: dict[str, set[tuple[str, str, float]]] = {}
    with read_only(plant_dir / "wms.db") as db:
        for lot, location, status, quantity in db.execute("SELECT lot_id, location, status, quantity FROM stock"):
            found.setdefault(lot, set()).add((location, status, quantity))
    return found
