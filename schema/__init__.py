"""The GraphQL schema: strawberry types built from plain source records. No I/O here.

Each capability defines its own root classes in its own module; they are merged here into the one ``Query``,
``Mutation`` and ``Subscription`` of the schema.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.dead_letters import DeadLetterMutation, DeadLetterQuery
from schema.events import EventQuery, EventSubscription
from schema.exports import ExportQuery
from schema.federation import FederationSchema
from schema.genealogy import GenealogyQuery
from schema.health import HealthQuery
from schema.hold_operations import HoldOperationsMutation, HoldOperationsQuery
from schema.holds import HoldMutation, HoldQuery
from schema.hooks import ExtensionsRunner
from schema.lean import lean_resolvers
from schema.query import Query as CatalogQuery
from schema.readiness import ReadinessQuery
from schema.sdl import print_sdl
from schema.shared_results import shared_results

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]

QUERIES: tuple[type, ...] = (
    CatalogQuery,
    ReadinessQuery,
    GenealogyQuery,
    ExportQuery,
    HoldQuery,
    HoldOperationsQuery,
    HealthQuery,
    EventQuery,
    DeadLetterQuery,
)
MUTATIONS: tuple[type, ...] = (HoldMutation, HoldOperationsMutation, DeadLetterMutation)
SUBSCRIPTIONS: tuple[type, ...] = (EventSubscription,)


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log nothing here: the error policy extension logs unexpected errors once, with the correlation id, and
        expected ones (a source down, a bad argument) are answers, not incidents."""

    def as_str(self) -> str:
        return print_sdl(self._schema)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> ExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)


def build_schema(extensions: Sequence[ExtensionFactory] = (), *, federation: bool = False) -> strawberry.Schema:
    """The schema; with ``federation``, as an Apollo Federation v2 subgraph (``schema.federation``)."""
    with warnings.catch_warnings():
        # The entities' @key directives are meant for the federation subgraph; the plain schema ignores them.
        warnings.filterwarnings("ignore", "Federation directive found in schema", UserWarning)
        schema = (FederationSchema if federation else Schema)(
            query=merge_types("Query", QUERIES),
            mutation=merge_types("Mutation", MUTATIONS) if MUTATIONS else None,
            subscription=merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None,
            extensions=list(extensions),
            execution_context_class=shared_results(),
        )
    lean_resolvers(schema)
    return schema
