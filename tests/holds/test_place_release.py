"""placeHold and releaseHold on the happy paths: the QMS holds, the WMS blocks, readiness flips, events tell. The first
two also over a live Tryton (its stock moved into quarantine and back), with the QMS on the contract."""

from __future__ import annotations

from typing import Any

from tests.holds.conftest import HoldGateway, PlantState, Upstream, all_events, new_key

READINESS = """query($id: ID!) { shipmentReadiness(shipmentId: $id) { status blockers { code source lotId } } }"""


async def _readiness(gateway: HoldGateway, shipment_id: str) -> tuple[str, set[tuple[str, str | None]]]:
    body = await gateway.data(READINESS, {"id": shipment_id})
    answer = body["shipmentReadiness"]
    return answer["status"], {(b["code"], b["lotId"]) for b in answer["blockers"]}


async def test_a_hold_blocks_the_lot_everywhere_at_once(upstream: Upstream) -> None:
    gateway, state, manifest = upstream.gateway, upstream.state, upstream.manifest
    lot, shipment = manifest["demo"]["hold_lot"], manifest["demo"]["hold_shipment"]
    assert await _readiness(gateway, shipment) == ("READY", set())
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}

    key = new_key()
    payload = await gateway.place(
        user="qa.weber",
        lotIds=[lot],
        reasonCode="SUSPECTED_CONTAMINATION",
        comment="swab positive on line 3",
        idempotencyKey=key,
    )

    assert payload["complete"] is True
    assert payload["errors"] == []
    assert payload["warnings"] == []
    assert payload["pendingActions"] == []
    assert payload["replayed"] is False
    assert payload["blockedLotIds"] == [lot]
    (hold,) = payload["holds"]
    assert hold["lotId"] == lot
    assert hold["status"] == "ACTIVE"
    assert hold["reasonCode"] == "SUSPECTED_CONTAMINATION"
    assert hold["comment"] == "swab positive on line 3"
    assert hold["placedBy"] == "qa.weber"
    assert hold["placedAt"]
    assert hold["correlationId"] == payload["correlationId"]
    assert payload["requestedBy"] == "qa.weber"
    (lot_now,) = payload["lots"]
    assert lot_now["disposition"] == "ON_HOLD"
    assert {s["status"] for s in lot_now["stock"]} == {"BLOCKED"}

    # What the systems of record say, read directly.
    (recorded,) = await state.holds(lot, "ACTIVE")
    assert recorded["id"] == hold["id"]
    assert recorded["placed_by"] == "qa.weber"
    assert recorded["correlation_id"] == payload["correlationId"]
    assert await state.disposition(lot) == "ON_HOLD"
    assert await state.stock_statuses(lot) == {"BLOCKED"}
    assert await state.refuses_allocation(shipment, lot)

    # Readiness flips at once.
    status, blockers = await _readiness(gateway, shipment)
    assert status == "NOT_READY"
    assert {("LOT_ON_HOLD", lot), ("STOCK_BLOCKED", lot)} <= blockers

    # Events: the hold, then the stock, with the request's correlation id and the lot as business key.
    events = [e for e in await all_events(gateway.bus) if e.source == "lotgraph"]
    assert [e.type for e in events] == ["HoldPlaced", "StockStatusChanged"]
    for event in events:
        assert event.correlation_id == payload["correlationId"]
        assert event.keys.lot_ids == (lot,)
        assert event.plant
        assert event.cursor
    assert events[0].payload["id"] == hold["id"]
    assert events[0].payload["placed_by"] == "qa.weber"
    assert events[1].payload["status"] == "BLOCKED"
    assert shipment in events[1].keys.shipment_ids

    # Release: the QMS restores the disposition, the WMS unblocks, readiness is READY again.
    released = await gateway.release(
        user="qa.lindqvist", holdId=hold["id"], comment="swab retest negative", idempotencyKey=new_key()
    )
    assert released["complete"] is True
    assert released["errors"] == []
    assert released["stock"] == "UNBLOCKED"
    assert released["disposition"] == "RELEASED"
    assert released["hold"]["status"] == "RELEASED"
    assert released["hold"]["releasedBy"] == "qa.lindqvist"
    assert released["hold"]["releaseComment"] == "swab retest negative"
    assert {s["status"] for s in released["lot"]["stock"]} == {"UNRESTRICTED"}
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}
    assert await state.disposition(lot) == "RELEASED"
    assert await _readiness(gateway, shipment) == ("READY", set())
    events = [e for e in await all_events(gateway.bus) if e.source == "lotgraph"]
    assert [e.type for e in events][2:] == ["HoldReleased", "StockStatusChanged"]
    assert events[3].payload["status"] == "UNRESTRICTED"


