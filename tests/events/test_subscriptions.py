"""Subscriptions end to end: the plant's signed webhooks into a gateway under uvicorn, out over graphql-transport-ws
(a real WebSocket client) and SSE (a real HTTP client)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from plant.epcis_events import gtin_of_product
from tests.events.live import DEADLINE, GraphQLWS, hold_body, post_webhook, sse_events, stack

HOLD_EVENTS = """subscription($lots: [ID!], $plant: String, $after: String) {
  holdEvents(lotIds: $lots, plant: $plant, after: $after) {
    cursor id type version source sourceEventId occurredAt recordedAt correlationId plant
    keys { lotIds orderIds shipmentIds itemIds } payload } }"""

STATUS_EVENTS = """subscription($types: [EventType!], $lots: [ID!], $after: String) {
  statusEvents(types: $types, lotIds: $lots, after: $after) { cursor type source keys { lotIds } payload } }"""


def a_lot(manifest: dict[str, Any]) -> str:
    lot: str = manifest["demo"]["lot_forward"]
    return lot


def spellings(plant_dir: Path, lot: str) -> tuple[str, str]:
    """The lot's EPC class URN and GS1 Digital Link, from its product's GTIN (the plant's MES)."""
    with sqlite3.connect(plant_dir / "mes.db") as conn:
        (product_id,) = conn.execute("SELECT product_id FROM lots WHERE id = ?", (lot,)).fetchone()
    gtin = gtin_of_product(product_id)
    assert gtin is not None
    return f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot}", f"https://example.com/01/{gtin}/10/{lot}"


async def test_a_hold_placed_in_the_qms_reaches_a_websocket_subscriber_through_a_signed_webhook(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    lot = a_lot(manifest)
    urn, _ = spellings(plant_dir, lot)
    async with stack(plant_dir, manifest, tmp_path) as live, GraphQLWS(live.gateway.ws_url) as client:
        await client.subscribe("1", HOLD_EVENTS, {"lots": [urn], "after": await live.head()})  # the lot as a URN
        hold = await live.place_hold(lot, correlation_id="corr-ws-1")
        event = (await client.next("1"))["holdEvents"]
    assert event["type"] == "HoldPlaced"
    assert event["source"] == "qms"
    assert event["payload"]["id"] == hold["id"]
    assert event["sourceEventId"] == f"HoldPlaced:{hold['id']}"
    assert event["correlationId"] == "corr-ws-1"
    assert event["keys"]["lotIds"] == [lot]
    assert event["plant"]  # from the MES lot master: the QMS does not say
    assert event["cursor"]


async def test_resume_after_a_disconnect_gets_exactly_the_missed_events_then_live_ones(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    lot = a_lot(manifest)
    async with stack(plant_dir, manifest, tmp_path) as live:
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("1", HOLD_EVENTS, {"lots": [lot], "after": await live.head()})
            await live.place_hold(lot)
            seen = (await client.next("1"))["holdEvents"]
        missed = [(await live.place_hold(lot))["id"] for _ in range(3)]
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("again", HOLD_EVENTS, {"lots": [lot], "after": seen["cursor"]})
            replayed = [(await client.next("again"))["holdEvents"] for _ in range(3)]
            assert [e["payload"]["id"] for e in replayed] == missed
            latest = (await live.place_hold(lot))["id"]
            live_event = (await client.next("again"))["holdEvents"]
            assert live_event["payload"]["id"] == latest
    cursors = [seen["cursor"], *(e["cursor"] for e in replayed), live_event["cursor"]]
    assert len(set(cursors)) == 5


async def test_status_events_over_sse(plant_data: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    plant_dir, manifest = plant_data
    lot = a_lot(manifest)
    async with stack(plant_dir, manifest, tmp_path) as live:
        after = await live.head()
        hold = await live.place_hold(lot)  # the QMS: HoldPlaced, LotDispositionChanged (and the stock stays)
        async with httpx.AsyncClient(base_url=live.gateway.url, timeout=DEADLINE) as client:
            _, link = spellings(plant_dir, lot)  # the lot as a GS1 Digital Link
            variables = {"types": ["HoldPlaced", "LotDispositionChanged"], "lots": [link], "after": after}
            stream = sse_events(client, STATUS_EVENTS, variables)
            first = await anext(stream)
            second = await anext(stream)
            await stream.aclose()
    kinds = {first["data"]["statusEvents"]["type"], second["data"]["statusEvents"]["type"]}
    assert kinds == {"HoldPlaced", "LotDispositionChanged"}
    placed = next(e for e in (first, second) if e["data"]["statusEvents"]["type"] == "HoldPlaced")
    assert placed["data"]["statusEvents"]["payload"]["id"] == hold["id"]


async def test_an_unknown_cursor_is_a_client_error(plant_data: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    plant_dir, manifest = plant_data
    async with stack(plant_dir, manifest, tmp_path, webhooks=False) as live, GraphQLWS(live.gateway.ws_url) as client:
        await client.subscribe("1", HOLD_EVENTS, {"after": "not-a-cursor"})
        message = await client.receive()
        wrong_check_digit = "https://id.gs1.org/01/04012345000017/10/LOT-000001"
        await client.subscribe("2", HOLD_EVENTS, {"lots": [wrong_check_digit]})
        malformed = await client.receive()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "INVALID_CURSOR"
    assert malformed["type"] == "error"
    assert malformed["payload"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_webhook_events_reach_a_subscriber_of_every_kind(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    lot = a_lot(manifest)
    async with (
        stack(plant_dir, manifest, tmp_path, webhooks=False) as live,
        GraphQLWS(live.gateway.ws_url) as client,
    ):
        await client.subscribe("1", HOLD_EVENTS, {"lots": [lot], "after": await live.head()})
        response = await post_webhook(live.gateway.url, "qms", hold_body(lot, "H-X1"))
        assert response.status_code == 200, response.text
        event = (await client.next("1"))["holdEvents"]
    assert event["payload"]["id"] == "H-X1"
    assert event["cursor"] == response.json()["cursor"]
