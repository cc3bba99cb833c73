"""Authorization, in one place: every root field of the schema names the roles that may use it.

The ``Authorization`` extension reads the operation's root fields (through fragments) before anything executes
and refuses the whole operation when the caller may not use one of them: UNAUTHENTICATED without a valid token,
FORBIDDEN with the wrong role. The error names the field, never internals. A root field missing from ``POLICY``
is refused to everyone (and a test fails), so a new operation cannot ship without its roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

SHIPPING = frozenset({"shipping", "viewer", "admin"})
QUALITY = frozenset({"quality", "viewer", "admin"})
QUALITY_COMMAND = frozenset({"quality", "admin"})
ANY_ROLE = frozenset({"shipping", "quality", "viewer", "admin"})
ADMIN = frozenset({"admin"})

POLICY: dict[tuple[str, str], frozenset[str]] = {
    # orders, shipments, readiness: the shipping app
    ("query", "order"): SHIPPING,
    ("query", "orders"): SHIPPING,
    ("query", "shipment"): SHIPPING,
    ("query", "shipments"): SHIPPING,
    ("query", "shipmentReadiness"): SHIPPING,
    ("query", "shipmentsReadiness"): SHIPPING,
    # lots, genealogy, recall, holds: the quality engineer
    ("query", "lot"): QUALITY,
    ("query", "lots"): QUALITY,
    ("query", "lotGenealogy"): QUALITY,
    ("query", "recallImpact"): QUALITY,
    ("query", "hold"): QUALITY,
    ("query", "holds"): QUALITY,
    ("mutation", "placeHold"): QUALITY_COMMAND,
    ("mutation", "releaseHold"): QUALITY_COMMAND,
    ("query", "holdHistory"): QUALITY,
    ("query", "holdHistoryCsv"): QUALITY,
    ("query", "pendingActionsConnection"): QUALITY,
    ("mutation", "retryPendingAction"): QUALITY_COMMAND,
    ("mutation", "closePendingAction"): QUALITY_COMMAND,
    ("subscription", "holdEvents"): QUALITY,
    # shared reads
    ("query", "eventTypes"): ANY_ROLE,
    ("query", "eventLogHead"): ANY_ROLE,
    ("query", "sourceHealth"): ANY_ROLE,
    ("subscription", "statusEvents"): ANY_ROLE,
    ("subscription", "shipmentReadinessChanged"): SHIPPING,
    # operations: admin
    ("query", "pendingActions"): ADMIN,
    ("query", "deadLetters"): ADMIN,
    ("mutation", "replayDeadLetter"): ADMIN,
    ("mutation", "replayDeadLetters"): ADMIN,
    # federation (the supergraph router calls these with its own token)
    ("query", "_entities"): ANY_ROLE,
    ("query", "_service"): ANY_ROLE,
    # introspection: anyone signed in (production mode turns introspection off altogether)
    ("query", "__schema"): ANY_ROLE,
    ("query", "__type"): ANY_ROLE,
}


def root_fields(document: DocumentNode, operation_name: str | None) -> tuple[str, list[str]]:
    """The operation type and the names of its root fields, through fragments; ``__typename`` left out."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return "query", []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names = list(dict.fromkeys(_fields(operation.selection_set, fragments, set())))
    return operation.operation.value, [n for n in names if n != "__typename"]


def _fields(selection_set: SelectionSetNode, fragments: dict[str, Any], seen: set[str]) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)


def refusal(
    operation_type: str, fields: list[str], *, authenticated: bool, roles: frozenset[str], auth_error: str | None
) -> GraphQLError | None:
    """Why this caller may not run these root fields, or None when it may."""
    if auth_error is not None:
        return GraphQLError(f"Not authenticated: {auth_error}.", extensions={"code": "UNAUTHENTICATED"})
    for field in fields:
        allowed = POLICY.get((operation_type, field), frozenset())
        if roles & allowed:
            continue
        if not authenticated:
            return GraphQLError(
                f"Not authenticated: {field} needs a bearer token.", extensions={"code": "UNAUTHENTICATED"}
            )
        return GraphQLError(
            f"Forbidden: {field} needs one of the roles {', '.join(sorted(allowed)) or '(none)'}.",
            extensions={"code": "FORBIDDEN"},
        )
    return None


class Authorization(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if document is not None:
            operation_type, fields = root_fields(document, self.execution_context.operation_name)
            error = refusal(
                operation_type,
                fields,
                authenticated=bool(getattr(context, "authenticated", False)),
                roles=frozenset(getattr(context, "roles", frozenset())),
                auth_error=getattr(context, "auth_error", None),
            )
            if error is not None:
                raise error  # before execution: nothing runs, for queries, mutations and subscriptions alike
        yield
