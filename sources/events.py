"""The canonical event envelope (DESIGN.md rule 4) and the bus interface every producer and consumer uses.

Producers (webhooks in, lotgraph's own mutations) build an ``Event`` and ``publish`` it; the bus assigns the
cursor, keeps the event durably and hands it to every subscriber, on every replica. Consumers ``subscribe`` with
the cursor of the last event they saw (or None for live only) and get what they missed, in order, then live
events, with no gap and no duplicate (rule 5).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

EVENT_TYPES = (
    "HoldPlaced",
    "HoldReleased",
    "LotDispositionChanged",
    "StockStatusChanged",
    "AllocationChanged",
    "OrderStatusChanged",
    "ShipmentStatusChanged",
    "ShipmentReadinessChanged",
    "PendingActionChanged",
    "DeviationOpened",
    "DeviationClosed",
)


@dataclass(frozen=True, slots=True)
class BusinessKeys:
    """The business keys an event concerns: what subscribers filter on and caches are invalidated by."""

    lot_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    shipment_ids: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    source: str  # erp, qms, mes, wms, or lotgraph for the gateway's own commands
    keys: BusinessKeys
    payload: dict[str, Any]
    occurred_at: datetime
    correlation_id: str | None = None
    plant: str | None = None
    version: int = 1
    source_event_id: str | None = None  # dedupe id, unique across sources ("<source>:<upstream id>" for webhooks)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    cursor: str | None = None  # assigned by the bus when the event is appended


class EventBus(Protocol):
    async def publish(self, event: Event) -> Event:
        """Append durably and fan out; returns the event with its cursor. A repeated ``source_event_id`` is
        appended once: the first event is returned again."""
        ...

    def subscribe(self, after: str | None = None) -> AsyncIterator[Event]:
        """Events after ``after`` (all retained ones when it is the empty string, only new ones when None), then
        live events, in order, until the consumer stops iterating."""
        ...

    async def head(self) -> str:
        """The cursor of the newest event in the log ("" when it is empty)."""
        ...

    async def latest(self, count: int) -> list[Event]:
        """The newest ``count`` events of the log (fewer when it holds fewer), oldest first."""
        ...
