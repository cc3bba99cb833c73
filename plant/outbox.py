"""The outbox: every change a system makes, appended in the same transaction as the change.

A later step delivers it as webhooks; until then it is the durable record of what changed, when, why
(correlation id) and for which business keys (lot, order, shipment, item).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any

from plant.clock import now_iso

EVENT_TYPES = (
    "HoldPlaced",
    "HoldReleased",
    "LotDispositionChanged",
    "DeviationOpened",
    "DeviationClosed",
    "StockStatusChanged",
    "AllocationChanged",
    "OrderStatusChanged",
    "ShipmentStatusChanged",
)


def append_event(
    conn: sqlite3.Connection,
    source: str,
    type_: str,
    keys: Mapping[str, str],
    payload: Mapping[str, Any],
    correlation_id: str | None,
    occurred_at: str | None = None,
) -> str:
    """Append one event to the outbox of ``conn`` and return its event id."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    event_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO outbox (event_id, type, source, occurred_at, keys, payload, correlation_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            type_,
            source,
            occurred_at or now_iso(),
            json.dumps(dict(keys), sort_keys=True),
            json.dumps(dict(payload), sort_keys=True),
            correlation_id,
        ),
    )
    return event_id


def read_events(conn: sqlite3.Connection, after_seq: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Events after ``after_seq`` in order, decoded."""
    rows = conn.execute(
        "SELECT seq, event_id, type, source, occurred_at, keys, payload, correlation_id FROM outbox"
        " WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit),
    ).fetchall()
    return [
        {
            "seq": row[0],
            "event_id": row[1],
            "type": row[2],
            "source": row[3],
            "occurred_at": row[4],
            "keys": json.loads(row[5]),
            "payload": json.loads(row[6]),
            "correlation_id": row[7],
        }
        for row in rows
    ]
