"""A WMS that cannot block leaves a visible pending action that completes when the WMS returns — after a gateway
restart too — or is escalated to FAILED after the configured attempts. Never is a step reported done before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from api.settings import Settings
from tests.conftest import Plant
from tests.holds.conftest import HoldGateway, PlantState, all_events, gateway_settings, new_key, running_gateway
from tests.waits import eventually


async def _status_of(gateway: HoldGateway, action_id: str) -> str | None:
    for action in await gateway.pending():
        if action["id"] == action_id:
            status: str = action["status"]
            return status
    return None


async def test_a_wms_outage_leaves_a_pending_block_that_completes_when_the_wms_returns(
    gateway: HoldGateway, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot, shipment = manifest["demo"]["hold_lot"], manifest["demo"]["hold_shipment"]
    await admin.faults("wms", outage=True)
    payload = await gateway.place(
        lotIds=[lot], reasonCode="SUSPECTED_CONTAMINATION", idempotencyKey=new_key(), wms_down=True
    )

    assert payload["complete"] is False
    assert payload["errors"] == []
    assert payload["blockedLotIds"] == []
    (hold,) = payload["holds"]
    (action,) = payload["pendingActions"]
    assert action["kind"] == "BLOCK_STOCK"
    assert action["status"] == "PENDING"
    assert action["lotId"] == lot
    assert action["holdId"] == hold["id"]
    assert action["attempts"] == 1
    assert action["requestedBy"] == "qa.tester"
    assert action["correlationId"] == payload["correlationId"]
    assert "WMS" in action["lastError"]
    assert [(w["code"], w["pendingActionId"]) for w in payload["warnings"]] == [("PENDING_ACTION", action["id"])]
    # The QMS has the hold; the stock is not blocked yet, and nothing says it is.
    assert await state.disposition(lot) == "ON_HOLD"
    await admin.faults("wms", outage=False)
    listed = await gateway.pending("PENDING", "FAILED")
    assert action["id"] in {a["id"] for a in listed} or await _status_of(gateway, action["id"]) == "DONE"

    async def done() -> bool | None:
        return True if await _status_of(gateway, action["id"]) == "DONE" else None

    await eventually(done, "the pending block is done")
    assert await state.stock_statuses(lot) == {"BLOCKED"}
    assert (await state.allocate(shipment, lot)).status_code == 409
    (finished,) = [a for a in await gateway.pending("DONE") if a["id"] == action["id"]]
    assert finished["attempts"] >= 2
    assert finished["outcome"].startswith("stock blocked")
    assert finished["lot"]["id"] == lot

    events = [(e.type, e.payload.get("status")) for e in await all_events(gateway.bus) if e.source == "lotgraph"]
    assert events == [
        ("HoldPlaced", "ACTIVE"),
        ("PendingActionChanged", "PENDING"),
        ("StockStatusChanged", "BLOCKED"),
        ("PendingActionChanged", "DONE"),
    ]


async def test_an_outage_on_many_lots_costs_one_timeout_not_one_per_lot(
    gateway: HoldGateway, state: PlantState, admin: Plant
) -> None:
    lots = [f"LOT-{n:06d}" for n in range(1001, 1121)]
    await admin.faults("wms", outage=True)
    await admin.reset_stats()
    payload = await gateway.place(lotIds=lots, reasonCode="RECALL", idempotencyKey=new_key(), wms_down=True)
    assert len(payload["holds"]) == len(lots)
    assert len(payload["pendingActions"]) == len(lots)
    assert {w["code"] for w in payload["warnings"]} == {"PENDING_ACTION"}
    assert payload["complete"] is False
    # Once the WMS fails, the other blocks wait for the retry worker instead of each failing on its own: the
    # command itself tried at most one round (the worker's retries, which may start before the answer is sent, are
    # not the command's).
    concurrency = gateway.app.services.pending_actions.policy.concurrency
    assert sum(a["attempts"] for a in payload["pendingActions"]) <= concurrency
    assert sum(a["lastError"].startswith("not tried yet") for a in payload["pendingActions"]) >= len(lots) - concurrency
    assert (await admin.stats())["wms"]["POST /stock/block"] >= 1
    await admin.faults("wms", outage=False)

    async def all_done() -> bool | None:
        return True if not await gateway.pending("PENDING") else None

    await eventually(all_done, "every pending block is done")
    assert {a["lotId"] for a in await gateway.pending("DONE")} == set(lots)
    for lot in lots[::10]:
        assert await state.stock_statuses(lot) <= {"BLOCKED"}


async def test_a_pending_action_is_escalated_after_the_configured_attempts(
    tmp_path: Path, plant: Starlette, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    settings = gateway_settings(tmp_path / "gw", LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS="3")
    await admin.faults("wms", outage=True)
    async with running_gateway(settings, plant) as gateway:
        payload = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key(), wms_down=True)
        (action,) = payload["pendingActions"]
        assert action["maxAttempts"] == 3

        async def failed() -> bool | None:
            return True if await _status_of(gateway, action["id"]) == "FAILED" else None

        await eventually(failed, "the action is escalated")
        (escalated,) = await gateway.pending("FAILED")
        assert escalated["attempts"] == 3
        assert escalated["nextAttemptAt"] is None
        assert "WMS" in escalated["lastError"]
        events = [e for e in await all_events(gateway.bus) if e.type == "PendingActionChanged"]
        assert [e.payload["status"] for e in events] == ["PENDING", "FAILED"]
        assert events[-1].correlation_id == payload["correlationId"]
        assert await gateway.app.services.pending_actions.run_due() == 0  # not tried again
    # Given up: the stock stays as it was, and the failure stays listed for a person.
    await admin.faults("wms", outage=False)
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}


async def test_a_pending_action_survives_a_gateway_restart(
    settings: Settings, plant: Starlette, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    await admin.faults("wms", outage=True)
    async with running_gateway(settings, plant) as gateway:
        payload = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key(), wms_down=True)
        (action,) = payload["pendingActions"]
        # Stopped while its worker tries the block again (a slow WMS keeps the attempt in flight): the attempt ends
        # and is saved before the worker stops, so the action is not left leased to a gateway that is gone.
        await admin.reset_stats()
        await admin.faults("wms", outage=True, latency_ms=1000)

        async def trying() -> bool | None:
            return True if (await admin.stats())["wms"].get("POST /stock/block") else None

        await eventually(trying, "the worker tries the block again")
    await admin.faults("wms", outage=False, latency_ms=0)
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}  # nobody is running: nothing happened yet

    async with running_gateway(settings, plant) as restarted:

        async def done() -> bool | None:
            return True if await _status_of(restarted, action["id"]) == "DONE" else None

        await eventually(done, "the restarted gateway completes the pending block")
    assert await state.stock_statuses(lot) == {"BLOCKED"}


async def test_a_release_while_the_block_is_pending_ends_unblocked(
    gateway: HoldGateway, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    await admin.faults("wms", outage=True)
    placed = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key(), wms_down=True)
    released = await gateway.release(holdId=placed["holds"][0]["id"], idempotencyKey=new_key(), wms_down=True)
    assert released["stock"] == "PENDING"
    assert released["complete"] is False
    (unblock,) = released["pendingActions"]
    assert unblock["kind"] == "UNBLOCK_STOCK"
    assert [w["code"] for w in released["warnings"]] == ["PENDING_ACTION"]
    assert await state.disposition(lot) == "RELEASED"
    await admin.faults("wms", outage=False)

    async def settled() -> bool | None:
        return True if not await gateway.pending("PENDING") else None

    await eventually(settled, "both pending actions are done")
    outcomes = {a["kind"]: a["outcome"] for a in await gateway.pending("DONE")}
    assert outcomes["BLOCK_STOCK"].startswith("not needed")
    assert outcomes["UNBLOCK_STOCK"].startswith("stock unblocked")
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}
