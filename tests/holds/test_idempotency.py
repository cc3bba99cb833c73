"""One hold per idempotency key: repeats get the first answer, other input under the key is refused, a repeat
during the first run is told IN_PROGRESS — and never is a second hold created."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Plant
from tests.holds.conftest import HoldGateway, PlantState, new_key
from tests.waits import eventually


async def test_a_repeat_gets_the_first_answer_and_no_second_hold(
    gateway: HoldGateway, state: PlantState, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    request = {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "comment": "first", "idempotencyKey": new_key()}
    first = await gateway.place(**request)
    count = await state.hold_count()

    again = await gateway.place(**request)
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == {k: v for k, v in first.items() if k != "replayed"}
    assert await state.hold_count() == count
    assert len(await state.holds(lot)) == 1

    # Order and repetition of the lot ids do not make another request.
    assert (await gateway.place(**{**request, "lotIds": [lot, lot]}))["holds"] == first["holds"]


async def test_the_same_key_with_other_input_is_refused(
    gateway: HoldGateway, state: PlantState, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    key = new_key()
    first = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=key)
    count = await state.hold_count()
    for other in (
        {"lotIds": [lot], "reasonCode": "RECALL", "idempotencyKey": key},
        {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "comment": "other", "idempotencyKey": key},
        {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "propagate": "FORWARD", "idempotencyKey": key},
    ):
        refused = await gateway.place(**other)
        assert [e["code"] for e in refused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert refused["holds"] == []
        assert refused["complete"] is False
    by_someone_else = await gateway.place(user="qa.other", lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=key)
    assert [e["code"] for e in by_someone_else["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    as_release = await gateway.release(holdId=first["holds"][0]["id"], idempotencyKey=key)
    assert [e["code"] for e in as_release["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert as_release["hold"] is None
    assert await state.hold_count() == count
    assert len(await state.holds(lot, "ACTIVE")) == 1


async def test_a_repeat_while_the_first_runs_is_in_progress(
    gateway: HoldGateway, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    request = {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}
    await admin.reset_stats()
    await admin.faults("wms", latency_ms=1000)  # the first run waits for its block while we repeat it
    first = asyncio.create_task(gateway.place(**request))

    async def blocking() -> bool | None:
        return True if (await admin.stats())["wms"].get("POST /stock/block") else None

    await eventually(blocking, "the first request reached the WMS")
    repeat = await gateway.place(**request)
    assert [e["code"] for e in repeat["errors"]] == ["IN_PROGRESS"]
    assert repeat["holds"] == []
    assert repeat["complete"] is False

    done = await first
    assert done["complete"] is True
    replay = await gateway.place(**request)
    assert replay["replayed"] is True
    assert replay["holds"] == done["holds"]
    assert len(await state.holds(lot)) == 1


async def test_a_duplicate_storm_on_one_replica_creates_one_hold(
    gateway: HoldGateway, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    request = {"lotIds": [lot], "reasonCode": "RECALL", "idempotencyKey": new_key()}
    await admin.reset_stats()
    answers = await asyncio.gather(*(gateway.place(**request) for _ in range(50)))

    hold_ids = {h["id"] for a in answers for h in a["holds"]}
    assert len(hold_ids) == 1
    for answer in answers:
        assert answer["complete"] or [e["code"] for e in answer["errors"]] == ["IN_PROGRESS"]
    assert sum(1 for a in answers if a["complete"] and not a["replayed"]) == 1
    assert len(await state.holds(lot)) == 1
    assert (await admin.stats())["qms"]["POST /holds"] == 1


async def test_a_request_that_changed_nothing_leaves_its_key_free(
    gateway: HoldGateway, state: PlantState, admin: Plant, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    key = new_key()
    await admin.faults("qms", outage=True)
    down = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=key)
    assert [(e["code"], e["source"]) for e in down["errors"]] == [("SOURCE_UNAVAILABLE", "qms")]
    assert down["complete"] is False
    await admin.faults("qms", outage=False)

    unknown = await gateway.place(lotIds=["LOT-999999"], reasonCode="OUT_OF_SPEC", idempotencyKey=key)
    assert [e["code"] for e in unknown["errors"]] == ["LOT_NOT_FOUND"]

    placed = await gateway.place(lotIds=[lot], reasonCode="OUT_OF_SPEC", idempotencyKey=key)
    assert placed["complete"] is True
    assert placed["replayed"] is False
    assert len(await state.holds(lot, "ACTIVE")) == 1
