"""What a running gateway is made of: ``Services``, opened together in the lifespan and closed together.

``open_services(settings, ...)`` opens every client, store and bus on one ``AsyncExitStack``: each part is
registered for closing as soon as it is open, so when a later one fails to open (the store, say) the ones before
it are closed, in reverse order, and nothing leaks. Routes are built before the lifespan runs; they hold a
``ServicesRef`` and read the running ``Services`` from it (503 while starting).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx
import redis.asyncio as aioredis

from api.adapters import change_feeds, open_sources
from api.auth import Authenticator
from api.figures import watch_holds, watch_readiness, watch_store
from api.health import Probes
from api.metrics import Metrics
from api.ratelimit import Buckets, MemoryBuckets, RedisBuckets
from api.settings import Settings
from resolvers.config import ResolverConfig
from resolvers.events.cache_invalidation import keep_caches_fresh
from resolvers.events.polling import run_poller
from resolvers.holds.policy import HoldPolicy
from resolvers.holds.worker import PendingActionWorker
from sources.bundle import Sources
from sources.bus.redis import RedisBus
from sources.bus.sqlite import SqliteBus
from sources.changes import Memory, SqliteMemory
from sources.deadletters import DeadLetterStore, RedisDeadLetters, SqliteDeadLetters
from sources.http import CallStats
from sources.ports import EventBus
from sources.store import SqliteStore, Store
from sources.store.postgres import PostgresStore
from sources.store.postgres_state import PostgresDeadLetters, PostgresMemory

if TYPE_CHECKING:
    from sources.store.redis import RedisStore


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the routes and resolvers use, opened by ``open_services``; resolvers see it through their
    ``Context`` (``resolvers.context.Services`` is the part of it they may use)."""

    settings: Settings
    sources: Sources
    bus: EventBus
    store: Store
    dead_letters: DeadLetterStore
    holds: HoldPolicy
    config: ResolverConfig
    metrics: Metrics
    probes: Probes
    authenticator: Authenticator
    buckets: Buckets | None
    """Rate-limit buckets (in process, or in Redis over ``redis``); None when rate limiting is off."""
    pending_actions: PendingActionWorker
    redis: aioredis.Redis | None = None
    """The Redis client of the rate limiter, when it uses Redis."""


class ServicesRef:
    """Late-bound: routes and middleware are built before the lifespan opens the services; they hold this."""

    def __init__(self) -> None:
        self.current: Services | None = None

    def get(self) -> Services:
        if self.current is None:
            raise RuntimeError("the gateway is not running (its lifespan has not started, or has ended)")
        return self.current


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    metrics: Metrics,
    authenticator: Authenticator,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    on_call: Callable[[CallStats], None] | None = None,
) -> AsyncIterator[Services]:
    async with contextlib.AsyncExitStack() as stack:
        sources = open_sources(settings, transports, on_call)
        stack.push_async_callback(sources.aclose)
        bus = await _opened(stack, build_bus(settings))
        store = await _opened(stack, build_store(settings))
        dead_letters = await _opened(stack, build_dead_letters(settings, store))
        _run(stack, keep_caches_fresh(bus, sources), "lotgraph-cache-invalidation")
        _poll_changes(stack, settings, sources, bus, on_call, store)
        redis = _redis_client(settings)
        if redis is not None:
            stack.push_async_callback(redis.aclose)
        holds = settings.holds
        worker = PendingActionWorker(store, sources, holds, bus)
        worker.start()
        stack.push_async_callback(worker.stop)
        services = Services(
            settings=settings,
            sources=sources,
            bus=bus,
            store=store,
            dead_letters=dead_letters,
            holds=holds,
            config=settings.resolvers,
            metrics=metrics,
            probes=_probes(sources, bus, store),
            authenticator=authenticator,
            buckets=_buckets(settings, redis),
            pending_actions=worker,
            redis=redis,
        )
        _watch(stack, services)
        yield services


class _Openable(Protocol):
    async def open(self) -> None: ...
    async def aclose(self) -> None: ...


_Part = TypeVar("_Part", bound=_Openable)


async def _opened(stack: contextlib.AsyncExitStack, part: _Part) -> _Part:
    """Open ``part`` and register its closing; a part that fails to open cleans up after itself."""
    await part.open()
    stack.push_async_callback(part.aclose)
    return part


