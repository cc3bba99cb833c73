"""The composition root: ``create_app(settings)`` wires sources, schema and routes; nothing connects at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpx
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache

from api.auth import Authenticator, AuthMiddleware
from api.authz import Authorization
from api.bodylimit import BodyLimitMiddleware
from api.correlation import CorrelationMiddleware
from api.dashboard import dashboard_route
from api.errors import ErrorPolicy, FreshLoaders
from api.figures import watch_holds, watch_readiness, watch_store
from api.graphql import GraphQLView
from api.health import Readiness, readyz
from api.limits import limit_extensions
from api.metrics import Metrics, OperationMetrics
from api.ratelimit import Buckets, MemoryBuckets, RateLimitMiddleware, RedisBuckets
from api.settings import LimitSettings, Settings
from api.subscriptions import StreamErrors
from api.trusted import TrustedDocuments
from api.webhooks import webhook_route
from resolvers.config import ResolverConfig
from resolvers.events.cache_invalidation import keep_caches_fresh
from resolvers.hold_policy import HoldPolicy
from resolvers.pending_actions import PendingActionWorker
from schema import ExtensionFactory, build_schema
from sources.bundle import Sources
from sources.bus.redis import RedisBus
from sources.bus.sqlite import SqliteBus
from sources.contract.erp import ErpSource
from sources.contract.mes import MesSource
from sources.contract.qms import QmsSource
from sources.contract.wms import WmsSource
from sources.deadletters import DeadLetterStore, RedisDeadLetters, SqliteDeadLetters
from sources.http import CallStats, SourceClient
from sources.records import WarehouseStage
from sources.store import SqliteStore, Store

log = logging.getLogger("lotgraph")


def build_sources(
    settings: Settings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    on_call: Callable[[CallStats], None] | None = None,
) -> Sources:
    """One client per upstream. ``transports`` replaces the network for tests (e.g. ``httpx.ASGITransport``);
    ``on_call`` sees every upstream call (metrics, tracing)."""

    def client(name: str) -> SourceClient:
        source = settings.sources[name]
        transport = (transports or {}).get(name)
        return SourceClient(
            name, source.url, timeout=source.timeout, transport=transport, on_call=on_call, policy=settings.resilience
        )

    return Sources(
        erp=ErpSource(client("erp"), cache_ttl=settings.sources["erp"].cache_ttl),
        qms=QmsSource(client("qms")),
        mes=MesSource(client("mes"), cache_ttl=settings.sources["mes"].cache_ttl),
        wms=WmsSource(client("wms")),
    )


def build_bus(settings: Settings) -> SqliteBus | RedisBus:
    """The event bus the settings ask for: the embedded SQLite log by default, Redis Streams with ``bus = redis``.
    Open it with ``await bus.open()``."""
    if settings.bus == "redis":
        assert settings.redis_url is not None  # load_settings requires it with bus = redis
        return RedisBus(
            settings.redis_url,
            stream=f"{settings.redis_prefix}events",
            retention=settings.events.retention,
            queue_size=settings.events.queue_size,
        )
    return SqliteBus(settings.data_dir / "events.db", queue_size=settings.events.queue_size)


def build_dead_letters(settings: Settings) -> DeadLetterStore:
    """Where webhooks that could not be recorded are kept: beside the event log (SQLite, or Redis with the bus)."""
    if settings.bus == "redis":
        assert settings.redis_url is not None
        return RedisDeadLetters(settings.redis_url, prefix=settings.redis_prefix)
    return SqliteDeadLetters(settings.data_dir / "deadletters.db")


async def open_store(settings: Settings) -> Store:
    """The durable store of idempotency records and pending actions: SQLite under the data directory, or Redis."""
    if settings.store == "redis":
        from sources.redis_store import RedisStore

        assert settings.redis_url is not None  # load_settings requires it with store = redis
        redis_store = RedisStore(settings.redis_url, ttl_seconds=settings.idempotency_ttl, prefix=settings.redis_prefix)
        await redis_store.open()
        return redis_store
    sqlite_store = SqliteStore(settings.data_dir / "store.db", ttl_seconds=settings.idempotency_ttl)
    await sqlite_store.open()
    return sqlite_store


def hold_policy(settings: Settings) -> HoldPolicy:
    h = settings.holds
    return HoldPolicy(
        max_lots=h.max_lots,
        concurrency=h.concurrency,
        lease_seconds=h.lease_seconds,
        max_attempts=h.retry_max_attempts,
        retry_base_seconds=h.retry_base_seconds,
        retry_max_seconds=h.retry_max_seconds,
        poll_seconds=h.retry_poll_seconds,
    )


def resolver_config(settings: Settings) -> ResolverConfig:
    return ResolverConfig(
        readiness_stage=WarehouseStage(settings.readiness_required_stage),
        genealogy_max_depth=settings.genealogy_max_depth,
        genealogy_max_nodes=settings.genealogy_max_nodes,
        genealogy_time_budget=settings.genealogy_time_budget,
    )


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
        guards.append(DisableIntrospection)
    if trusted_documents is not None:
        documents = trusted_documents
        guards.insert(0, lambda: TrustedDocuments(documents=documents))
    return build_schema(
        extensions=[
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
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


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> Starlette:
    metrics = Metrics()
    observers: list[ExtensionFactory] = [lambda: OperationMetrics(metrics)]
    on_call: Callable[[CallStats], None] = metrics.observe_call
    if settings.tracing != "off":
        from api.tracing import build_tracing, observe_both

        tracing = build_tracing()
        observers.append(tracing.extension)
        on_call = observe_both(metrics.observe_call, tracing.on_call)
    production = settings.mode == "production"
    schema = build_graphql_schema(
        observers,
        federation=settings.federation,
        limits=settings.limits,
        production=production,
        trusted_documents=settings.trusted_documents,
    )
    graphql = _LateBound()
    authenticator = Authenticator(settings.auth)
    if authenticator.development:
        log.warning("AUTHENTICATION IS OFF (LOTGRAPH_AUTH_MODE=none): every caller has every role. Development only.")
    limits = settings.limits
    redis_client = aioredis.from_url(settings.redis_url) if settings.redis_url and limits.rate > 0 else None
    rate_limit: list[Middleware] = []
    if limits.rate > 0:
        buckets: Buckets = (
            RedisBuckets(redis_client, limits.rate, limits.burst, prefix=f"{settings.redis_prefix}rate:")
            if redis_client is not None
            else MemoryBuckets(limits.rate, limits.burst)
        )
        rate_limit.append(Middleware(RateLimitMiddleware, buckets=buckets))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sources = build_sources(settings, transports, on_call)
        bus = build_bus(settings)
        await bus.open()
        dead_letters = build_dead_letters(settings)
        await dead_letters.open()
        invalidation = asyncio.create_task(keep_caches_fresh(bus, sources), name="lotgraph-cache-invalidation")
        store = await open_store(settings)
        holds = hold_policy(settings)
        worker = PendingActionWorker(store, sources, holds, bus)
        graphql.app = GraphQLView(
            schema,
            sources,
            config=resolver_config(settings),
            graphiql=settings.graphiql and not production,
            authenticator=authenticator,
            limits=settings.limits,
            bus=bus,
            store=store,
            holds=holds,
            dead_letters=dead_letters,
        )
        app.state.store = store
        app.state.pending_actions = worker
        worker.start()
        app.state.sources = sources
        app.state.bus = bus
        app.state.dead_letters = dead_letters
        readiness = Readiness()
        readiness.add("bus", bus.head)
        readiness.add("store", store.next_due)
        readiness.add_sources(sources)
        app.state.readiness = readiness
        app.state.metrics = metrics
        watch_holds(metrics, sources, interval=settings.metrics_sample_interval)
        watch_readiness(
            metrics, sources, resolver_config(settings).readiness_stage, interval=settings.metrics_sample_interval
        )
        watch_store(metrics, store, dead_letters, interval=min(5.0, settings.metrics_sample_interval))
        metrics.watch_sources(sources)
        event_counter = asyncio.create_task(metrics.follow_events(bus), name="lotgraph-metrics-events")
        try:
            yield
        finally:
            graphql.app = None
            await worker.stop()
            await store.aclose()
            invalidation.cancel()
            event_counter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await invalidation
            with contextlib.suppress(asyncio.CancelledError):
                await event_counter
            await dead_letters.aclose()
            await bus.aclose()
            await sources.aclose()
            if redis_client is not None:
                await redis_client.aclose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            webhook_route(settings.webhooks),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            dashboard_route(),
        ],
        middleware=[
            Middleware(CorrelationMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes),
            Middleware(AuthMiddleware, authenticator=authenticator),
            *rate_limit,
        ],
        lifespan=lifespan,
    )
