"""Webhook bodies into canonical events, subscription filters, the payload schemas: pure functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from resolvers.events import json_schema
from resolvers.events.cache_invalidation import stale
from resolvers.events.catalog import CATALOG, EventKind, current_version, schema_of
from resolvers.events.filters import Watch, hold_filter, status_filter
from resolvers.events.normalize import MalformedEvent, normalize
from sources.bus.envelope import EVENT_TYPES, BusinessKeys, Event
from tests.events.live import hold_body, outbox_event


def event(type_: str = "HoldPlaced", plant: str | None = None, **keys: tuple[str, ...]) -> Event:
    return Event(type_, "qms", BusinessKeys(**keys), {}, datetime(2024, 5, 1, tzinfo=UTC), plant=plant)


def test_a_qms_hold_becomes_the_canonical_envelope() -> None:
    body = hold_body("LOT-1", "H-9")
    body["keys"]["product_id"] = "P-1"
    normalized = normalize("qms", json.dumps(body).encode())
    assert normalized.type == "HoldPlaced"
    assert normalized.source == "qms"
    assert normalized.version == 1
    assert normalized.keys == BusinessKeys(lot_ids=("LOT-1",), item_ids=("P-1",))
    assert normalized.payload["hold_id"] == "H-9"  # keys outside the envelope's kinds stay, in the payload
    assert normalized.payload["id"] == "H-9"
    assert normalized.source_event_id == "HoldPlaced:H-9"  # one fact: the same id as lotgraph's own HoldPlaced
    assert normalized.occurred_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert normalized.correlation_id == body["correlation_id"]


def test_other_events_are_deduplicated_by_source_and_upstream_id() -> None:
    body = outbox_event("ShipmentStatusChanged", {"status": "SHIPPED"}, {"shipment_id": "DL-1", "order_id": "SO-1"})
    normalized = normalize("erp", json.dumps(body))
    assert normalized.source_event_id == f"erp:{body['event_id']}"
    assert normalized.keys.shipment_ids == ("DL-1",)
    assert normalized.keys.order_ids == ("SO-1",)


@pytest.mark.parametrize(
    ("source", "body", "reason"),
    [
        ("qms", {**hold_body("L"), "event_id": ""}, "event_id"),
        ("qms", {**hold_body("L"), "source": "wms"}, "sent to /webhooks/qms"),
        ("qms", {**hold_body("L"), "keys": {"lot_id": 7}}, "keys.lot_id"),
        ("qms", {**hold_body("L"), "keys": []}, "keys: must be a JSON object"),
        ("qms", {**hold_body("L"), "payload": "x"}, "payload: must be a JSON object"),
        ("qms", {**hold_body("L"), "version": True}, "version"),
        ("mes", hold_body("L"), "mes sends"),
        ("wms", outbox_event("StockStatusChanged", {"status": "FROZEN"}, {"lot_id": "L"}), "payload.status"),
    ],
)
def test_malformed_bodies_say_why(source: str, body: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        normalize(source, json.dumps(body))
    assert reason in raised.value.reason


def test_hold_filter_by_lots_and_plant() -> None:
    matches = hold_filter(["L1"], "DE01")
    assert matches(event(lot_ids=("L1", "L2"), plant="DE01"))
    assert not matches(event(lot_ids=("L1",), plant="US01"))
    assert not matches(event(lot_ids=("L3",), plant="DE01"))
    assert not matches(event("StockStatusChanged", lot_ids=("L1",), plant="DE01"))
    assert hold_filter(None, None)(event("HoldReleased"))


def test_status_filter_by_types_and_any_key() -> None:
    matches = status_filter(["OrderStatusChanged", "HoldPlaced"], None, ["SO-1"], ["DL-1"])
    assert matches(event("OrderStatusChanged", order_ids=("SO-1",)))
    assert matches(event("HoldPlaced", shipment_ids=("DL-1",)))
    assert not matches(event("HoldPlaced", lot_ids=("L1",)))
    assert not matches(event("StockStatusChanged", order_ids=("SO-1",)))
    assert status_filter(None, None, None, None)(event("AllocationChanged"))
    assert not status_filter(None, [], None, None)(event("AllocationChanged", lot_ids=("L1",)))


def test_a_watch_is_touched_through_the_shipment_its_order_or_its_lots() -> None:
    watch = Watch.of(["DL-1"], ["SO-1"], ["L1"])
    assert watch.touched_by(event(shipment_ids=("DL-1",)))
    assert watch.touched_by(event(order_ids=("SO-1",)))
    assert watch.touched_by(event(lot_ids=("L1",)))
    assert not watch.touched_by(event(lot_ids=("L2",), shipment_ids=("DL-2",)))


def test_what_an_event_makes_stale() -> None:
    concerned = stale(Event("OrderStatusChanged", "erp", BusinessKeys(lot_ids=("L1",), item_ids=("P1",)),
                            {"customer_id": "C1"}, datetime.now(UTC)))  # fmt: skip
    assert concerned.lot_ids == ("L1",)
    assert concerned.product_ids == ("P1",)
    assert concerned.customer_ids == ("C1",)


def test_the_catalog_covers_every_event_type_with_a_current_version() -> None:
    assert [kind.value for kind in EventKind] == list(EVENT_TYPES)
    for type_ in EVENT_TYPES:
        version = current_version(type_)
        assert version is not None
        schema = schema_of(type_, version)
        assert schema is not None
        assert schema.payload["type"] == "object"
    assert len({(s.type, s.version) for s in CATALOG}) == len(CATALOG)


@pytest.mark.parametrize(
    ("instance", "problem"),
    [
        ({"status": 3}, "payload.status: must be string"),
        ({"status": "X"}, "must be one of"),
        ({"status": "BLOCKED", "locations": [1]}, "payload.locations[0]"),
        ({}, "payload.status: missing"),
    ],
)
def test_the_schema_subset_reports_problems(instance: dict[str, Any], problem: str) -> None:
    schema = schema_of("StockStatusChanged", 1)
    assert schema is not None
    assert any(problem in line for line in json_schema.errors(instance, schema.payload))


def test_json_schema_types_and_formats() -> None:
    assert json_schema.errors(True, {"type": "integer"})
    assert not json_schema.errors(3, {"type": "number", "minimum": 0})
    assert json_schema.errors(-1, {"type": "number", "minimum": 0})
    assert json_schema.errors("monday", {"type": "string", "format": "date-time"})
    assert not json_schema.errors("2024-05-01T08:00:00Z", {"type": "string", "format": "date-time"})
    assert json_schema.errors({"x": 1}, {"type": "object", "additionalProperties": False})
