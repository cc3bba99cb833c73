"""The expected answers, computed independently of the gateway: the plant's raw tables read with sqlite3 (or
Tryton's productions read over its API) and a plain breadth-first search over them."""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sources.tryton.client import TrytonRpc
from sources.tryton.mapping import SALE_STATUS, SHIPMENT_STATUS

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
    """Edges as rows (input lot, output lot, quantity, unit, work order, occurred at as ISO text)."""

    def __init__(self, rows: list[tuple[Any, ...]], lots: set[str]) -> None:
        self.lots = lots
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

    def most(self, links: dict[str, list[str]], among: set[str] | None = None) -> str:
        """The lot with the most ``links`` (inputs or outputs), lowest id first among equals."""
        return min((lot for lot in links if among is None or lot in among), key=lambda lot: (-len(links[lot]), lot))

    def widest(self, among: set[str]) -> str:
        """The lot of ``among`` whose forward closure is largest."""
        return min(among, key=lambda lot: (-len(self.closure(lot, forward=True, max_depth=100).depth), lot))


def plant_genealogy(plant_dir: Path) -> Genealogy:
    with read_only(plant_dir / "mes.db") as db:
        rows = db.execute(
            "SELECT input_lot_id, output_lot_id, quantity, uom, work_order_id, occurred_at FROM genealogy"
        ).fetchall()
        lots = {row[0] for row in db.execute("SELECT id FROM lots")}
    return Genealogy(rows, lots)


async def tryton_genealogy(rpc: TrytonRpc) -> Genealogy:
    """Tryton's done productions: each done input move (its lot, quantity and unit) towards each done output lot,
    the production's number as work order and its effective date (midnight UTC) as the time."""
    fields = ["number", "effective_date", "inputs.lot.number", "inputs.quantity", "inputs.unit.symbol"]
    fields += ["inputs.state", "outputs.lot.number", "outputs.state"]
    rows = []
    for p in await rpc.search_read("production", [("state", "=", "done")], fields):
        outputs = [m["lot."]["number"] for m in p["outputs."] if m["state"] == "done" and m.get("lot.")]
        at = f"{p['effective_date'].isoformat()}T00:00:00+00:00"
        for m in p["inputs."]:
            if m["state"] == "done" and m.get("lot."):
                lot, unit = m["lot."]["number"], m["unit."]["symbol"]
                rows += [(lot, out, m["quantity"], unit, p["number"], at) for out in outputs]
    lots = {r["number"] for r in await rpc.search_read("stock.lot", [], ["number"])}
    return Genealogy(rows, lots)


@dataclass(frozen=True)
class Records:
    """What the systems of record hold, read without lotgraph: dispositions (QMS), stock per lot as (location,
    status, quantity) (WMS), shipments as (status, customer id, order id) and the lots they carry, and order statuses
    (ERP)."""

    dispositions: dict[str, str]
    stock: dict[str, set[tuple[str, str, float]]]
    shipments: dict[str, tuple[str, str, str]]
    carried: dict[str, set[str]]
    orders: dict[str, str]

    def shipments_of(self, lot_ids: set[str]) -> dict[str, tuple[str, str, str]]:
        """Shipments carrying any of ``lot_ids``."""
        return {s: row for s, row in self.shipments.items() if self.carried.get(s, set()) & lot_ids}


def plant_records(plant_dir: Path) -> Records:
    """The reference plant's raw tables."""
    with read_only(plant_dir / "erp.db") as db:
        carried: dict[str, set[str]] = {}
        for lot, shipment in db.execute("SELECT lot_id, shipment_id FROM shipment_lots"):
            carried.setdefault(shipment, set()).add(lot)
        rows = db.execute("SELECT id, status, customer_id, order_id FROM shipments").fetchall()
        orders = dict(db.execute("SELECT id, status FROM orders").fetchall())
    stock: dict[str, set[tuple[str, str, float]]] = {}
    with read_only(plant_dir / "wms.db") as db:
        for lot, location, status, quantity in db.execute("SELECT lot_id, location, status, quantity FROM stock"):
            stock.setdefault(lot, set()).add((location, status, quantity))
    shipments = {row[0]: (row[1], row[2], row[3]) for row in rows}
    return Records(qms_dispositions(plant_dir), stock, shipments, carried, orders)


def qms_dispositions(plant_dir: Path) -> dict[str, str]:
    with read_only(plant_dir / "qms.db") as db:
        return dict(db.execute("SELECT lot_id, disposition FROM quality_lots").fetchall())


async def tryton_records(rpc: TrytonRpc, qms_dir: Path) -> Records:
    """Tryton's shipments, sales and stock (ERP, WMS), with the dispositions of the contract QMS beside it.

    Stock is summed over the done moves of each lot into and out of the warehouse's storage zone (``STO``,
    UNRESTRICTED) and the quarantine (``QUA``, BLOCKED); statuses are mapped as docs/sources.md writes them down."""
    fields = ["number", "state", "customer.code", "inventory_moves.lot.number", "outgoing_moves.sale.number"]
    shipments: dict[str, tuple[str, str, str]] = {}
    carried: dict[str, set[str]] = {}
    for r in await rpc.search_read("stock.shipment.out", [], fields):
        sales = [m["sale."]["number"] for m in r["outgoing_moves."] if m.get("sale.")]
        shipments[r["number"]] = (SHIPMENT_STATUS[r["state"]].value, r["customer."]["code"], sales[0] if sales else "")
        carried[r["number"]] = {m["lot."]["number"] for m in r["inventory_moves."] if m.get("lot.")}
    orders = {
        r["number"]: SALE_STATUS[r["state"]].value for r in await rpc.search_read("sale.sale", [], ["number", "state"])
    }
    places = {"STO": "UNRESTRICTED", "QUA": "BLOCKED"}
    moved: dict[tuple[str, str], float] = {}
    domain = [("state", "=", "done"), ("lot", "!=", None)]
    for m in await rpc.search_read(
        "stock.move", domain, ["lot.number", "quantity", "from_location.code", "to_location.code"]
    ):
        lot = m["lot."]["number"]
        for end, sign in (("to_location.", 1.0), ("from_location.", -1.0)):
            code = (m.get(end) or {}).get("code")
            if code in places:
                moved[(lot, code)] = moved.get((lot, code), 0.0) + sign * m["quantity"]
    stock: dict[str, set[tuple[str, str, float]]] = {}
    for (lot, code), quantity in moved.items():
        if quantity > 0:
            stock.setdefault(lot, set()).add((code, places[code], quantity))
    return Records(qms_dispositions(qms_dir), stock, shipments, carried, orders)
