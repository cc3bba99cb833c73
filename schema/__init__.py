"""The GraphQL schema: strawberry types built from plain source records. No I/O here.

Each capability defines its own root classes in its own module; they are merged here into the one ``Query``,
``Mutation`` and ``Subscription`` of the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.query import Query as CatalogQuery
from schema.readiness import ReadinessQuery

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]

QUERIES: tuple[type, ...] = (
    CatalogQuery,
    ReadinessQuery,
)
MUTATIONS: tuple[type, ...] = ()
SUBSCRIPTIONS: tuple[type, ...] = ()


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log nothing here: the error policy extension logs unexpected errors once, with the correlation id, and
        expected ones (a source down, a bad argument) are answers, not incidents."""


def build_schema(extensions: Sequence[ExtensionFactory] = ()) -> strawberry.Schema:
    return Schema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS) if MUTATIONS else None,
        subscription=merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None,
        extensions=list(extensions),
    )
