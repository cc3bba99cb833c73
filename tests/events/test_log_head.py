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
