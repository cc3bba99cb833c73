"""Input that cannot be held or released is a typed error and changes nothing in the plant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Plant
from tests.holds.conftest import PLACE, RELEASE, HoldGateway, PlantState, new_key


async def _nothing_changed(admin: Plant, state: PlantState, count: int) -> None:
    stats = await admin.stats()
    commands = {route: n for system in ("qms", "wms") for route, n in stats[system].items() if route.startswith("POST")}
    assert {route for route in commands if route != "POST /holds/search"} == set()
    assert await state.hold_count() == count


@pytest.mark.parametrize(
    ("lot_ids", "extra", "code", "words"),
    [
        ([], {}, "INVALID_INPUT", "at least one lot"),
        ([f"LOT-{n:06d}" for n in range(1, 502)], {}, "INVALID_INPUT", "at most 500"),
        ([" "], {}, "INVALID_INPUT", "non-empty"),
        (["LOT-000001,LOT-000002"], {}, "INVALID_INPUT", "without commas"),
        (["LOT-000001"], {"comment": "x" * 2001}, "INVALID_INPUT", "at most 2000"),
        (["LOT-000001"], {"idempotencyKey": ""}, "INVALID_INPUT", "idempotencyKey"),
        (["LOT-000001"], {"idempotencyKey": "k" * 201}, "INVALID_INPUT", "idempotencyKey"),
        (["LOT-999999"], {}, "LOT_NOT_FOUND", "LOT-999999"),
    ],
)
async def test_place_hold_refuses_bad_input(
    gateway: HoldGateway,
    admin: Plant,
    state: PlantState,
    lot_ids: list[str],
    extra: dict[str, Any],
    code: str,
    words: str,
) -> None:
    count = await state.hold_count()
    await admin.reset_stats()
    payload = await gateway.place(lotIds=lot_ids, reasonCode="OUT_OF_SPEC", **{"idempotencyKey": new_key(), **extra})
    assert [e["code"] for e in payload["errors"]] == [code]
    assert words in payload["errors"][0]["message"]
    assert payload["holds"] == []
    assert payload["lots"] == []
    assert payload["complete"] is False
    await _nothing_changed(admin, state, count)


async def test_a_known_lot_next_to_an_unknown_one_is_not_held(
    gateway: HoldGateway, admin: Plant, state: PlantState, manifest: dict[str, Any]
) -> None:
    count = await state.hold_count()
    await admin.reset_stats()
    lot = manifest["demo"]["hold_lot"]
    payload = await gateway.place(lotIds=[lot, "NO-SUCH-LOT"], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    assert [(e["code"], e["lotId"]) for e in payload["errors"]] == [("LOT_NOT_FOUND", "NO-SUCH-LOT")]
    await _nothing_changed(admin, state, count)
    assert await state.stock_statuses(lot) == {"UNRESTRICTED"}


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"input": {"lotIds": ["LOT-000001"], "reasonCode": "BAD_LUCK", "idempotencyKey": "k"}}, "BAD_LUCK"),
        ({"input": {"lotIds": ["LOT-000001"], "reasonCode": "RECALL"}}, "idempotencyKey"),
        ({"input": {"lotIds": ["LOT-000001"], "reasonCode": "RECALL", "idempotencyKey": "k", "propagate": "UP"}}, "UP"),
    ],
)
async def test_input_outside_the_schema_is_a_validation_error(
    gateway: HoldGateway, admin: Plant, state: PlantState, variables: dict[str, Any], code: str
) -> None:
    count = await state.hold_count()
    await admin.reset_stats()
    response = await gateway.post(PLACE, variables)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert code in body["errors"][0]["message"]
    await _nothing_changed(admin, state, count)


@pytest.mark.parametrize(
    ("hold_id", "code"),
    [("H-999999", "HOLD_NOT_FOUND"), ("", "INVALID_INPUT"), ("H-" + "9" * 300, "INVALID_INPUT")],
)
async def test_release_hold_refuses_unknown_holds(
    gateway: HoldGateway, admin: Plant, state: PlantState, hold_id: str, code: str
) -> None:
    count = await state.hold_count()
    await admin.reset_stats()
    payload = await gateway.release(holdId=hold_id, idempotencyKey=new_key())
    assert [e["code"] for e in payload["errors"]] == [code]
    assert payload["hold"] is None
    assert payload["lot"] is None
    assert payload["complete"] is False
    stats = await admin.stats()
    assert "POST /stock/unblock" not in stats["wms"]
    assert await state.hold_count() == count


async def test_a_hold_released_twice_is_not_active_the_second_time(
    gateway: HoldGateway, admin: Plant, state: PlantState, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    placed = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=new_key())
    hold_id = placed["holds"][0]["id"]
    assert (await gateway.release(holdId=hold_id, idempotencyKey=new_key()))["complete"] is True
    await admin.reset_stats()
    again = await gateway.release(holdId=hold_id, idempotencyKey=new_key())
    assert [(e["code"], e["holdId"]) for e in again["errors"]] == [("HOLD_NOT_ACTIVE", hold_id)]
    assert "POST /stock/unblock" not in (await admin.stats())["wms"]


async def test_a_release_of_a_weird_id_reaches_no_other_route(gateway: HoldGateway, admin: Plant) -> None:
    await admin.reset_stats()
    response = await gateway.post(RELEASE, {"input": {"holdId": "../lots/LOT-000001", "idempotencyKey": new_key()}})
    body = response.json()
    assert [e["code"] for e in body["data"]["releaseHold"]["errors"]] == ["HOLD_NOT_FOUND"]
    # the hold is looked up by id (a query parameter, never a path), then released only if the QMS knows it
    assert set((await admin.stats())["qms"]) <= {
        "GET /holds",
        "POST /holds/{id}/release",
        "GET (unmatched)",
        "POST (unmatched)",
    }
