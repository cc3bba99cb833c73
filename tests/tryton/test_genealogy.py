"""Genealogy over a live Tryton: lotgraph's walk over the Tryton MES port equals Tryton's own ``stock.lot.trace``."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.genealogy.model import TraceDirection
from resolvers.genealogy.trace import trace
from sources.bundle import Sources
from sources.records import LotKind
from sources.tryton.client import TrytonRpc
from sources.tryton.mes import TrytonMes
from tests.tryton_server import context


async def tryton_trace(rpc: TrytonRpc, lot: str, towards: str) -> set[str]:
    """Every lot Tryton's ``stock.lot.trace`` reaches from ``lot`` (``upward_traces``: where used, forward;
    ``downward_traces``: where from, backward), walked breadth first over its trace records."""
    found = await rpc.search_read("stock.lot.trace", [("lot.number", "=", lot)], ["id"])
    frontier, seen, lots = [r["id"] for r in found], set(), {lot}
    while frontier:
        seen.update(frontier)
        records = await rpc.read("stock.lot.trace", frontier, ["lot.number", towards])
        lots.update(r["lot."]["number"] for r in records if r.get("lot."))
        frontier = sorted({t for r in records for t in r[towards]} - seen)
    return lots


def mes_rpc(sources: Sources) -> TrytonRpc:
    assert isinstance(sources.mes, TrytonMes)
    return sources.mes.rpc


@pytest.mark.parametrize(
    ("direction", "towards", "start"),
    [
        (TraceDirection.FORWARD, "upward_traces", "raw"),
        (TraceDirection.BACKWARD, "downward_traces", "finished"),
    ],
)
async def test_a_walk_equals_trytons_own_trace(
    sources: Sources, manifest: dict[str, Any], direction: TraceDirection, towards: str, start: str
) -> None:
    for lot in manifest["lots"][start][:2]:
        walked, refs = await trace(context(sources), lot, direction, 20)
        assert walked.truncation is None
        assert set(walked.lot_ids) == await tryton_trace(mes_rpc(sources), lot, towards)
        assert all(ref.record is not None for ref in refs)


async def test_edges_carry_quantities_units_and_the_production(sources: Sources, manifest: dict[str, Any]) -> None:
    lot = manifest["lots"]["finished"][0]
    edges = (await sources.mes.edges_into([lot]))[lot]
    assert edges
    for edge in edges:
        assert edge.output_lot_id == lot
        assert edge.quantity
        assert edge.quantity > 0
        assert edge.uom == "kg"
        assert edge.work_order_id
        assert edge.occurred_at is not None
    back = await sources.mes.edges_out_of([e.input_lot_id for e in edges])
    assert {(e.input_lot_id, e.output_lot_id) for es in back.values() for e in es} >= {
        (e.input_lot_id, e.output_lot_id) for e in edges
    }


async def test_lot_masters_and_kinds(sources: Sources, manifest: dict[str, Any]) -> None:
    raw, finished = manifest["lots"]["raw"][0], manifest["lots"]["finished"][0]
    lots = await sources.mes.lots([raw, finished, "NO-SUCH-LOT"])
    assert set(lots) == {raw, finished}
    assert lots[raw].kind is LotKind.RAW
    assert lots[raw].quantity == 100.0
    assert lots[raw].work_order_id is None
    assert lots[finished].kind is LotKind.FINISHED
    assert lots[finished].work_order_id
    assert lots[finished].plant == "WH"
    page = await sources.mes.search_lots(product_id=None, plant=None, kind=LotKind.RAW, limit=5, after=None)
    assert len(page.items) == 5
    assert page.has_more
    assert all(lot.kind is LotKind.RAW for lot in page.items)
    after = await sources.mes.search_lots(
        product_id=None, plant=None, kind=LotKind.RAW, limit=5, after=page.items[-1].id
    )
    assert not {lot.id for lot in after.items} & {lot.id for lot in page.items}
