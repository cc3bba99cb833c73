"""The GraphQL endpoint: strawberry's ASGI view, speaking GraphQL over HTTP (api/graphql_http.py), with lotgraph's
context."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from api.auth import ANONYMOUS, AuthError, Principal
from api.fanout import SharedStreams
from api.graphiql import graphiql_page
from api.graphql_http import GraphQLOverHTTP
from api.services import Services
from api.settings import LimitSettings
from api.subscriptions import TransportWSHandler
from resolvers.context import Context
from sources.correlation import accept_correlation_id, current_correlation_id

USER_HEADER = "X-User"


class GraphQLView(GraphQLOverHTTP[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        schema: Any,
        services: Services,
        *,
        graphiql: bool,
        limits: LimitSettings,
        shared_streams: SharedStreams | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            # graphql-transport-ws and SSE (graphql-sse, distinct connections); not the legacy graphql-ws protocol
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            max_subscriptions_per_connection=limits.max_subscriptions,
            connection_init_wait_timeout=timedelta(seconds=limits.connection_init_seconds),
        )
        self.services = services
        self.shared_streams = shared_streams
        """Where graphql-transport-ws subscriptions share one stream per distinct subscription (api/fanout.py)."""
        self.authenticator = services.authenticator

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """``connection_init`` of a WebSocket: authenticate the connection from its payload's ``Authorization``
        (``"Bearer <jwt>"``). A bad token closes the connection with 4403; no token leaves it anonymous, so every
        subscription that needs a role answers UNAUTHENTICATED. All operations of the connection share the
        principal."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            principal = await self.authenticator.authenticate(header if isinstance(header, str) else None)
        except AuthError as exc:
            raise ConnectionRejectionError({"message": f"Not authenticated: {exc}."}) from None
        self._apply(context, principal, None)
        return await super().on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from this package (api/graphiql.py), not strawberry's page, which loads it from a CDN."""
        return graphiql_page()

    def encode_json(self, data: object) -> str:
        """orjson: about ten times faster than the standard library on a 35 kB answer (docs/benchmarks.md). A str,
        not bytes: strawberry sends bytes over a WebSocket as a binary frame, which GraphQL clients refuse. What
        orjson cannot encode (an integer beyond 64 bits in a JSON scalar) goes through the standard library."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def _apply(
        self, context: Context, principal: Principal, auth_error: str | None, dev_user: str | None = None
    ) -> None:
        context.roles, context.authenticated, context.auth_error = principal.roles, principal.authenticated, auth_error
        context.user = principal.subject
        context.sites = principal.sites
        if self.authenticator.development and dev_user and dev_user.strip():
            context.user = dev_user.strip()[:128]

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        correlation_id = current_correlation_id() or accept_correlation_id(None)
        context = Context(self.services, correlation_id)
        state = request.scope.get("state") or {}
        # HTTP: AuthMiddleware read the bearer token; WebSocket: on_ws_connect does, from connection_init.
        self._apply(
            context, state.get("principal", ANONYMOUS), state.get("auth_error"), request.headers.get(USER_HEADER)
        )
        return context
