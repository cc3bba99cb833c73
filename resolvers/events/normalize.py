"""Normalisation: a webhook body becomes the canonical event envelope, or ``MalformedEvent`` says why not. Pure: no
I/O, no clock.

A webhook body (what a source system sends to ``/webhooks/{source}``) is one event of its outbox::

    {"event_id": "…", "type": "HoldPlaced", "version": 1, "occurred_at": "2024-05-01T08:00:00Z",
     "keys": {"lot_id": "…", "hold_id": "…"}, "payload": {…}, "correlation_id": "…", "plant": "DE01"}

``version`` defaults to 1; ``correlation_id`` and ``plant`` may be absent. The payload must match the catalog's
JSON Schema of its type and version. Keys outside the envelope's four kinds (hold, deviation, customer ids) are
kept in the payload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from resolvers.events import json_schema
from resolvers.events.catalog import HOLD_TYPES, schema_of
from sources.bus.envelope import BusinessKeys, Event

SOURCE_TYPES: Mapping[str, frozenset[str]] = {
    "erp": frozenset({"OrderStatusChanged", "ShipmentStatusChanged"}),
    "qms": frozenset({"HoldPlaced", "HoldReleased", "LotDispositionChanged", "DeviationOpened", "DeviationClosed"}),
    "mes": frozenset(),
    "wms": frozenset({"StockStatusChanged", "AllocationChanged"}),
}
"""What each source system may send."""

FACT_IDS = HOLD_TYPES
"""Types whose events are one fact however they arrive: their source event id is ``<type>:<hold id>``, as
lotgraph's own hold commands publish them, so a hold placed through lotgraph is one event, not two."""

_KEYS = {
    "lot_id": "lot_ids",
    "lot_ids": "lot_ids",
    "order_id": "order_ids",
    "order_ids": "order_ids",
    "shipment_id": "shipment_ids",
    "shipment_ids": "shipment_ids",
    "product_id": "item_ids",
    "item_id": "item_ids",
    "item_ids": "item_ids",
}
MAX_ID = 200


class MalformedEvent(Exception):
    """A signed webhook whose body is not an event lotgraph can record; ``reason`` says why, for the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalize(source: str, body: bytes | str) -> Event:
    """The canonical event of a webhook ``body`` from ``source``, or ``MalformedEvent``."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedEvent("body must be a JSON object")
    event_id = _id(document.get("event_id"), "event_id")
    type_ = document.get("type")
    allowed = SOURCE_TYPES.get(source, frozenset())
    if not isinstance(type_, str) or type_ not in allowed:
        kinds = ", ".join(sorted(allowed)) or "none"
        raise MalformedEvent(f"type: {type_!r} is not an event type {source} sends (it sends: {kinds})")
    claimed = document.get("source", source)
    if claimed != source:
        raise MalformedEvent(f"source: the body says {claimed!r} but was sent to /webhooks/{source}")
    version = document.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise MalformedEvent(f"version: must be a whole number, got {version!r}")
    schema = schema_of(type_, version)
    if schema is None:
        raise MalformedEvent(f"version: {type_} has no version {version} in the event catalog")
    occurred_at = _time(document.get("occurred_at"))
    keys, extra = _keys(document.get("keys", {}))
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise MalformedEvent("payload: must be a JSON object")
    problems = json_schema.errors(payload, schema.payload)
    if problems:
        raise MalformedEvent("; ".join(problems[:5]))
    payload = {**{k: v for k, v in extra.items() if k not in payload}, **payload}
    source_event_id = f"{type_}:{payload['id']}" if type_ in FACT_IDS else f"{source}:{event_id}"
    return Event(
        type=type_,
        source=source,
        keys=keys,
        payload=payload,
        occurred_at=occurred_at,
        correlation_id=_optional_id(document.get("correlation_id"), "correlation_id"),
        plant=_optional_id(document.get("plant"), "plant"),
        version=version,
        source_event_id=source_event_id,
    )


def _id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID:
        raise MalformedEvent(f"{name}: must be a non-empty string of at most {MAX_ID} characters, got {value!r}")
    return value


def _optional_id(value: Any, name: str) -> str | None:
    return None if value is None else _id(value, name)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedEvent(f"occurred_at: must be an ISO 8601 date-time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"occurred_at: must be an ISO 8601 date-time, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _keys(raw: Any) -> tuple[BusinessKeys, dict[str, str]]:
    if not isinstance(raw, dict):
        raise MalformedEvent("keys: must be a JSON object")
    found: dict[str, list[str]] = {"lot_ids": [], "order_ids": [], "shipment_ids": [], "item_ids": []}
    extra: dict[str, str] = {}
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str) or not item or len(item) > MAX_ID:
                raise MalformedEvent(f"keys.{name}: must be a non-empty string (or a list of them), got {value!r}")
        if name in _KEYS:
            found[_KEYS[name]].extend(values)
        elif isinstance(value, str):
            extra[name] = value
    unique = {kind: tuple(dict.fromkeys(ids)) for kind, ids in found.items()}
    return BusinessKeys(**unique), extra
