"""Events: the envelope type, the catalog (``eventTypes``), the log head and the subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated, TypeAlias, cast

import strawberry
from strawberry.scalars import JSON

from resolvers.events import catalog as event_catalog
from resolvers.events import streams as event_streams
from resolvers.events.catalog import Event as EventRecord
from schema.info import Info
from schema.readiness import ReadinessStatus, ShipmentReadiness
from schema.shared_results import Shareable

strawberry.enum(
    event_catalog.EventKind,
    name="EventType",
    description="The kinds of event; `eventTypes` describes each, with the JSON Schema of its payload.",
)
EventType: TypeAlias = event_catalog.EventKind

AFTER_HELP = (
    "Resume point: the `cursor` of the last event you received, to get what you missed, in order, then live events "
    'without gap or duplicate. "" replays every retained event first; null (default) sends live events only.'
)


@strawberry.type(description="The business keys an event concerns.")
class EventKeys:
    lot_ids: list[strawberry.ID]
    order_ids: list[strawberry.ID]
    shipment_ids: list[strawberry.ID]
    item_ids: list[strawberry.ID] = strawberry.field(description="Products (materials) the event concerns.")


@strawberry.type(name="Event", description="A change in a system of record or made by lotgraph, in one envelope.")
class DomainEvent(Shareable):
    """Built per subscriber for nothing (it only holds the record); every subscriber's payload of one event is built
    from the same record, so ``schema.shared_results`` resolves these fields once for all of them."""

    record: strawberry.Private[EventRecord]

    def shared_from(self) -> object:
        return self.record

    @classmethod
    def of(cls, event: EventRecord) -> DomainEvent:
        return cls(record=event)

    @strawberry.field(description="Where this event is in the log: pass it as `after` to resume.")
    def cursor(self) -> str:
        return self.record.cursor or ""

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field
    def type(self) -> EventType:
        return EventType(self.record.type)

    @strawberry.field(description="Version of the payload's schema (see `eventTypes`).")
    def version(self) -> int:
        return self.record.version

    @strawberry.field(description="erp, qms, mes, wms, or lotgraph for its own commands.")
    def source(self) -> str:
        return self.record.source

    @strawberry.field(description="The id lotgraph dedupes deliveries of it by.")
    def source_event_id(self) -> str | None:
        return self.record.source_event_id

    @strawberry.field(description="When the change happened at its source.")
    def occurred_at(self) -> datetime:
        return self.record.occurred_at

    @strawberry.field(description="When lotgraph recorded it.")
    def recorded_at(self) -> datetime:
        return self.record.recorded_at

    @strawberry.field(description="The request that caused it, across systems.")
    def correlation_id(self) -> str | None:
        return self.record.correlation_id

    @strawberry.field
    def plant(self) -> str | None:
        return self.record.plant

    @strawberry.field(
        description="The site whose systems raised it (docs/sites.md); its ids in `keys` and `payload` are named as "
        "that site's records are. Null for lotgraph's own commands."
    )
    def site(self) -> str | None:
        return self.record.site

    @strawberry.field
    def keys(self) -> EventKeys:
        k = self.record.keys
        return EventKeys(
            lot_ids=[strawberry.ID(i) for i in k.lot_ids],
            order_ids=[strawberry.ID(i) for i in k.order_ids],
            shipment_ids=[strawberry.ID(i) for i in k.shipment_ids],
            item_ids=[strawberry.ID(i) for i in k.item_ids],
        )

    @strawberry.field(description="As the JSON Schema of its type and version says.")
    def payload(self) -> JSON:
        return cast(JSON, self.record.payload)


@strawberry.type(description="One version of an event type's payload.")
class EventSchemaVersion:
    version: int
    json_schema: JSON = strawberry.field(description="JSON Schema (draft 2020-12) of the payload.")


@strawberry.type(description="An event type of the catalog: what it means, who sends it, its payload's schemas.")
class EventTypeDescription:
    type: EventType
    description: str
    current_version: int
    sources: list[str]
    keys: list[str] = strawberry.field(description="Business keys it carries: lot, order, shipment, item.")
    logged: bool = strawberry.field(description="Appended to the event log (false: sent by a subscription only).")
    versions: list[EventSchemaVersion] = strawberry.field(description="Every version, oldest first; all readable.")


def _describe(type_: str) -> EventTypeDescription:
    versions = event_catalog.versions_of(type_)
    latest = versions[-1]
    return EventTypeDescription(
        type=EventType(type_),
        description=latest.description,
        current_version=latest.version,
        sources=list(latest.sources),
        keys=list(latest.keys),
        logged=latest.logged,
        versions=[EventSchemaVersion(version=v.version, json_schema=cast(JSON, v.payload)) for v in versions],
    )


@strawberry.type(description="A shipment's readiness, sent when its status or blockers changed.")
class ShipmentReadinessChange:
    shipment_id: strawberry.ID
    previous_status: ReadinessStatus | None = strawberry.field(description="Null for the first answer.")
    readiness: ShipmentReadiness
    cause: DomainEvent | None = strawberry.field(description="The event that led to it; null for the first answer.")


@strawberry.type
class EventQuery:
    @strawberry.field(description="The event catalog: every event type, its versions and their payload schemas.")
    def event_types(self) -> list[EventTypeDescription]:
        return [_describe(kind.value) for kind in EventType]

    @strawberry.field(
        description="The cursor of the newest event in the log (empty when the log is empty). Read it, then your "
        "snapshot (e.g. active holds), then subscribe with `after` set to it: nothing in between is missed."
    )
    async def event_log_head(self, info: Info) -> str:
        return await event_streams.log_head(info.context)

    @strawberry.field(
        description="The newest events of the log, oldest first (every type; at most 500). Show them, then subscribe "
        '`statusEvents` with `after` set to the newest one\'s cursor (`""` when there is none): no gap, no repeat.'
    )
    async def recent_events(
        self, info: Info, last: Annotated[int, strawberry.argument(description="How many, 1 to 500.")] = 100
    ) -> list[DomainEvent]:
        return [DomainEvent.of(event) for event in await event_streams.recent_events(info.context, last)]


@strawberry.type
class EventSubscription:
    @strawberry.subscription(
        description="Holds placed and released: of these lots (any spelling: plant id, EPC class URN, GS1 Digital "
        "Link), in this plant, when given."
    )
    async def hold_events(
        self,
        info: Info,
        lot_ids: list[strawberry.ID] | None = None,
        plant: str | None = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> AsyncGenerator[DomainEvent, None]:
        events = event_streams.hold_events(info.context, lot_ids, plant, after)
        return _domain(events)

    @strawberry.subscription(
        description="Status changes of these types (all when not given) concerning any of these lots (any "
        "spelling: plant id, EPC class URN, GS1 Digital Link), orders or shipments (all when none is given)."
    )
    async def status_events(
        self,
        info: Info,
        types: list[EventType] | None = None,
        lot_ids: list[strawberry.ID] | None = None,
        order_ids: list[strawberry.ID] | None = None,
        shipment_ids: list[strawberry.ID] | None = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> AsyncGenerator[DomainEvent, None]:
        names = [t.value for t in types] if types is not None else None
        events = event_streams.status_events(info.context, names, lot_ids, order_ids, shipment_ids, after)
        return _domain(events)

    @strawberry.subscription(
        description="The readiness of up to 100 shipments, sent when its status or blockers change (an event touched "
        "the shipment, its order or one of its lots); first each one's current readiness unless `initial` is false."
    )
    async def shipment_readiness_changed(
        self, info: Info, shipment_ids: list[strawberry.ID], initial: bool = True
    ) -> AsyncGenerator[ShipmentReadinessChange, None]:
        changes = await event_streams.readiness_changes(info.context, shipment_ids, initial=initial)
        return _readiness(changes)


async def _domain(events: AsyncIterator[EventRecord]) -> AsyncGenerator[DomainEvent, None]:
    async for event in events:
        yield DomainEvent.of(event)


async def _readiness(
    changes: AsyncIterator[event_streams.ReadinessChange],
) -> AsyncGenerator[ShipmentReadinessChange, None]:
    async for change in changes:
        yield ShipmentReadinessChange(
            shipment_id=strawberry.ID(change.readiness.shipment_id),
            previous_status=change.previous_status,
            readiness=ShipmentReadiness.of(change.readiness),
            cause=DomainEvent.of(change.cause) if change.cause is not None else None,
        )
