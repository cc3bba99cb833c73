"""Holds on Tryton: the QMS records a hold as a failed hold inspection with its alert, the WMS moves the lot's
unreserved storage stock into quarantine by a real internal shipment; release and unblock undo both. Every step is
idempotent under its key: a retry, or a run cut short and started again, never holds or moves twice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from resolvers.readiness.model import BlockerCode
from resolvers.readiness.service import decide
from sources.bundle import Sources
from sources.errors import NotFound
from sources.records import HoldStatus, StockStatus, WarehouseStage
from sources.tryton.mapping import move_reference
from sources.tryton.wms import TrytonWms


def key() -> str:
    return uuid.uuid4().hex


def quantities(stock: Any) -> dict[tuple[str, str], float]:
    return {(s.location, s.status.value): s.quantity for s in stock}


async def internal_shipments(wms: Any, reference: str) -> list[dict[str, Any]]:
    assert isinstance(wms, TrytonWms)
    return await wms.rpc.search_read("stock.shipment.internal", [("reference", "=", reference)], ["state"])


async def test_hold_quarantines_stock_and_release_moves_it_back_once(
    sources: Sources, manifest: dict[str, Any]
) -> None:
    shipment = manifest["shipments"]["assigned"][1]
    lot = manifest["shipment_lots"][shipment]
    before = quantities((await sources.wms.stock_by_lot([lot]))[lot])
    assert set(before) == {("STO", "UNRESTRICTED")}

    hold_key, block_key = key(), key()
    hold = await sources.qms.place_hold(
        lot,
        reason_code="SUSPECTED_CONTAMINATION",
        comment="supplier notice",
        placed_by="alice",
        idempotency_key=hold_key,
    )
    again = await sources.qms.place_hold(
        lot,
        reason_code="SUSPECTED_CONTAMINATION",
        comment="supplier notice",
        placed_by="alice",
        idempotency_key=hold_key,
    )
    assert again == hold
    assert hold.status is HoldStatus.ACTIVE
    assert hold.placed_by == "alice"
    assert [h.id for h in (await sources.qms.holds_by_lot([lot], HoldStatus.ACTIVE))[lot]] == [hold.id]

    blocked = await sources.wms.block_stock(lot, reason="hold", reference=hold.id, idempotency_key=block_key)
    repeated = await sources.wms.block_stock(lot, reason="hold", reference=hold.id, idempotency_key=block_key)
    assert blocked == repeated
    assert shipment in blocked.shipment_ids
    after = quantities(blocked.stock)
    assert after[("QUA", "BLOCKED")] > 0
    assert sum(after.values()) == sum(before.values())
    assert len(await internal_shipments(sources.wms, move_reference("block", block_key))) == 1

    (readiness,) = await decide(sources, WarehouseStage.ALLOCATED, [shipment])
    found = {b.code for b in readiness.blockers}
    assert {BlockerCode.LOT_ON_HOLD, BlockerCode.STOCK_BLOCKED} <= found

    release_key, unblock_key = key(), key()
    released = await sources.qms.release_hold(
        hold.id, released_by="bob", comment="cleared", idempotency_key=release_key
    )
    assert released == await sources.qms.release_hold(
        hold.id, released_by="bob", comment="cleared", idempotency_key=release_key
    )
    assert released.status is HoldStatus.RELEASED
    assert released.released_by == "bob"
    assert released.release_comment == "cleared"
    freed = await sources.wms.unblock_stock(lot, reference=hold.id, idempotency_key=unblock_key)
    assert freed == await sources.wms.unblock_stock(lot, reference=hold.id, idempotency_key=unblock_key)
    assert quantities(freed.stock) == before
    assert freed.status is StockStatus.UNRESTRICTED


async def test_a_block_cut_short_is_finished_by_its_retry(sources: Sources, manifest: dict[str, Any]) -> None:
    """A gateway killed after creating the internal shipment (before ``do``): the retry carries on, moving once."""
    shipment = manifest["shipments"]["assigned"][2]
    lot = manifest["shipment_lots"][shipment]
    wms = sources.wms
    assert isinstance(wms, TrytonWms)
    block_key = key()
    before = quantities((await wms.stock_by_lot([lot]))[lot])
    await wms.places.load(create=True)
    storage = wms.places.warehouses[0].storage_id
    available = (await wms.places.quantities([lot], [storage], available=True))[lot][0]
    (row,) = await wms.rpc.search_read("stock.lot", [("number", "=", lot)], ["product", "default_uom"])
    move = {"product": row["product"], "lot": row["id"], "unit": row["default_uom"], "quantity": available}
    move |= {"from_location": storage, "to_location": wms.places.quarantine_id}
    values = {"from_location": storage, "to_location": wms.places.quarantine_id}
    values |= {"reference": move_reference("block", block_key), "moves": [["create", [move]]]}
    (created,) = await wms.rpc.write_call("stock.shipment.internal", "create", [values])
    await wms.rpc.write_call("stock.shipment.internal", "wait", [created])

    change = await wms.block_stock(lot, reason="hold", reference=None, idempotency_key=block_key)
    assert quantities(change.stock)[("QUA", "BLOCKED")] == available
    assert [s["state"] for s in await internal_shipments(wms, move_reference("block", block_key))] == ["done"]
    freed = await wms.unblock_stock(lot, reference=None, idempotency_key=key())
    assert quantities(freed.stock) == before


async def test_unknown_lot_and_hold_are_not_found(sources: Sources) -> None:
    with pytest.raises(NotFound):
        await sources.qms.place_hold("NO-SUCH", reason_code="X", comment=None, placed_by="a", idempotency_key=key())
    with pytest.raises(NotFound):
        await sources.qms.release_hold("NO-SUCH", released_by="a", comment=None, idempotency_key=key())
    with pytest.raises(NotFound):
        await sources.wms.block_stock("NO-SUCH", reason="x", reference=None, idempotency_key=key())