async def test_a_lot_with_another_active_hold_stays_blocked_on_release(upstream: Upstream) -> None:
    gateway, state, manifest = upstream.gateway, upstream.state, upstream.manifest
    lot = manifest["demo"]["hold_lot"]
    first = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    second = await gateway.place(lotIds=[lot], reasonCode="CUSTOMER_COMPLAINT", idempotencyKey=new_key())
    assert first["complete"] is True
    assert second["complete"] is True
    assert len(await state.holds(lot, "ACTIVE")) == 2

    released = await gateway.release(holdId=first["holds"][0]["id"], idempotencyKey=new_key())
    assert released["complete"] is True
    assert released["stock"] == "KEPT_BLOCKED"
    assert released["activeHoldIds"] == [second["holds"][0]["id"]]
    assert released["disposition"] == "ON_HOLD"
    assert [w["code"] for w in released["warnings"]] == ["STOCK_KEPT_BLOCKED"]
    assert await state.stock_statuses(lot) == {"BLOCKED"}

    released = await gateway.release(holdId=second["holds"][0]["id"], idempotencyKey=new_key())
    assert released["stock"] == "UNBLOCKED"
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}


async def test_a_hold_for_another_reason_stacks_and_one_for_the_same_reason_is_not_placed(
    gateway: HoldGateway, state: PlantState, manifest: dict[str, Any]
) -> None:
    held, free = manifest["lots"]["on_hold"], manifest["demo"]["hold_lot"]
    (existing,) = await state.holds(held, "ACTIVE")
    assert existing["reason_code"] != "OUT_OF_SPEC"  # the generator's own reason codes differ from ours

    payload = await gateway.place(lotIds=[held, free], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    assert payload["complete"] is True
    assert sorted(h["lotId"] for h in payload["holds"]) == sorted([held, free])
    assert len(await state.holds(held, "ACTIVE")) == 2  # each hold is released on its own
    assert await state.stock_statuses(held) <= {"BLOCKED"}

    count = await state.hold_count()
    again = await gateway.place(lotIds=[held, free], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    assert again["holds"] == []
    assert {(e["code"], e["lotId"]) for e in again["errors"]} == {
        ("LOT_ALREADY_ON_HOLD", held),
        ("LOT_ALREADY_ON_HOLD", free),
    }
    assert {e["holdId"] for e in again["errors"]} == {h["id"] for h in payload["holds"]}
    assert again["complete"] is True
    assert sorted(lot["id"] for lot in again["lots"]) == sorted([held, free])
    assert await state.hold_count() == count


async def test_the_hold_queries(gateway: HoldGateway, manifest: dict[str, Any]) -> None:
    lot = manifest["demo"]["hold_lot"]
    placed = await gateway.place(lotIds=[lot], reasonCode="SUPPLIER_NOTICE", idempotencyKey=new_key())
    hold_id = placed["holds"][0]["id"]

    body = await gateway.data(
        "query($id: ID!) { hold(id: $id) { id lotId status lot { id disposition } } "
        'missing: hold(id: "H-999999") { id } }',
        {"id": hold_id},
    )
    assert body["hold"] == {
        "id": hold_id,
        "lotId": lot,
        "status": "ACTIVE",
        "lot": {"id": lot, "disposition": "ON_HOLD"},
    }
    assert body["missing"] is None

    query = """query($lot: ID, $after: String) { holds(status: ACTIVE, lotId: $lot, first: 1, after: $after) {
        totalCount edges { cursor node { id lotId reasonCode } } pageInfo { hasNextPage endCursor } } }"""
    page = (await gateway.data(query, {"lot": lot}))["holds"]
    assert page["totalCount"] == 1
    assert [e["node"]["id"] for e in page["edges"]] == [hold_id]
    seen: list[str] = []
    after = None
    while True:
        page = (await gateway.data(query, {"lot": None, "after": after}))["holds"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] == len(set(seen))
    assert hold_id in seen

    by_reason = await gateway.data(
        '{ holds(reasonCode: "SUPPLIER_NOTICE", status: ACTIVE, first: 500) { edges { node { id reasonCode } } } }', {}
    )
    assert hold_id in {e["node"]["id"] for e in by_reason["holds"]["edges"]}
    assert {e["node"]["reasonCode"] for e in by_reason["holds"]["edges"]} == {"SUPPLIER_NOTICE"}
