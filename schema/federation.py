"""The schema as an Apollo Federation v2 subgraph: ``Lot``, ``SalesOrder`` and ``Shipment`` are entities keyed by
``id`` (``@strawberry.federation.type(keys=["id"])`` on each), resolved through the per-operation loaders, so N
representations of one type cost one batched upstream call."""

from __future__ import annotations

import strawberry.federation
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from schema.hooks import ExtensionsRunner


class FederationSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """As ``schema.Schema``: the error policy extension logs unexpected errors once."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> ExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)