def _run(stack: contextlib.AsyncExitStack, work: Coroutine[Any, Any, None], name: str) -> None:
    task = asyncio.create_task(work, name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


def _poll_changes(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    sources: Sources,
    bus: EventBus,
    on_call: Callable[[CallStats], None] | None,
    store: Store,
) -> None:
    """Pollers for the systems that send no webhooks (Tryton), their watermarks kept in PostgreSQL with the store
    there, else under the data directory."""
    every_site = [settings.sources, *(site.sources for site in settings.sites.values())]
    if all(source.kind != "tryton" for sources_of in every_site for source in sources_of.values()):
        return
    memory: Memory
    if isinstance(store, PostgresStore):
        memory = PostgresMemory(store)
    else:
        memory = SqliteMemory(settings.data_dir / "tryton-poll.db")
    for polled in change_feeds(settings, memory, on_call):
        stack.push_async_callback(polled.feed.aclose)
        work = run_poller(polled.feed, polled.systems, sources, bus, memory, every=polled.every, site=polled.site)
        _run(stack, work, f"lotgraph-poll-{polled.feed.name}")


def _watch(stack: contextlib.AsyncExitStack, services: Services) -> None:
    """The business figures of /metrics, sampled from the running services."""
    metrics, sources, interval = services.metrics, services.sources, services.settings.metrics_sample_interval
    watch_holds(metrics, sources, interval=interval)
    watch_readiness(metrics, sources, services.config.readiness_stage, interval=interval)
    watch_store(metrics, services.store, services.dead_letters, interval=min(5.0, interval))
    metrics.watch_sources(sources)
    _run(stack, metrics.follow_events(services.bus), "lotgraph-metrics-events")


def _probes(sources: Sources, bus: EventBus, store: Store) -> Probes:
    probes = Probes()
    probes.add("bus", bus.head)
    probes.add("store", store.next_due)
    probes.add_sources(sources)
    return probes


def build_bus(settings: Settings) -> SqliteBus | RedisBus:
    """The event bus the settings ask for: the embedded SQLite log by default, Redis Streams with ``bus = redis``."""
    if settings.bus == "redis":
        assert settings.redis_url is not None  # load_settings requires it with bus = redis
        return RedisBus(
            settings.redis_url,
            stream=f"{settings.redis_prefix}events",
            retention=settings.events.retention,
            queue_size=settings.events.queue_size,
        )
    return SqliteBus(settings.data_dir / "events.db", queue_size=settings.events.queue_size)


def build_dead_letters(settings: Settings, store: Store) -> DeadLetterStore:
    """Where webhooks that could not be recorded are kept: in PostgreSQL with the store there, else beside the event
    log (SQLite, or Redis with the bus)."""
    if isinstance(store, PostgresStore):
        return PostgresDeadLetters(store)
    if settings.bus == "redis":
        assert settings.redis_url is not None
        return RedisDeadLetters(settings.redis_url, prefix=settings.redis_prefix)
    return SqliteDeadLetters(settings.data_dir / "deadletters.db")


def build_store(settings: Settings) -> SqliteStore | RedisStore | PostgresStore:
    """The durable store of idempotency records and pending actions: SQLite under the data directory, PostgreSQL,
    or Redis."""
    if settings.store == "postgres":
        assert settings.postgres_url is not None  # load_settings requires it with store = postgres
        return PostgresStore(
            settings.postgres_url, ttl_seconds=settings.idempotency_ttl, pool_size=settings.postgres_pool_size
        )
    if settings.store == "redis":
        from sources.store.redis import RedisStore

        assert settings.redis_url is not None  # load_settings requires it with store = redis
        return RedisStore(settings.redis_url, ttl_seconds=settings.idempotency_ttl, prefix=settings.redis_prefix)
    return SqliteStore(settings.data_dir / "store.db", ttl_seconds=settings.idempotency_ttl)


def _redis_client(settings: Settings) -> aioredis.Redis | None:
    """The rate limiter's client: only when limits are on and Redis is configured (it connects on first use)."""
    if settings.redis_url and settings.limits.rate > 0:
        return aioredis.from_url(settings.redis_url)
    return None


def _buckets(settings: Settings, redis: aioredis.Redis | None) -> Buckets | None:
    limits = settings.limits
    if limits.rate <= 0:
        return None
    if redis is not None:
        return RedisBuckets(redis, limits.rate, limits.burst, prefix=f"{settings.redis_prefix}rate:")
    return MemoryBuckets(limits.rate, limits.burst)
