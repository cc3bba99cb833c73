"""The schema as an Apollo Federation v2 subgraph: ``Lot``, ``SalesOrder`` and ``Shipment`` are entities keyed by
``id`` (``@strawberry.federation.type(keys=["id"])`` on each), resolved through the per-operation loaders, so N
representations of one type cost one batched upstream call."""

from __future__ import annotations

import strawberry.federation
from graphql import GraphQLError
from strawberry.types import ExecutionContext


class FederationSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """As ``schema.Schema``: the error policy extension logs unexpected errors once."""
