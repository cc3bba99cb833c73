"""Readiness over a live Tryton: the same rules (resolvers/readiness.py) over the Tryton ports.

READY only when Tryton says the shipment is packed (its moves assigned, its lots picked), its sale is confirmed and
no lot of it is on hold, quarantined, alerted or awaiting inspection.
"""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.readiness.model import BlockerCode, ReadinessStatus
from resolvers.readiness.service import decide
from sources.bundle import Sources
from sources.records import WarehouseStage


def codes(readiness: Any) -> set[str]:
    return {b.code.value for b in readiness.blockers}


async def test_packed_shipments_with_released_lots_are_ready(sources: Sources, manifest: dict[str, Any]) -> None:
    ids = manifest["shipments"]["packed"]
    decided = await decide(sources, WarehouseStage.STAGED, ids)
    assert [(r.shipment_id, r.status, codes(r)) for r in decided] == [(i, ReadinessStatus.READY, set()) for i in ids]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("packed-hold", {BlockerCode.LOT_ON_HOLD, BlockerCode.STOCK_BLOCKED}),
        ("packed-pending", {BlockerCode.LOT_NOT_RELEASED}),
        ("packed-alert", {BlockerCode.OPEN_DEVIATION}),
        ("assigned", {BlockerCode.PICKING_INCOMPLETE}),
        ("picked", {BlockerCode.NOT_STAGED}),
        ("confirmed-waiting", {BlockerCode.ALLOCATION_INCOMPLETE}),
    ],
)
async def test_blocked_shipments_name_their_blockers(
    sources: Sources, manifest: dict[str, Any], step: str, expected: set[BlockerCode]
) -> None:
    shipment_id = manifest["shipments"][step][0]
    (decided,) = await decide(sources, WarehouseStage.STAGED, [shipment_id])
    assert decided.status is ReadinessStatus.NOT_READY
    assert {c.value for c in expected} <= codes(decided), decided.blockers


async def test_shipped_shipments_are_not_open(sources: Sources, manifest: dict[str, Any]) -> None:
    decided = await decide(sources, WarehouseStage.STAGED, manifest["shipments"]["done"])
    assert {r.status for r in decided} == {ReadinessStatus.NOT_READY}
    assert all(BlockerCode.SHIPMENT_NOT_OPEN.value in codes(r) for r in decided)
