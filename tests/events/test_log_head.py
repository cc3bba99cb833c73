"""eventLogHead: the newest cursor, so a client can read a snapshot and subscribe after it without a gap."""

from __future__ import annotations

from tests.conftest import FreshPlant, token

PLACE = """mutation($input: PlaceHoldInput!) { placeHold(input: $input) { complete holds { id } } }"""


async def test_the_head_moves_with_every_event_and_is_readable_by_any_role(fresh_plant: FreshPlant) -> None:
    gateway = fresh_plant.gateway
    before = (await gateway.query("{ eventLogHead }"))["data"]["eventLogHead"]
    lot_id = fresh_plant.manifest["demo"]["hold_lot"]
    placed = await gateway.query(
        PLACE,
        {"input": {"lotIds": [lot_id], "reasonCode": "OUT_OF_SPEC", "comment": "head test", "idempotencyKey": "h-1"}},
    )
    assert placed["data"]["placeHold"]["complete"] is True
    after = (await gateway.query("{ eventLogHead }"))["data"]["eventLogHead"]
    assert after
    assert after != before
    viewer = gateway.as_token(token("viewer"))
    assert (await viewer.query("{ eventLogHead }"))["data"]["eventLogHead"] == after


async def test_recent_events_are_the_newest_of_the_log_for_any_role(fresh_plant: FreshPlant) -> None:
    gateway = fresh_plant.gateway
    lot_id = fresh_plant.manifest["demo"]["hold_lot"]
    placed = await gateway.query(
        PLACE,
        {"input": {"lotIds": [lot_id], "reasonCode": "OUT_OF_SPEC", "comment": "recent", "idempotencyKey": "r-1"}},
    )
    assert placed["data"]["placeHold"]["complete"] is True
    viewer = gateway.as_token(token("viewer"))
    answer = await viewer.query("{ eventLogHead recentEvents(last: 2) { cursor type keys { lotIds } } }")
    recent = answer["data"]["recentEvents"]
    assert 1 <= len(recent) <= 2
    assert recent[-1]["cursor"] == answer["data"]["eventLogHead"]  # the newest last
    assert any(e["type"] == "HoldPlaced" and e["keys"]["lotIds"] == [lot_id] for e in recent)
    refused = await viewer.query("{ recentEvents(last: 0) { id } }")
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
