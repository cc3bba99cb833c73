"""The composition root: ``create_app(settings)`` wires sources, schema and routes; nothing connects at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import ParserCache, ValidationCache

from api.correlation import CorrelationMiddleware
from api.errors import ErrorPolicy, FreshLoaders
from api.graphql import GraphQLView
from api.settings import Settings
from resolvers.config import ResolverConfig
from schema import build_schema
from sources.bundle import Sources
from sources.erp import ErpSource
from sources.http import SourceClient
from sources.mes import MesSource
from sources.qms import QmsSource
from sources.records import WarehouseStage
from sources.wms import WmsSource


def build_sources(settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> Sources:
    """One client per upstream. ``transports`` replaces the network for tests (e.g. ``httpx.ASGITransport``)."""

    def client(name: str) -> SourceClient:
        source = settings.sources[name]
        transport = (transports or {}).get(name)
        return SourceClient(name, source.url, timeout=source.timeout, transport=transport)

    return Sources(
        erp=ErpSource(client("erp"), cache_ttl=settings.sources["erp"].cache_ttl),
        qms=QmsSource(client("qms")),
        mes=MesSource(client("mes"), cache_ttl=settings.sources["mes"].cache_ttl),
        wms=WmsSource(client("wms")),
    )


def resolver_config(settings: Settings) -> ResolverConfig:
    return ResolverConfig(readiness_stage=WarehouseStage(settings.readiness_required_stage))


def build_graphql_schema() -> Any:
    return build_schema(
        extensions=[
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            FreshLoaders,
            ErrorPolicy,
        ]
    )


class _LateBound:
    """The GraphQL view is built in the lifespan, once the sources are open; routes point here meanwhile."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            response = JSONResponse({"error": "starting"}, status_code=503)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> Starlette:
    schema = build_graphql_schema()
    graphql = _LateBound()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sources = build_sources(settings, transports)
        graphql.app = GraphQLView(schema, sources, config=resolver_config(settings), graphiql=settings.graphiql)
        app.state.sources = sources
        try:
            yield
        finally:
            graphql.app = None
            await sources.aclose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
        ],
        middleware=[Middleware(CorrelationMiddleware)],
        lifespan=lifespan,
    )
