"""Webhooks in: signature and timestamp checks, unknown sources, duplicates, and malformed bodies kept as dead
letters that an admin lists and replays. Nothing is dropped."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from plant.webhooks import sign
from tests.events.live import DEADLINE, SECRET, Stack, hold_body, outbox_event, post_webhook, stack

DEAD_LETTERS = """query($status: DeadLetterStatus) { deadLetters(status: $status) {
  id source deliveryId reason body status attempts lastError eventId cursor } }"""

REPLAY = """mutation($id: ID!, $body: String) { replayDeadLetter(id: $id, body: $body) {
  deadLetter { id status attempts lastError eventId cursor }
  event { id type cursor source payload keys { lotIds } }
  error { code message } } }"""

LOG = """subscription($after: String) { statusEvents(after: $after) { cursor type sourceEventId payload } }"""


@pytest.fixture
async def live(plant_data: tuple[Path, dict[str, Any]], tmp_path: Path) -> Any:
    plant_dir, manifest = plant_data
    async with stack(plant_dir, manifest, tmp_path, webhooks=False) as running:
        yield running


async def graphql(live: Stack, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.gateway.url, timeout=DEADLINE) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def log_size(live: Stack) -> int:
    head = await live.head()
    return int(head) if head else 0


async def test_a_valid_webhook_is_recorded_once_however_often_it_is_delivered(live: Stack) -> None:
    body = hold_body("LOT-000001")
    first = await post_webhook(live.gateway.url, "qms", body, delivery_id="d-1")
    again = await post_webhook(live.gateway.url, "qms", body, delivery_id="d-1")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "recorded"
    assert again.status_code == 200
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert await log_size(live) == 1


async def test_a_bad_signature_is_refused_and_records_nothing(live: Stack) -> None:
    response = await post_webhook(live.gateway.url, "qms", hold_body("LOT-000001"), secret="another-secret-0123456789")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_SIGNATURE"
    missing = await post_webhook(live.gateway.url, "qms", hold_body("LOT-000001"), signature="")
    assert missing.status_code == 401
    assert await log_size(live) == 0


async def test_a_body_changed_after_signing_is_refused(live: Stack) -> None:
    body = json.dumps(hold_body("LOT-000001")).encode()
    stamp = str(int(time.time()))
    signature = sign(SECRET, stamp, body)
    tampered = body.replace(b"LOT-000001", b"LOT-000002")
    response = await post_webhook(live.gateway.url, "qms", tampered, timestamp=int(stamp), signature=signature)
    assert response.status_code == 401
    assert await log_size(live) == 0


async def test_a_replayed_old_timestamp_is_refused(live: Stack) -> None:
    old = int(time.time()) - 3600
    response = await post_webhook(live.gateway.url, "qms", hold_body("LOT-000001"), timestamp=old)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "STALE_TIMESTAMP"
    future = await post_webhook(live.gateway.url, "qms", hold_body("LOT-000001"), timestamp=int(time.time()) + 3600)
    assert future.status_code == 401
    assert await log_size(live) == 0


async def test_an_unknown_source_is_not_found(live: Stack) -> None:
    response = await post_webhook(live.gateway.url, "crm", hold_body("LOT-000001"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNKNOWN_SOURCE"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps(outbox_event("Nonsense", {}, {"lot_id": "L"})).encode(), "not an event type qms sends"),
        (json.dumps(outbox_event("OrderStatusChanged", {"status": "RELEASED"}, {})).encode(), "qms sends"),
        (json.dumps(outbox_event("HoldPlaced", {"id": "H-1"}, {"lot_id": "L"})).encode(), "payload.lot_id: missing"),
        (json.dumps({**hold_body("L"), "occurred_at": "yesterday"}).encode(), "occurred_at"),
        (json.dumps({**hold_body("L"), "version": 7}).encode(), "no version 7"),
    ],
)
async def test_a_signed_but_malformed_webhook_is_accepted_as_a_dead_letter(
    live: Stack, body: bytes, reason: str
) -> None:
    response = await post_webhook(live.gateway.url, "qms", body, delivery_id="bad-1")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "dead_lettered"
    assert reason in response.json()["reason"]
    again = await post_webhook(live.gateway.url, "qms", body, delivery_id="bad-1")
    assert again.json()["dead_letter_id"] == response.json()["dead_letter_id"]  # a redelivery is kept once
    letters = (await graphql(live, DEAD_LETTERS))["deadLetters"]
    assert [letter["id"] for letter in letters] == [response.json()["dead_letter_id"]]
    assert letters[0]["body"] == body.decode()
    assert letters[0]["source"] == "qms"
    assert letters[0]["deliveryId"] == "bad-1"
    assert reason in letters[0]["reason"]
    assert await log_size(live) == 0


async def test_a_dead_letter_is_replayed_with_a_corrected_body_and_stays_listed(live: Stack) -> None:
    broken = outbox_event("HoldPlaced", {"id": "H-77", "status": "ACTIVE"}, {"lot_id": "LOT-000009"})
    letter_id = (await post_webhook(live.gateway.url, "qms", broken)).json()["dead_letter_id"]

    still = (await graphql(live, REPLAY, {"id": letter_id}))["replayDeadLetter"]
    assert still["error"]["code"] == "STILL_MALFORMED"
    assert still["deadLetter"]["status"] == "PENDING"
    assert still["deadLetter"]["attempts"] == 1
    assert "lot_id" in still["deadLetter"]["lastError"]

    fixed = {**broken, "payload": {**broken["payload"], "lot_id": "LOT-000009"}}
    done = (await graphql(live, REPLAY, {"id": letter_id, "body": json.dumps(fixed)}))["replayDeadLetter"]
    assert done["error"] is None
    assert done["deadLetter"]["status"] == "REPLAYED"
    assert done["event"]["type"] == "HoldPlaced"
    assert done["event"]["payload"]["id"] == "H-77"
    assert done["event"]["cursor"] == done["deadLetter"]["cursor"]
    assert await log_size(live) == 1

    twice = (await graphql(live, REPLAY, {"id": letter_id}))["replayDeadLetter"]
    assert twice["error"]["code"] == "ALREADY_REPLAYED"
    assert await log_size(live) == 1
    assert (await graphql(live, DEAD_LETTERS, {"status": "PENDING"}))["deadLetters"] == []
    replayed = (await graphql(live, DEAD_LETTERS, {"status": "REPLAYED"}))["deadLetters"]
    assert [letter["id"] for letter in replayed] == [letter_id]


async def test_replaying_an_unknown_dead_letter_is_a_typed_error(live: Stack) -> None:
    result = (await graphql(live, REPLAY, {"id": "DL-nope"}))["replayDeadLetter"]
    assert result["error"]["code"] == "NOT_FOUND"
    assert result["deadLetter"] is None
