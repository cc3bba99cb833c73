"""The GraphQL schema: strawberry types built from plain source records. No I/O here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from schema.query import Query

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log nothing here: the error policy extension logs unexpected errors once, with the correlation id, and
        expected ones (a source down, a bad argument) are answers, not incidents."""


def build_schema(extensions: Sequence[ExtensionFactory] = ()) -> strawberry.Schema:
    return Schema(query=Query, extensions=list(extensions))
