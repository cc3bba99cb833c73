"""The GraphQL endpoint: strawberry's ASGI view with lotgraph's context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from resolvers.config import ResolverConfig
from resolvers.context import Context
from sources.bundle import Sources
from sources.correlation import accept_correlation_id, current_correlation_id

USER_HEADER = "X-User"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Any, sources: Sources, *, config: ResolverConfig, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.sources = sources
        self.config = config

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        user = (request.headers.get(USER_HEADER) or "anonymous").strip()[:128] or "anonymous"
        correlation_id = current_correlation_id() or accept_correlation_id(None)
        return Context(sources=self.sources, correlation_id=correlation_id, user=user, config=self.config)
