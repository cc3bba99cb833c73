"""The operator's tools: pending actions paged and filtered, retried or closed (audited), the hold history of a lot
and a hold with who did what and which system confirmed it, its CSV, the policy on them, and their age in metrics."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from tests.conftest import Gateway, Plant, token
from tests.holds.conftest import HoldGateway, PlantState, all_events, gateway_settings, new_key, running_gateway
from tests.waits import eventually

PAGE = """query($status: [PendingActionStatus!], $lotId: ID, $older: Float, $first: Int!, $after: String) {
  pendingActionsConnection(status: $status, lotId: $lotId, olderThanSeconds: $older, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id kind status lotId attempts closedBy closeReason } } } }"""
RETRY = """mutation($id: ID!) { retryPendingAction(input: {id: $id}) {
  action { id status attempts maxAttempts nextAttemptAt } errorCode errorMessage } }"""
CLOSE = """mutation($id: ID!, $reason: String!) { closePendingAction(input: {id: $id, reason: $reason}) {
  action { id status closedBy closeReason } errorCode errorMessage } }"""
HISTORY = """query($lotId: ID, $holdId: ID, $first: Int!, $after: String) {
  holdHistory(lotId: $lotId, holdId: $holdId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { at kind lotId holdId actor system correlationId detail } } } }"""
CSV = "query($lotId: ID, $holdId: ID) { holdHistoryCsv(lotId: $lotId, holdId: $holdId) }"


class Signed(Gateway):
    """The gateway, signed in with one role as one user."""

    async def data(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = (await self.post(query, variables)).json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


def quality(gateway: HoldGateway, user: str = "qa.lead") -> Signed:
    return Signed(gateway.client, token("quality", sub=user))


async def test_a_failed_action_is_retried_by_a_person_and_completes(
    tmp_path: Path, plant: Starlette, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    await admin.faults("wms", outage=True)
    settings = gateway_settings(tmp_path / "gw", LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS="2")
    async with running_gateway(settings, plant) as gateway:
        (action,) = (await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key(),
                                         wms_down=True))["pendingActions"]  # fmt: skip

        async def failed() -> bool | None:
            return True if [a for a in await gateway.pending("FAILED") if a["id"] == action["id"]] else None

        await eventually(failed, "the action is escalated")
        await admin.faults("wms", outage=False)
        lead = quality(gateway)
        retried = (await lead.data(RETRY, {"id": action["id"]}))["retryPendingAction"]
        assert retried["errorCode"] is None
        assert retried["action"]["status"] == "PENDING"
        assert retried["action"]["maxAttempts"] == retried["action"]["attempts"] + 2

        async def done() -> bool | None:
            return True if [a for a in await gateway.pending("DONE") if a["id"] == action["id"]] else None

        await eventually(done, "the retried action is done")
        assert await state.stock_statuses(lot) == {"BLOCKED"}
        again = (await lead.data(RETRY, {"id": action["id"]}))["retryPendingAction"]
        assert (again["action"], again["errorCode"]) == (None, "ACTION_NOT_OPEN")

        async def recorded() -> list[tuple[str, str]] | None:
            # the history is written from the events, so the entries of the retry's end arrive in either order
            history = (await lead.data(HISTORY, {"lotId": lot, "first": 50}))["holdHistory"]
            kinds = [(e["node"]["kind"], e["node"]["actor"]) for e in history["edges"]]
            return kinds if ("ACTION_DONE", "qa.tester") in kinds else None

        kinds = await eventually(recorded, "the retry's end in the hold history")
        retried = kinds.index(("ACTION_RETRIED", "qa.lead"))
        assert ("STOCK_BLOCKED", "qa.tester") in kinds[retried:]
        assert ("ACTION_DONE", "qa.tester") in kinds[retried:]


async def test_a_stuck_action_is_closed_with_a_reason_and_never_tried_again(
    gateway: HoldGateway, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    await admin.faults("wms", outage=True)
    (action,) = (await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key(),
                                     wms_down=True))["pendingActions"]  # fmt: skip
    lead = quality(gateway, "qa.boss")
    for variables, code in [
        ({"id": action["id"], "reason": "  "}, "INVALID_INPUT"),
        ({"id": action["id"], "reason": "x" * 2001}, "INVALID_INPUT"),
        ({"id": "PA-nope", "reason": "gone"}, "ACTION_NOT_FOUND"),
    ]:
        refused = (await lead.data(CLOSE, variables))["closePendingAction"]
        assert (refused["action"], refused["errorCode"]) == (None, code)
    closed = await lead.data(CLOSE, {"id": action["id"], "reason": "blocked by hand in the WMS"})
    assert closed["closePendingAction"]["action"] == {
        "id": action["id"],
        "status": "CLOSED",
        "closedBy": "qa.boss",
        "closeReason": "blocked by hand in the WMS",
    }
    await admin.faults("wms", outage=False)
    assert await gateway.app.services.pending_actions.run_due() == 0
    again = (await lead.data(CLOSE, {"id": action["id"], "reason": "twice"}))["closePendingAction"]
    assert again["errorCode"] == "ACTION_NOT_OPEN"
    events = [e for e in await all_events(gateway.bus) if e.type == "PendingActionChanged"]
    assert (events[-1].payload["change"], events[-1].payload["by"]) == ("closed", "qa.boss")


async def test_pending_actions_are_paged_and_filtered(gateway: HoldGateway, admin: Plant) -> None:
    lots = [f"LOT-{n:06d}" for n in range(1501, 1506)]
    await admin.faults("wms", outage=True)
    await gateway.place(lotIds=lots, reasonCode="RECALL", idempotencyKey=new_key(), wms_down=True)
    lead = quality(gateway)
    seen: list[str] = []
    after = None
    while True:
        page = (await lead.data(PAGE, {"status": ["PENDING"], "first": 2, "after": after}))["pendingActionsConnection"]
        assert page["totalCount"] == 5
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"]["lotId"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == lots
    one = (await lead.data(PAGE, {"lotId": lots[2], "first": 10}))["pendingActionsConnection"]
    assert [e["node"]["lotId"] for e in one["edges"]] == [lots[2]]
    old = (await lead.data(PAGE, {"older": 3600.0, "first": 10}))["pendingActionsConnection"]
    assert old["totalCount"] == 0
    bad = await lead.post(PAGE, {"first": 10, "after": "not-a-cursor"})
    assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    await admin.faults("wms", outage=False)


async def test_the_hold_history_says_who_did_what_and_which_system_confirmed_it(
    gateway: HoldGateway, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    placed = await gateway.place(user="qa.placer", lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    (hold,) = placed["holds"]
    released = await gateway.release(user="qa.releaser", holdId=hold["id"], idempotencyKey=new_key())
    lead = quality(gateway)
    by_lot = (await lead.data(HISTORY, {"lotId": lot, "first": 50}))["holdHistory"]
    entries = [e["node"] for e in by_lot["edges"]]
    assert [(e["kind"], e["system"], e["actor"]) for e in entries] == [
        ("HOLD_PLACED", "qms", "qa.placer"),
        ("STOCK_BLOCKED", "wms", "qa.placer"),
        ("HOLD_RELEASED", "qms", "qa.releaser"),
        ("STOCK_UNBLOCKED", "wms", "qa.releaser"),
    ]
    assert [e["correlationId"] for e in entries] == [placed["correlationId"]] * 2 + [released["correlationId"]] * 2
    assert {e["holdId"] for e in entries} == {hold["id"]}
    by_hold = (await lead.data(HISTORY, {"holdId": hold["id"], "first": 2}))["holdHistory"]
    assert by_hold["totalCount"] == 4
    assert by_hold["pageInfo"]["hasNextPage"] is True
    text = (await lead.data(CSV, {"lotId": lot}))["holdHistoryCsv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["kind"], r["actor"], r["hold_id"]) for r in rows] == [
        (e["kind"], e["actor"], hold["id"]) for e in entries
    ]
    for variables in ({"first": 5}, {"lotId": lot, "holdId": hold["id"], "first": 5}):
        response = await lead.post(HISTORY, variables)
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_the_operator_tools_follow_the_role_table(gateway: HoldGateway) -> None:
    shipping, viewer = Signed(gateway.client, token("shipping")), Signed(gateway.client, token("viewer"))
    for caller, query, variables, allowed in [
        (shipping, HISTORY, {"lotId": "LOT-000001", "first": 1}, False),
        (shipping, PAGE, {"first": 1}, False),
        (viewer, HISTORY, {"lotId": "LOT-000001", "first": 1}, True),
        (viewer, CSV, {"lotId": "LOT-000001"}, True),
        (viewer, RETRY, {"id": "PA-x"}, False),
        (viewer, CLOSE, {"id": "PA-x", "reason": "r"}, False),
    ]:
        body = (await caller.post(query, variables)).json()
        if allowed:
            assert "errors" not in body, body
        else:
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body


async def test_pending_action_age_is_in_the_metrics(gateway: HoldGateway, admin: Plant) -> None:
    await admin.faults("wms", outage=True)
    await gateway.place(lotIds=["LOT-001601"], reasonCode="RECALL", idempotencyKey=new_key(), wms_down=True)
    admin_token = token("admin", sub="ops")  # /metrics wants the operations token or an admin
    text = (await gateway.client.get("/metrics", headers={"Authorization": f"Bearer {admin_token}"})).text
    assert 'lotgraph_pending_action_oldest_age_seconds{status="PENDING"}' in text
    assert 'lotgraph_pending_actions_by_age{age="<1m",status="PENDING"} 1.0' in text
    await admin.faults("wms", outage=False)
