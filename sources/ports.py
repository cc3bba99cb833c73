"""The ports: what the gateway asks of each kind of system, whatever system plays it.

Resolvers, the readiness rules, the genealogy walk and hold orchestration see only these protocols and the plain
records of ``sources/records.py``. Each kind of upstream has its adapters in a package of its own: the HTTP
contract of docs/sources.md (``sources/contract/``) is the first; others (an ERP such as Tryton, an EPCIS
repository for genealogy) implement the same protocols beside it. Every read takes many ids and answers in one
batched call per kind where the system allows it; every command carries the gateway's idempotency key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Protocol

from sources.bus.envelope import Event
from sources.combined import ExpandedShipment, LotQuality
from sources.custody import Custody
from sources.records import (
    Customer,
    Deviation,
    DeviationStatus,
    Disposition,
    GenealogyEdge,
    Hold,
    HoldStatus,
    Lot,
    LotKind,
    OrderStatus,
    Page,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentFilter,
    ShipmentProgress,
    Stock,
    StockChange,
    WarehouseStage,
)
from sources.resilience import Health


class Upstream(Protocol):
    """What every adapter has: its system's name (``erp``, ``qms``, ``mes``, ``wms``), its health, and a close."""

    @property
    def name(self) -> str: ...

    def health(self) -> Health:
        """Breaker state, recent failures, latency and calls in flight, without I/O."""
        ...

    async def aclose(self) -> None: ...


class ErpPort(Upstream, Protocol):
    """Customers, products, sales orders and outbound deliveries (shipments)."""

    async def customers(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Customer]: ...

    async def products(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Product]: ...

    def invalidate(
        self, *, product_ids: Iterable[str] | None = (), customer_ids: Iterable[str] | None = ()
    ) -> None: ...

    async def orders(self, ids: Iterable[str]) -> dict[str, SalesOrder]: ...

    async def shipments(self, ids: Iterable[str]) -> dict[str, Shipment]: ...

    async def shipments_expanded(self, ids: Iterable[str]) -> dict[str, ExpandedShipment]:
        """Shipments with their order, customer and products, fresh (never from a cache), in one call where the
        system can answer it (``sources.combined.expanded_by_reads`` where it cannot)."""
        ...

    async def shipments_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Shipment]]: ...

    async def shipments_by_lot(self, lot_ids: Iterable[str]) -> list[Shipment]: ...

    async def search_orders(
        self, *, status: OrderStatus | None, customer_id: str | None, limit: int, after: str | None
    ) -> Page[SalesOrder]: ...

    async def search_shipments(self, where: ShipmentFilter, *, limit: int, after: str | None) -> Page[Shipment]: ...


class QmsPort(Upstream, Protocol):
    """Lot disposition, holds, deviations and certificates; the hold and release commands (system of record)."""

    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]: ...

    async def search_lots(
        self, *, product_id: str | None, disposition: Disposition | None, limit: int, after: str | None
    ) -> Page[QualityLot]: ...

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]: ...

    async def holds(self, ids: Iterable[str]) -> dict[str, Hold]: ...

    async def search_holds(
        self,
        *,
        status: HoldStatus | None,
        lot_id: str | None,
        reason_code: str | None,
        limit: int,
        after: str | None,
    ) -> Page[Hold]: ...

    async def place_hold(
        self, lot_id: str, *, reason_code: str, comment: str | None, placed_by: str, idempotency_key: str
    ) -> Hold:
        """Create a hold; a repeated key answers the first hold."""
        ...

    async def release_hold(
        self, hold_id: str, *, released_by: str, comment: str | None, idempotency_key: str
    ) -> Hold: ...

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]: ...

    async def quality_status(self, lot_ids: Iterable[str]) -> dict[str, LotQuality]:
        """Per lot: its quality record, active holds and open deviations, in one call where the system can answer
        it (``sources.combined.quality_by_reads`` where it cannot). A lot the QMS does not know is absent."""
        ...


class MesPort(Upstream, Protocol):
    """Produced and received lots, and the genealogy edges between them."""

    async def lots(self, ids: Iterable[str]) -> dict[str, Lot]: ...

    def invalidate(self, lot_ids: Iterable[str] | None = None) -> None: ...

    async def search_lots(
        self, *, product_id: str | None, plant: str | None, kind: LotKind | None, limit: int, after: str | None
    ) -> Page[Lot]: ...

    async def edges_into(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """Edges whose output is one of ``lot_ids`` (one level backward), by output lot."""
        ...

    async def edges_out_of(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """Edges whose input is one of ``lot_ids`` (one level forward), by input lot."""
        ...

    async def custody(self, lot_ids: Iterable[str]) -> dict[str, Custody]:
        """Shipping and receiving of the lots (naming them, or a container they were packed in) and their packing
        and unpacking, by lot (a lot with neither may be absent). A system that keeps no containers answers every
        lot asked with ``containers=False``."""
        ...


class WmsPort(Upstream, Protocol):
    """Stock per lot and location, allocation and warehouse progress per shipment; blocking stock."""

    async def stock_by_lot(self, lot_ids: Iterable[str]) -> dict[str, list[Stock]]: ...

    async def shipments(self, ids: Iterable[str]) -> dict[str, ShipmentProgress]: ...

    async def search_shipments(
        self, *, stage: WarehouseStage | None, limit: int, after: str | None
    ) -> Page[ShipmentProgress]: ...

    async def block_stock(
        self, lot_id: str, *, reason: str, reference: str | None, idempotency_key: str
    ) -> StockChange:
        """Block all stock of a lot (and its allocations on shipments not yet shipped)."""
        ...

    async def unblock_stock(self, lot_id: str, *, reference: str | None, idempotency_key: str) -> StockChange: ...


class EventBus(Protocol):
    """The event log every producer and consumer uses: the bus assigns the cursor, keeps the event durably and
    hands it to every subscriber, on every replica. Consumers ``subscribe`` with the cursor of the last event they
    saw (or None for live only) and get what they missed, in order, then live events, with no gap and no
    duplicate (DESIGN.md rule 5)."""

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
