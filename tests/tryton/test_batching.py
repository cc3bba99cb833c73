"""Batching, counted on Tryton's side (the counting proxy): calls per query do not grow with the page size."""

from __future__ import annotations

from typing import Any

from resolvers.genealogy.model import TraceDirection
from resolvers.genealogy.trace import trace
from resolvers.readiness.service import decide
from sources.bundle import Sources
from sources.records import ShipmentFilter, WarehouseStage
from tests.tryton_server import Tryton, context


async def calls_for(tryton: Tryton, work: Any) -> int:
    tryton.proxy.reset()
    await work
    return tryton.proxy.data_calls


async def test_readiness_calls_do_not_grow_with_shipments(
    tryton: Tryton, sources: Sources, manifest: dict[str, Any]
) -> None:
    everything = [s for ids in manifest["shipments"].values() for s in ids]
    first = manifest["shipments"]["packed"][:1]  # a shipment with lots: every read of a decision runs
    await decide(sources, WarehouseStage.STAGED, first)  # logs in; asks once for the credit module
    one = await calls_for(tryton, decide(sources, WarehouseStage.STAGED, first))
    many = await calls_for(tryton, decide(sources, WarehouseStage.STAGED, everything))
    assert len(everything) > 10
    assert many == one
    # ERP 1 (shipments with customer, products and sale by dotted paths), QMS 3 (lots, the production moves that
    # made them, their inspections), WMS 2 (shipments, quarantined stock of their lots): 9 before the ERP's read
    assert one <= 6


async def test_genealogy_makes_one_call_per_level(tryton: Tryton, sources: Sources, manifest: dict[str, Any]) -> None:
    lot = manifest["lots"]["raw"][0]
    await sources.mes.lots([lot])  # logs in
    tryton.proxy.reset()
    walked, _ = await trace(context(sources), lot, TraceDirection.FORWARD, 20)
    levels = walked.depth
    # per level: one edge read; lot masters: one lot read and one origin-move read per level
    assert tryton.proxy.data_calls <= 3 * (levels + 1)


async def test_search_pages_cost_the_same_whatever_their_size(tryton: Tryton, sources: Sources) -> None:
    await sources.erp.search_shipments(ShipmentFilter(), limit=1, after=None)
    small = await calls_for(tryton, sources.erp.search_shipments(ShipmentFilter(), limit=2, after=None))
    large = await calls_for(tryton, sources.erp.search_shipments(ShipmentFilter(), limit=200, after=None))
    assert small == large == 2
