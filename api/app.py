"""The composition root: ``create_app(settings)`` builds the schema, the routes and the middleware; its lifespan
opens the ``Services`` (api/services.py) they use. Nothing connects at import or at build."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import DisableIntrospection, ParserCache

from api.auth import Authenticator, AuthMiddleware
from api.authz import Authorization
from api.bodylimit import BodyLimitMiddleware
from api.correlation import CorrelationMiddleware
from api.dashboard import dashboard_route
from api.errors import ErrorPolicy, FreshLoaders, HideSuggestions
from api.exports import export_route
from api.fanout import SharedStreams
from api.graphiql import graphiql_route
from api.graphql import GraphQLView
from api.health import healthz, readyz_route
from api.limits import limit_extensions
from api.metrics import Metrics, OperationMetrics
from api.ops import OpsAccess
from api.ratelimit import RateLimitMiddleware
from api.services import Services, ServicesRef, open_services
from api.settings import LimitSettings, Settings
from api.subscriptions import StreamErrors
from api.trusted import TrustedDocuments
from api.webhooks import webhook_routes
from schema import ExtensionFactory, build_schema
from sources.http import CallStats

log = logging.getLogger("lotgraph")


class Lotgraph(Starlette):
    """The gateway's ASGI app; ``services`` are the ones its lifespan opened (tests and operators look at them)."""

    def __init__(self, running: ServicesRef, shared_streams: SharedStreams, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.running = running
        self.shared_streams = shared_streams

    @property
    def services(self) -> Services:
        return self.running.get()


def create_app(settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> Lotgraph:
    """``transports`` replace the network of the sources, by system (tests pass ``httpx.ASGITransport``)."""
    metrics = Metrics()
    observers, on_call = _observers(settings, metrics)
    production = settings.mode == "production"
    schema = build_graphql_schema(
        observers,
        federation=settings.federation,
        limits=settings.limits,
        production=production,
        trusted_documents=settings.trusted_documents,
    )
    authenticator = Authenticator(settings.auth)
    if authenticator.development:
        log.warning("AUTHENTICATION IS OFF (LOTGRAPH_AUTH_MODE=none): every caller has every role. Development only.")
    running, graphql = ServicesRef(), _LateBound()
    shared_streams = SharedStreams(settings.events.queue_size)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        opening = open_services(
            settings, metrics=metrics, authenticator=authenticator, transports=transports, on_call=on_call
        )
        async with opening as services:
            running.current = services
            graphql.app = GraphQLView(
                schema,
                services,
                graphiql=settings.graphiql and not production,
                limits=settings.limits,
                shared_streams=shared_streams,
            )
            try:
                yield
            finally:
                running.current, graphql.app = None, None

    return Lotgraph(
        running,
        shared_streams,
        routes=_routes(settings, running, graphql, metrics),
        middleware=_middleware(settings, running, authenticator),
        lifespan=lifespan,
    )


def _observers(settings: Settings, metrics: Metrics) -> tuple[list[ExtensionFactory], Callable[[CallStats], None]]:
    """What sees every operation (schema extensions) and every upstream call: metrics, and tracing when on."""
    observers: list[ExtensionFactory] = [lambda: OperationMetrics(metrics)]
    if settings.tracing == "off":
        return observers, metrics.observe_call
    from api.tracing import build_tracing, observe_both

    tracing = build_tracing()
    return [*observers, tracing.extension], observe_both(metrics.observe_call, tracing.on_call)


def _routes(settings: Settings, running: ServicesRef, graphql: ASGIApp, metrics: Metrics) -> list[BaseRoute]:
    ops = OpsAccess(settings.ops)
    return [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        *webhook_routes(settings, lambda: running.current),
        readyz_route(lambda: running.current.probes if running.current else None, ops),
        Route("/metrics", ops.protect(metrics.endpoint)),
        export_route(lambda: running.current),
        dashboard_route(),
        *([graphiql_route()] if settings.graphiql and settings.mode != "production" else []),
    ]


def _middleware(settings: Settings, running: ServicesRef, authenticator: Authenticator) -> list[Middleware]:
    middleware = [
        Middleware(CorrelationMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes),
        Middleware(AuthMiddleware, authenticator=authenticator),
    ]
    if settings.limits.rate > 0:
        middleware.append(Middleware(RateLimitMiddleware, buckets=_RunningBuckets(running)))
    return middleware


class _RunningBuckets:
    """The rate-limit buckets of the running services (Redis ones need the client the lifespan opens)."""

    def __init__(self, running: ServicesRef) -> None:
        self.running = running

    async def take(self, key: str) -> float:
        services = self.running.current
        if services is None or services.buckets is None:
            return 0.0
        return await services.buckets.take(key)


def build_graphql_schema(
    observers: Sequence[ExtensionFactory] = (),
    *,
    federation: bool = False,
    limits: LimitSettings | None = None,
    production: bool = False,
    trusted_documents: Mapping[str, str] | None = None,
) -> Any:
    """The schema with lotgraph's extensions; ``observers`` (metrics, tracing) see every operation. Every
    extension is a class or a factory: an instance would be shared by concurrent operations."""
    limits = limits or LimitSettings()
    guards: list[ExtensionFactory] = [
        *limit_extensions(
            max_depth=limits.max_depth,
            max_aliases=limits.max_aliases,
            max_tokens=limits.max_tokens,
            max_cost=limits.max_cost,
        ),
        Authorization,
    ]
    if production:
        guards += [DisableIntrospection, HideSuggestions]
    if trusted_documents is not None:
        documents = trusted_documents
        guards.insert(0, lambda: TrustedDocuments(documents=documents))
    return build_schema(
        extensions=[
            lambda: ParserCache(maxsize=1000),
            *guards,
            FreshLoaders,
            ErrorPolicy,
            StreamErrors,
            *observers,
        ],
        federation=federation,
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
