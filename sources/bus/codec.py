"""An ``Event`` to and from one JSON text, the form it is stored in (SQLite row, Redis stream entry)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from sources.bus.envelope import BusinessKeys, Event


def encode(event: Event) -> str:
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "version": event.version,
            "source": event.source,
            "source_event_id": event.source_event_id,
            "occurred_at": event.occurred_at.isoformat(),
            "recorded_at": event.recorded_at.isoformat(),
            "correlation_id": event.correlation_id,
            "plant": event.plant,
            **({"site": event.site} if event.site is not None else {}),
            "keys": {
                "lot_ids": list(event.keys.lot_ids),
                "order_ids": list(event.keys.order_ids),
                "shipment_ids": list(event.keys.shipment_ids),
                "item_ids": list(event.keys.item_ids),
            },
            "payload": event.payload,
        },
        separators=(",", ":"),
        default=str,
    )


def decode(text: str | bytes, cursor: str) -> Event:
    body: dict[str, Any] = json.loads(text)
    keys = body["keys"]
    return Event(
        id=body["id"],
        type=body["type"],
        version=body["version"],
        source=body["source"],
        source_event_id=body["source_event_id"],
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
        recorded_at=datetime.fromisoformat(body["recorded_at"]),
        correlation_id=body["correlation_id"],
        plant=body["plant"],
        site=body.get("site"),
        keys=BusinessKeys(
            lot_ids=tuple(keys["lot_ids"]),
            order_ids=tuple(keys["order_ids"]),
            shipment_ids=tuple(keys["shipment_ids"]),
            item_ids=tuple(keys["item_ids"]),
        ),
        payload=body["payload"],
        cursor=cursor,
    )


def with_cursor(event: Event, cursor: str) -> Event:
    return dataclasses.replace(event, cursor=cursor)
