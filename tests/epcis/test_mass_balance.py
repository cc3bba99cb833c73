"""Mass balance on a generated plant: every lot of a trace balances to the last 0.1 kg the generator writes, and
losses put in by hand come out exactly, flagged."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from resolvers.traceability import mass_balance
from sources.records import GenealogyEdge, Lot, LotKind
from tests.conftest import FreshPlant

TRACE = """query($lot: ID!) { recallImpact(lotId: $lot) { massBalance {
    balanced flaggedLots
    lots { lotId uom produced consumed shipped inStock unaccounted balanced unconverted }
    transformations { workOrder outputLotIds inputQuantity outputQuantity difference yieldPercent }
} } }"""


def expected(folder: Path, lot_ids: set[str]) -> dict[str, tuple[float, float, float, float]]:
    """Produced, consumed, shipped and in stock per lot, read straight from the plant's tables."""
    with closing(sqlite3.connect(folder / "mes.db")) as mes:
        produced = dict(mes.execute("SELECT id, quantity FROM lots").fetchall())
        consumed: dict[str, float] = {}
        for lot, quantity in mes.execute("SELECT input_lot_id, quantity FROM genealogy"):
            consumed[lot] = consumed.get(lot, 0.0) + quantity
    with closing(sqlite3.connect(folder / "wms.db")) as wms:
        stock: dict[str, float] = {}
        for lot, quantity in wms.execute("SELECT lot_id, quantity FROM stock"):
            stock[lot] = stock.get(lot, 0.0) + quantity
    with closing(sqlite3.connect(folder / "erp.db")) as erp:
        shipped: dict[str, float] = {}
        for (lines,) in erp.execute("SELECT lines FROM shipments WHERE status = 'SHIPPED'"):
            for line in json.loads(lines):
                for assignment in line["lots"]:
                    shipped[assignment["lot_id"]] = shipped.get(assignment["lot_id"], 0.0) + assignment["quantity"]
    return {lot: (produced[lot], consumed.get(lot, 0.0), shipped.get(lot, 0.0), stock.get(lot, 0.0)) for lot in lot_ids}


async def balance(fresh: FreshPlant, lot: str) -> dict[str, Any]:
    body = await fresh.gateway.query(TRACE, {"lot": lot})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recallImpact"]["massBalance"]
    return result


async def test_generated_plant_balances_and_known_losses_are_flagged(fresh_plant: FreshPlant, tmp_path: Path) -> None:
    root = fresh_plant.manifest["demo"]["lot_forward"]
    before = await balance(fresh_plant, root)
    lots = {b["lotId"]: b for b in before["lots"]}
    assert len(lots) > 10
    want = expected(tmp_path / "plant", set(lots))
    for lot_id, b in lots.items():
        assert (b["produced"], b["consumed"], b["shipped"], b["inStock"]) == tuple(round(v, 6) for v in want[lot_id])
        assert abs(b["unaccounted"]) <= 0.0005, b
        assert b["balanced"], b
    assert before["balanced"]

    # losses nobody booked: 12.5 kg of one lot's stock and 3 kg of another's go missing
    stocked = [lot for lot, b in lots.items() if b["inStock"] > 20]
    losses = {stocked[0]: 12.5, stocked[1]: 3.0}
    with closing(sqlite3.connect(tmp_path / "plant" / "wms.db")) as wms, wms:
        for lot, loss in losses.items():
            location = wms.execute("SELECT location FROM stock WHERE lot_id = ? LIMIT 1", (lot,)).fetchone()[0]
            wms.execute(
                "UPDATE stock SET quantity = quantity - ? WHERE lot_id = ? AND location = ?", (loss, lot, location)
            )
    after = await balance(fresh_plant, root)
    assert (after["balanced"], after["flaggedLots"]) == (False, 2)
    flagged = {b["lotId"]: b["unaccounted"] for b in after["lots"] if not b["balanced"]}
    assert flagged == losses


def test_transformation_balance_converts_units_and_lists_what_it_cannot() -> None:
    def lot(lot_id: str, quantity: float, uom: str) -> Lot:
        return Lot(lot_id, "P1", LotKind.INTERMEDIATE, quantity, uom, None, None, "WO-1", None)

    def edge(source: str, quantity: float | None, uom: str | None) -> GenealogyEdge:
        return GenealogyEdge(source, "OUT", quantity, uom, "WO-1", None)

    masters = {"OUT": lot("OUT", 1.2, "t")}
    edges = {"OUT": [edge("A", 800.0, "kg"), edge("B", 500_000.0, "g"), edge("C", 20.0, "L"), edge("D", None, None)]}
    (t,) = mass_balance.transformations(["OUT"], masters, edges)
    assert (t.uom, t.input_quantity, t.output_quantity, t.difference) == ("kg", 1300.0, 1200.0, -100.0)
    assert t.unconverted == ["20 L", "(no quantity)"]
    (b,) = mass_balance.lots(["OUT"], masters, {"OUT": [GenealogyEdge("OUT", "X", 2.2, "lb", None, None)]}, [], {})
    assert (b.produced, b.consumed, b.unaccounted, b.balanced) == (1200.0, 0.997903, 1199.002097, False)
