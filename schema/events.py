"""Events: the envelope type, the catalog (``eventTypes``), dead letters, and the subscriptions."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated, TypeAlias, cast

import strawberry
from strawberry.scalars import JSON

from resolvers import event_catalog, event_streams, ingest
from resolvers.errors import InputError
from schema.info import Info
from schema.readiness import ReadinessStatus, ShipmentReadiness
from schema.shared_results import Shareable
from sources import deadletters
from sources.events import EVENT_TYPES
from sources.events import Event as EventRecord

strawberry.enum(
    event_catalog.EventKind,
    name="EventType",
    description="The kinds of event; `eventTypes` describes each, with the JSON Schema of its payload.",
)
EventType: TypeAlias = event_catalog.EventKind
strawberry.enum(deadletters.DeadLetterStatus, description="PENDING: not recorded yet; REPLAYED: recorded since.")
strawberry.enum(ingest.ReplayProblem, name="ReplayErrorCode", description="Why a dead letter was not replayed.")

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
    cursor: str = strawberry.field(description="Where this event is in the log: pass it as `after` to resume.")
    id: strawberry.ID
    type: EventType
    version: int = strawberry.field(description="Version of the payload's schema (see `eventTypes`).")
    source: str = strawberry.field(description="erp, qms, mes, wms, or lotgraph for its own commands.")
    source_event_id: str | None = strawberry.field(description="The id lotgraph dedupes deliveries of it by.")
    occurred_at: datetime = strawberry.field(description="When the change happened at its source.")
    recorded_at: datetime = strawberry.field(description="When lotgraph recorded it.")
    correlation_id: str | None = strawberry.field(description="The request that caused it, across systems.")
    plant: str | None
    keys: EventKeys
    payload: JSON = strawberry.field(description="As the JSON Schema of its type and version says.")

    @classmethod
    def of(cls, event: EventRecord) -> DomainEvent:
        """One object per event for all its subscribers (``schema.shared_results`` executes it once)."""
        found = _built.get(id(event))
        if found is not None and found[0] is event:
            return found[1]
        built = cls._build(event)
        _built[id(event)] = (event, built)
        while len(_built) > 1024:
            _built.popitem(last=False)
        return built

    @classmethod
    def _build(cls, event: EventRecord) -> DomainEvent:
        k = event.keys
        return cls(
            cursor=event.cursor or "",
            id=strawberry.ID(event.id),
            type=EventType(event.type),
            version=event.version,
            source=event.source,
            source_event_id=event.source_event_id,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            correlation_id=event.correlation_id,
            plant=event.plant,
            keys=EventKeys(
                lot_ids=[strawberry.ID(i) for i in k.lot_ids],
                order_ids=[strawberry.ID(i) for i in k.order_ids],
                shipment_ids=[strawberry.ID(i) for i in k.shipment_ids],
                item_ids=[strawberry.ID(i) for i in k.item_ids],
            ),
            payload=cast(JSON, event.payload),
        )


_built: OrderedDict[int, tuple[EventRecord, DomainEvent]] = OrderedDict()


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


@strawberry.type(description="A signed webhook lotgraph could not record as an event, kept with the reason.")
class DeadLetter:
    id: strawberry.ID
    source: str
    delivery_id: str | None = strawberry.field(description="The sender's Webhook-Id.")
    received_at: datetime
    reason: str = strawberry.field(description="Why it was not recorded.")
    body: str = strawberry.field(description="The body as received (UTF-8; undecodable bytes replaced).")
    status: deadletters.DeadLetterStatus
    attempts: int = strawberry.field(description="Replays tried.")
    last_error: str | None = strawberry.field(description="Why the last replay failed.")
    replayed_at: datetime | None
    event_id: strawberry.ID | None = strawberry.field(description="The event it became, once replayed.")
    cursor: str | None

    @classmethod
    def of(cls, letter: deadletters.DeadLetter) -> DeadLetter:
        return cls(
            id=strawberry.ID(letter.id),
            source=letter.source,
            delivery_id=letter.delivery_id,
            received_at=letter.received_at,
            reason=letter.reason,
            body=letter.body.decode("utf-8", errors="replace"),
            status=letter.status,
            attempts=letter.attempts,
            last_error=letter.last_error,
            replayed_at=letter.replayed_at,
            event_id=strawberry.ID(letter.event_id) if letter.event_id else None,
            cursor=letter.cursor,
        )


@strawberry.type(description="Why a dead letter was not replayed.")
class ReplayError:
    code: ingest.ReplayProblem
    message: str


@strawberry.type(description="The dead letter after the replay, the event it became, or why it did not.")
class ReplayDeadLetterPayload:
    dead_letter: DeadLetter | None
    event: DomainEvent | None
    error: ReplayError | None

    @classmethod
    def of(cls, replayed: ingest.Replayed) -> ReplayDeadLetterPayload:
        problem, event = replayed.problem, replayed.event
        return cls(
            dead_letter=DeadLetter.of(replayed.letter) if replayed.letter else None,
            event=DomainEvent.of(event) if event is not None else None,
            error=ReplayError(code=problem, message=replayed.message or "") if problem is not None else None,
        )


@strawberry.type(description="A shipment's readiness, sent when its status or blockers changed.")
class ShipmentReadinessChange:
    shipment_id: strawberry.ID
    previous_status: ReadinessStatus | None = strawberry.field(description="Null for the first answer.")
    readiness: ShipmentReadiness
    cause: DomainEvent | None = strawberry.field(description="The event that led to it; null for the first answer.")


def _letters(info: Info) -> deadletters.DeadLetterStore:
    store = info.context.dead_letters
    if store is None or info.context.bus is None:
        raise InputError("dead letters are not available on this gateway", code="EVENTS_UNAVAILABLE")
    return store


@strawberry.type
class EventQuery:
    @strawberry.field(description="The event catalog: every event type, its versions and their payload schemas.")
    def event_types(self) -> list[EventTypeDescription]:
        return [_describe(type_) for type_ in EVENT_TYPES]

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

    @strawberry.field(description="Admin: webhooks that could not be recorded, oldest first.")
    async def dead_letters(
        self,
        info: Info,
        status: deadletters.DeadLetterStatus | None = deadletters.DeadLetterStatus.PENDING,
        source: str | None = None,
        first: Annotated[int, strawberry.argument(description="1 to 500.")] = 100,
        after: Annotated[str | None, strawberry.argument(description="The id of the last letter seen.")] = None,
    ) -> list[DeadLetter]:
        if not 1 <= first <= 500:
            raise InputError(f"first: must be 1 to 500, got {first}")
        letters = await _letters(info).list(status=status, source=source, first=first, after=after)
        return [DeadLetter.of(letter) for letter in letters]


@strawberry.type
class EventMutation:
    @strawberry.mutation(
        description="Admin: record a dead letter as an event, from its stored body or a corrected `body` (JSON). "
        "One still malformed stays PENDING with the new reason."
    )
    async def replay_dead_letter(
        self, info: Info, id: strawberry.ID, body: str | None = None
    ) -> ReplayDeadLetterPayload:
        store = _letters(info)
        assert info.context.bus is not None
        replayed = await ingest.replay(
            info.context.sources, info.context.bus, store, str(id), body.encode() if body is not None else None
        )
        return ReplayDeadLetterPayload.of(replayed)

    @strawberry.mutation(description="Admin: replay up to `first` pending dead letters (of one source, if given).")
    async def replay_dead_letters(
        self, info: Info, source: str | None = None, first: int = 100
    ) -> list[ReplayDeadLetterPayload]:
        if not 1 <= first <= 500:
            raise InputError(f"first: must be 1 to 500, got {first}")
        store = _letters(info)
        assert info.context.bus is not None
        pending = await store.list(status=deadletters.DeadLetterStatus.PENDING, source=source, first=first, after=None)
        results = []
        for letter in pending:
            replayed = await ingest.replay(info.context.sources, info.context.bus, store, letter.id)
            results.append(ReplayDeadLetterPayload.of(replayed))
        return results


@strawberry.type
class EventSubscription:
    @strawberry.subscription(description="Holds placed and released: of these lots, in this plant, when given.")
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
        description="Status changes of these types (all when not given) concerning any of these lots, orders or "
        "shipments (all when none is given)."
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
