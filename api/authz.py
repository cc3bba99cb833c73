"""Authorization, in one place: every field of the schema names the roles that may read it, wherever it is reached.

``POLICY`` maps (type, field) to roles, for every field of every object type — roots, nested types, federation's
``_entities`` and ``_service`` — and ``("_Entity", type)`` to the roles that may load that entity by its key through
``_entities`` (the same as the root field that loads it by id). An operation may run only when the caller has a
role allowed at every (type, field) it can reach: the root field decides what a role may enter; the nested fields
say what may be read once inside (a shipping app sees the holds of the lots it ships, but cannot load a lot by id,
neither with ``lot(id:)`` nor through ``_entities``). Fields selected on an interface or union count for every type
that may stand there; fragments are followed.

The fields an operation reaches are worked out once per document (cached beside the parser and validation caches,
in time linear in the document's size: each fragment is walked once); each request then only intersects a few
role sets. A field missing from ``POLICY`` is refused to everyone, and a test walks the schema so that a new field
or entity cannot ship without its roles.

Before any of it: an anonymous caller (no token, or a token that was refused) is answered UNAUTHENTICATED before the
document is validated, so it costs no validation and no validation message reaches it (every field needs a role).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

SHIPPING = frozenset({"shipping", "viewer", "admin"})
QUALITY = frozenset({"quality", "viewer", "admin"})
QUALITY_COMMAND = frozenset({"quality", "admin"})
ANY_ROLE = frozenset({"shipping", "quality", "viewer", "admin"})
ADMIN = frozenset({"admin"})

Key = tuple[str, str]

ROOTS: dict[Key, frozenset[str]] = {
    # orders, shipments, readiness: the shipping app
    ("Query", "order"): SHIPPING,
    ("Query", "orders"): SHIPPING,
    ("Query", "shipment"): SHIPPING,
    ("Query", "shipments"): SHIPPING,
    ("Query", "shipmentReadiness"): SHIPPING,
    ("Query", "shipmentsReadiness"): SHIPPING,
    # lots, genealogy, recall, holds: the quality engineer
    ("Query", "lot"): QUALITY,
    ("Query", "lots"): QUALITY,
    ("Query", "lotGenealogy"): QUALITY,
    ("Query", "recallImpact"): QUALITY,
    ("Query", "traceExport"): QUALITY,
    ("Query", "hold"): QUALITY,
    ("Query", "holds"): QUALITY,
    ("Mutation", "placeHold"): QUALITY_COMMAND,
    ("Mutation", "releaseHold"): QUALITY_COMMAND,
    ("Query", "holdHistory"): QUALITY,
    ("Query", "holdHistoryCsv"): QUALITY,
    ("Query", "pendingActionsConnection"): QUALITY,
    ("Mutation", "retryPendingAction"): QUALITY_COMMAND,
    ("Mutation", "closePendingAction"): QUALITY_COMMAND,
    ("Subscription", "holdEvents"): QUALITY,
    # shared reads
    ("Query", "eventTypes"): ANY_ROLE,
    ("Query", "eventLogHead"): ANY_ROLE,
    ("Query", "recentEvents"): ANY_ROLE,  # what statusEvents sends any role, from the log
    ("Query", "sourceHealth"): ANY_ROLE,
    ("Subscription", "statusEvents"): ANY_ROLE,
    ("Subscription", "shipmentReadinessChanged"): SHIPPING,
    # operations: admin
    ("Query", "pendingActions"): ADMIN,
    ("Query", "deadLetters"): ADMIN,
    ("Mutation", "replayDeadLetter"): ADMIN,
    ("Mutation", "replayDeadLetters"): ADMIN,
    # federation: the supergraph router calls these with its own token; each entity is checked as its root field
    ("Query", "_entities"): ANY_ROLE,
    ("Query", "_service"): ANY_ROLE,
    ("_Entity", "Lot"): QUALITY,
    ("_Entity", "SalesOrder"): SHIPPING,
    ("_Entity", "Shipment"): SHIPPING,
    # introspection: anyone signed in (production mode turns introspection off altogether)
    ("Query", "__schema"): ANY_ROLE,
    ("Query", "__type"): ANY_ROLE,
}

SHIPPING_OR_QUALITY = ANY_ROLE
"""Read on the way from a shipment (shipping) and from a lot, a trace or a recall (quality)."""

TYPES: dict[str, tuple[frozenset[str], str]] = {
    # what a shipment or an order shows; quality reaches the same through lots and recalls
    "Shipment": (
        SHIPPING_OR_QUALITY,
        "id status orderId customerId warehouse shipDate shippedAt lines order readiness customer warehouseStage "
        "warehouseStageAt allocations site",
    ),
    "ShipmentLine": (
        SHIPPING_OR_QUALITY,
        "lineNo orderLineNo quantity uom productId lotAssignments product lots",
    ),
    "SalesOrder": (
        SHIPPING_OR_QUALITY,
        "id status customerId orderDate requestedDate creditBlock creditBlockSince deliveryBlock deliveryBlockReason "
        "deliveryBlockSince lines customer readiness shipments site",
    ),
    "OrderLine": (SHIPPING_OR_QUALITY, "lineNo quantity uom productId product"),
    "Customer": (SHIPPING_OR_QUALITY, "id name country coaRequired site"),
    "Product": (SHIPPING_OR_QUALITY, "id name uom coaRequired shelfLifeDays site"),
    "Allocation": (SHIPPING_OR_QUALITY, "lineNo lotId location quantity stockStatus lot"),
    "LotAssignment": (SHIPPING_OR_QUALITY, "lotId quantity lot"),
    "ShipmentReadiness": (
        SHIPPING_OR_QUALITY,
        "shipmentId status ready blockers checks evaluatedAt requiredStage observations",
    ),
    "ReadinessBlocker": (SHIPPING_OR_QUALITY, "code source message lotId orderId lineNo since"),
    "ReadinessCheck": (SHIPPING_OR_QUALITY, "name source status detail"),
    "SourceObservation": (SHIPPING_OR_QUALITY, "source fetchedAt latencyMs fromCache ok error"),
    "SalesOrderConnection": (SHIPPING, "edges pageInfo totalCount"),
    "SalesOrderEdge": (SHIPPING, "cursor node"),
    "ShipmentConnection": (SHIPPING, "edges pageInfo totalCount"),
    "ShipmentEdge": (SHIPPING, "cursor node"),
    "ShipmentReadinessChange": (SHIPPING, "shipmentId previousStatus readiness cause"),
    # what a lot shows: read by quality, and by shipping on the lots of its shipments
    "Lot": (
        SHIPPING_OR_QUALITY,
        "id kind quantity uom producedAt plant workOrder supplier product disposition dispositionAt expiryDate "
        "certificateOfAnalysis holds deviations stock inputs outputs gtin epcClass digitalLink custody containment "
        "site",
    ),
    "CustodyEvent": (
        SHIPPING_OR_QUALITY,
        "eventId at bizStep disposition fromParty fromLocation toParty toLocation bizLocation readPoint container "
        "sscc quantity uom referenceType reference",
    ),
    "Containment": (SHIPPING_OR_QUALITY, "packedIn contains"),
    "Aggregation": (
        SHIPPING_OR_QUALITY,
        "eventId at action bizStep parentId sscc bizLocation readPoint children",
    ),
    "PackedItem": (SHIPPING_OR_QUALITY, "id quantity uom"),
    "CertificateOfAnalysis": (SHIPPING_OR_QUALITY, "id issuedAt"),
    "Hold": (
        SHIPPING_OR_QUALITY,
        "id lotId status reasonCode comment placedBy placedAt releasedBy releasedAt releaseComment correlationId lot "
        "site",
    ),
    "Deviation": (SHIPPING_OR_QUALITY, "id status severity title openedAt closedAt"),
    "StockRecord": (SHIPPING_OR_QUALITY, "location quantity uom status statusSince"),
    "GenealogyLink": (SHIPPING_OR_QUALITY, "lot quantity uom workOrder occurredAt"),
    # lots, genealogy and recalls: quality
    "LotConnection": (QUALITY, "edges pageInfo totalCount"),
    "LotEdge": (QUALITY, "cursor node"),
    "HoldConnection": (QUALITY, "edges pageInfo totalCount"),
    "HoldEdge": (QUALITY, "cursor node"),
    "Genealogy": (QUALITY, "root direction maxDepth truncated truncation cycles summary nodes edges massBalance"),
    "GenealogyCycle": (QUALITY, "lotIds"),
    "GenealogyEdge": (QUALITY, "from to quantity uom workOrder occurredAt site fromSite toSite crossSite"),
    "GenealogyLevel": (QUALITY, "direction depth lots edges newLots"),
    "GenealogyNode": (QUALITY, "lot depth direction site"),
    "GenealogySummary": (
        QUALITY,
        "lots edges depth backwardLots forwardLots levels milliseconds byKind bySite",
    ),
    "KindCount": (QUALITY, "kind lots"),
    "SiteCount": (QUALITY, "site lots edges shipments"),
    "DispositionCount": (QUALITY, "disposition lots"),
    "QuantityTotal": (QUALITY, "uom quantity"),
    "StockTotal": (QUALITY, "status uom quantity lots"),
    "Truncation": (QUALITY, "reason limit message"),
    "AffectedLot": (QUALITY, "lot depth disposition stock"),
    "RecallImpact": (
        QUALITY,
        "root maxDepth complete truncated truncation cycles affectedLots sourceErrors totals shippedShipments "
        "pendingShipments customers openOrders massBalance bySite",
    ),
    # the auditor's package: mass balance of a trace, and the trace as files
    "MassBalance": (QUALITY, "balanced conversions flaggedLots lots sources transformations"),
    "LotBalance": (QUALITY, "lotId uom produced consumed shipped inStock unaccounted unconverted balanced"),
    "TransformationBalance": (
        QUALITY,
        "workOrder inputLotIds outputLotIds inputQuantity outputQuantity difference yieldPercent uom unconverted",
    ),
    "TraceExport": (QUALITY, "url filename format mediaType requestedAt"),
    "RecallTotals": (
        QUALITY,
        "lots depth byDisposition lotsWithStock stock shippedShipments pendingShipments shippedQuantity customers "
        "customersShippedTo openOrders",
    ),
    "RecallShipment": (QUALITY, "shipment affectedLotIds"),
    "RecallCustomer": (QUALITY, "customerId customer shippedShipmentIds pendingShipmentIds affectedLotIds"),
    "RecallSourceError": (QUALITY, "source code message site"),
    # hold commands: quality
    "PlaceHoldPayload": (
        QUALITY_COMMAND,
        "holds propagatedLotIds blockedLotIds pendingActions errors warnings complete replayed requestedBy "
        "requestedAt correlationId lots",
    ),
    "ReleaseHoldPayload": (
        QUALITY_COMMAND,
        "hold disposition stock activeHoldIds pendingActions errors warnings complete replayed requestedBy "
        "requestedAt correlationId lot",
    ),
    "HoldError": (QUALITY_COMMAND, "code message lotId holdId source"),
    "HoldWarning": (QUALITY_COMMAND, "code message lotId pendingActionId"),
    # pending actions and the hold history: read by quality and viewers (the dashboard), changed by quality
    "PendingAction": (
        QUALITY,
        "id kind status lotId holdId operation attempts maxAttempts nextAttemptAt lastError outcome requestedBy "
        "correlationId createdAt updatedAt closedBy closeReason lot",
    ),
    "PendingActionConnection": (QUALITY, "edges pageInfo totalCount"),
    "PendingActionEdge": (QUALITY, "cursor node"),
    "PendingActionChangePayload": (QUALITY_COMMAND, "action errorCode errorMessage"),
    "HoldHistoryEntry": (QUALITY, "at kind lotId holdId system actor correlationId detail"),
    "HoldHistoryEntryConnection": (QUALITY, "edges pageInfo totalCount"),
    "HoldHistoryEntryEdge": (QUALITY, "cursor node"),
    # shared: events, their catalogue, source health, paging
    "Event": (
        ANY_ROLE,
        "cursor id type version source sourceEventId occurredAt recordedAt correlationId plant site keys payload",
    ),
    "EventKeys": (ANY_ROLE, "lotIds orderIds shipmentIds itemIds"),
    "EventTypeDescription": (ANY_ROLE, "type description currentVersion sources keys logged versions"),
    "EventSchemaVersion": (ANY_ROLE, "version jsonSchema"),
    "SourceHealth": (
        ANY_ROLE,
        "source state consecutiveFailures recentCalls recentFailures lastLatencyMs lastSuccessAt lastFailureAt "
        "lastError inFlight maxConcurrency site",
    ),
    "PageInfo": (ANY_ROLE, "hasNextPage hasPreviousPage startCursor endCursor"),
    "_Service": (ANY_ROLE, "sdl"),
    # operations: admin
    "DeadLetter": (
        ADMIN,
        "id source deliveryId receivedAt reason body status attempts lastError replayedAt eventId cursor",
    ),
    "ReplayDeadLetterPayload": (ADMIN, "deadLetter event error"),
    "ReplayError": (ADMIN, "code message"),
}
"""Nested types: the roles that may read each field, with every field named, so a new one needs a decision."""

POLICY: dict[Key, frozenset[str]] = {
    **ROOTS,
    **{(type_name, field): roles for type_name, (roles, fields) in TYPES.items() for field in fields.split()},
}


@dataclass(frozen=True, slots=True)
class Reach:
    """What one operation reaches: each distinct set of allowed roles, with the first (type, field) that asks it."""

    requirements: tuple[tuple[frozenset[str], Key], ...]


def reach(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Reach:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Reach(())
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Reach(())
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    keys = _Reaching(schema, fragments).of(root, operation.selection_set)
    by_roles: dict[frozenset[str], Key] = {}
    for key in sorted(keys, key=lambda k: (_RANK.get(k[0], 2), k)):  # name the root, then the entity, first
        by_roles.setdefault(POLICY.get(key, frozenset()), key)
    return Reach(tuple((roles, key) for roles, key in by_roles.items()))


class _Reaching:
    """The (type, field) keys below a selection set; each fragment is walked once (its type condition fixes the
    type it applies to) and its keys reused wherever it is spread."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema, self.fragments = schema, fragments
        self.memo: dict[str, frozenset[Key]] = {}

    def of(self, parent: GraphQLNamedType, selections: SelectionSetNode) -> set[Key]:
        keys: set[Key] = set()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                keys |= self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition is not None else parent
                if target is not None:
                    keys |= self._narrowed(parent, target)
                    keys |= self.of(target, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                target = self.schema.get_type(fragment.type_condition.name.value) if fragment is not None else None
                if target is not None:
                    keys |= self._narrowed(parent, target)
                    keys |= self._fragment(selection.name.value, target)
        return keys

    def _fragment(self, name: str, target: GraphQLNamedType) -> frozenset[Key]:
        if name not in self.memo:
            self.memo[name] = frozenset()  # a cycle (refused by validation) reaches nothing more
            self.memo[name] = frozenset(self.of(target, self.fragments[name].selection_set))
        return self.memo[name]

    def _narrowed(self, parent: GraphQLNamedType, target: GraphQLNamedType) -> set[Key]:
        """Narrowing a union to a member is a key of its own (``_Entity`` → ``Lot``: loading a lot by its key)."""
        if isinstance(parent, GraphQLUnionType) and parent is not target:
            return {(parent.name, t.name) for t in self._possible(target)}
        return set()

    def _field(self, parent: GraphQLNamedType, field: FieldNode) -> set[Key]:
        name = field.name.value
        if name == "__typename":
            return set()
        keys: set[Key] = set()
        below: GraphQLNamedType | None = None
        for owner in self._possible(parent):
            definition = owner.fields.get(name)
            if definition is not None:
                keys.add((owner.name, name))
                below = get_named_type(definition.type)
        if name.startswith("__"):  # __schema, __type: introspection below is the root field's
            return {(parent.name, name)}
        if field.selection_set is not None and below is not None:
            keys |= self.of(below, field.selection_set)
        return keys

    def _possible(self, named: GraphQLNamedType) -> list[GraphQLObjectType]:
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            return list(self.schema.get_possible_types(named))
        return [named] if isinstance(named, GraphQLObjectType) else []


def refusal(reached: Reach, *, roles: frozenset[str]) -> GraphQLError | None:
    """Why a caller with these roles may not run an operation that reaches this, or None when it may."""
    for allowed, (type_name, field) in reached.requirements:
        if roles & allowed:
            continue
        what = _describe(type_name, field)
        return GraphQLError(
            f"Forbidden: {what} needs one of the roles {', '.join(sorted(allowed)) or '(none)'}.",
            extensions={"code": "FORBIDDEN"},
        )
    return None


_RANK = {"Query": 0, "Mutation": 0, "Subscription": 0, "_Entity": 1}


def _describe(type_name: str, field: str) -> str:
    if type_name in ("Query", "Mutation", "Subscription"):
        return field
    if type_name == "_Entity":
        return f"_entities of {field}"
    return f"{type_name}.{field}"


def unauthenticated(context: object) -> GraphQLError | None:
    auth_error = getattr(context, "auth_error", None)
    if auth_error is not None:
        return GraphQLError(f"Not authenticated: {auth_error}.", extensions={"code": "UNAUTHENTICATED"})
    if not getattr(context, "authenticated", False):
        return GraphQLError("Not authenticated: send a bearer token.", extensions={"code": "UNAUTHENTICATED"})
    return None


_REACHED: WeakKeyDictionary[GraphQLSchema, LRUCache[tuple[str, str | None], Reach]] = WeakKeyDictionary()
"""Per schema: what each (document text, operation name) reaches."""


def _reached(schema: GraphQLSchema, query: str | None, document: DocumentNode, operation_name: str | None) -> Reach:
    if query is None:
        return reach(schema, document, operation_name)
    cache = _REACHED.setdefault(schema, LRUCache(maxsize=1000))
    found = cache.get((query, operation_name))
    if found is None:
        found = cache[(query, operation_name)] = reach(schema, document, operation_name)
    return found


class Authorization(SchemaExtension):
    """Anonymous callers are refused before validation; the others after it, by every field the operation reaches
    (before anything executes: for queries, mutations and subscriptions alike)."""

    def on_parse(self) -> Iterator[None]:
        """An anonymous caller's document is not validated: its answer is UNAUTHENTICATED (set as the operation's
        error, which validation then leaves alone; raised, it would escape strawberry's subscription path)."""
        yield
        error = unauthenticated(self.execution_context.context)
        if error is not None:
            self.execution_context.pre_execution_errors = [error]

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            found = _reached(context.schema._schema, context.query, context.graphql_document, context.operation_name)
            error = refusal(found, roles=frozenset(getattr(context.context, "roles", frozenset())))
            if error is not None:
                raise error
        yield
