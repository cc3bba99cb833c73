"""The canonical event envelope (DESIGN.md rule 4): what every event carries, whoever produced it.

Producers (webhooks in, lotgraph's own mutations) build an ``Event`` and publish it on the bus
(``sources.ports.EventBus``), which assigns its cursor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
    site: str | None = None
    """The site (docs/sites.md) whose systems raised it; None when they did not say (lotgraph's own commands, events
    recorded before sites had events)."""
