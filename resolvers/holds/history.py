"""The hold history: an audit trail per lot and per hold — who placed and released it, which system confirmed each
step and when, under which correlation id — derived from the events the hold commands publish, so that every
change that is announced is also recorded, in one place. Pure: entries, their codec, and the CSV export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sources.bus.envelope import Event
from sources.store import HistoryRow


class HistoryKind(Enum):
    HOLD_PLACED = "HOLD_PLACED"
    HOLD_RELEASED = "HOLD_RELEASED"
    STOCK_BLOCKED = "STOCK_BLOCKED"
    STOCK_UNBLOCKED = "STOCK_UNBLOCKED"
    ACTION_PENDING = "ACTION_PENDING"
    ACTION_DONE = "ACTION_DONE"
    ACTION_FAILED = "ACTION_FAILED"
    ACTION_RETRIED = "ACTION_RETRIED"
    ACTION_CLOSED = "ACTION_CLOSED"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    """When the system named confirmed it (the QMS's time for holds, lotgraph's for the others)."""
    kind: HistoryKind
    lot_id: str
    hold_id: str | None
    actor: str | None
    """Who placed, released, requested or closed."""
    system: str
    """The system that confirmed: qms, wms, or lotgraph (a pending action's state)."""
    correlation_id: str | None
    detail: str
    seq: int = 0


def _stock_entry(event: Event, lot_id: str, p: dict[str, Any]) -> HistoryEntry:
    blocked = p.get("status") == "BLOCKED"
    where = f"{len(p.get('locations') or [])} location(s)"
    return HistoryEntry(
        event.occurred_at, HistoryKind.STOCK_BLOCKED if blocked else HistoryKind.STOCK_UNBLOCKED, lot_id,
        p.get("hold_id"), p.get("requested_by"), "wms", event.correlation_id, f"stock {p.get('status')} at {where}",
    )  # fmt: skip


def _action_entry(event: Event, lot_id: str, p: dict[str, Any]) -> HistoryEntry:
    change = p.get("change")
    if change == "closed":
        kind, actor, detail = HistoryKind.ACTION_CLOSED, p.get("closed_by"), f"closed: {p.get('close_reason')}"
    elif change == "retried":
        kind, actor, detail = HistoryKind.ACTION_RETRIED, p.get("by"), "retry asked"
    else:
        kind = HistoryKind(f"ACTION_{p['status']}")
        actor, detail = p.get("requested_by"), p.get("outcome") or p.get("last_error") or ""
    what = f"{p['kind']} {p['id']} (attempt {p['attempts']}): {detail}"
    return HistoryEntry(event.occurred_at, kind, lot_id, p.get("hold_id") or None, actor, "lotgraph",
                        event.correlation_id, what)  # fmt: skip


def rows_of(event: Event) -> list[HistoryRow]:
    """The history rows of an event, keyed by the event's dedupe id: an event announced again adds nothing."""
    return [entry_to_row(e, key=f"{event.source_event_id or event.id}#{n}") for n, e in enumerate(entries_of(event))]


def entries_of(event: Event) -> list[HistoryEntry]:
    """The history entries an event of the hold commands makes (none for other events)."""
    p = event.payload
    lot_id = event.keys.lot_ids[0] if event.keys.lot_ids else ""
    if event.type == "HoldPlaced":
        at = datetime.fromisoformat(p["placed_at"]) if p.get("placed_at") else event.occurred_at
        detail = f"reason {p['reason_code']}" + (f": {p['comment']}" if p.get("comment") else "")
        entry = HistoryEntry(at, HistoryKind.HOLD_PLACED, lot_id, p["id"], p.get("placed_by"), "qms",
                             event.correlation_id, detail)  # fmt: skip
    elif event.type == "HoldReleased":
        at = datetime.fromisoformat(p["released_at"]) if p.get("released_at") else event.occurred_at
        detail = "released" + (f": {p['release_comment']}" if p.get("release_comment") else "")
        entry = HistoryEntry(at, HistoryKind.HOLD_RELEASED, lot_id, p["id"], p.get("released_by"), "qms",
                             event.correlation_id, detail)  # fmt: skip
    elif event.type == "StockStatusChanged":
        entry = _stock_entry(event, lot_id, p)
    elif event.type == "PendingActionChanged":
        entry = _action_entry(event, lot_id, p)
    else:
        return []
    return [entry]


# -- codec ----------------------------------------------------------------------------------------------------------


def entry_to_row(entry: HistoryEntry, *, key: str) -> HistoryRow:
    body = {
        "at": entry.at.isoformat(),
        "kind": entry.kind.value,
        "actor": entry.actor,
        "system": entry.system,
        "correlation_id": entry.correlation_id,
        "detail": entry.detail,
    }
    return HistoryRow(key, entry.lot_id, entry.hold_id, entry.at.timestamp(), json.dumps(body, separators=(",", ":")))


def entry_of_row(row: HistoryRow) -> HistoryEntry:
    d: dict[str, Any] = json.loads(row.body)
    return HistoryEntry(
        at=datetime.fromisoformat(d["at"]),
        kind=HistoryKind(d["kind"]),
        lot_id=row.lot_id,
        hold_id=row.hold_id,
        actor=d["actor"],
        system=d["system"],
        correlation_id=d["correlation_id"],
        detail=d["detail"],
        seq=row.seq,
    )


# -- CSV ------------------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("seq", "at", "kind", "lot_id", "hold_id", "actor", "system", "correlation_id", "detail")


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with a formula sign is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(entries: Iterable[HistoryEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        row = (e.seq, e.at.isoformat(), e.kind.value, e.lot_id, e.hold_id, e.actor, e.system, e.correlation_id,
               e.detail)  # fmt: skip
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
