"""Prometheus metrics: one registry per app, served at ``/metrics``.

What the gateway does is counted where it happens, with no per-field hooks:

- GraphQL operations by name, type and outcome, and their duration — ``OperationMetrics``, a schema extension with
  synchronous ``on_operation``/``on_execute`` hooks only (an async ``resolve`` hook makes large lists ten times
  slower);
- active subscriptions — the same extension;
- upstream calls by source and outcome, with a latency histogram — ``Metrics.observe_call``, the ``on_call`` hook of
  every ``SourceClient``;
- events in — ``follow_events``, a follower of the event bus, counts every event appended (by any replica);
- events out — the same extension counts every result a subscription sends.

Figures that live in a store or upstream (pending actions, dead letters, active holds, blocked stock, open shipments
by readiness) are *sampled*: an async function registered with ``watch`` sets gauges, and ``/metrics`` runs the
samplers that are due (at most once per ``interval``, each under a deadline) before it renders. A sampler that
fails leaves its gauges as they were and reports ``lotgraph_sampler_up{sampler=...} 0``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from graphql import FieldNode, GraphQLError, get_operation_ast
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.types.graphql import OperationType

from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.http import CallStats
from sources.ports import EventBus
from sources.resilience import BreakerState

log = logging.getLogger("lotgraph.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
OPERATION_NAMES_LIMIT = 200
"""Distinct operation names counted one by one; later new names count as ``other`` (names come from clients)."""
OPERATION_NAME_LENGTH = 64
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Sampler = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Watch:
    sample: Sampler
    interval: float
    last_run: float = float("-inf")


class Metrics:
    def __init__(self, *, sample_timeout: float = 5.0) -> None:
        self.registry = CollectorRegistry()
        self.sample_timeout = sample_timeout
        r = self.registry
        # -- the gateway's own work ----------------------------------------------------------------------------
        self.operations = Counter(
            "lotgraph_graphql_operations",
            "GraphQL operations by operation name, type (query, mutation, subscription, unknown) and outcome "
            "(ok: no error; partial: data with errors; failed: no data).",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "lotgraph_graphql_operation_duration_seconds",
            "Time to answer a query or mutation (subscriptions are not timed).",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.active_subscriptions = Gauge(
            "lotgraph_graphql_active_subscriptions", "Subscriptions running now (WebSocket and SSE).", registry=r
        )
        self.upstream_seconds = Histogram(
            "lotgraph_upstream_call_duration_seconds",
            "Calls to upstream systems by source and outcome, as the source client reports it (ok, timeout, "
            "unreachable, failing, protocol, breaker_open); _count counts calls.",
            ["source", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_in = Counter(
            "lotgraph_events_in",
            "Events appended to the event log by any replica (upstream webhooks and lotgraph's own commands), by "
            "source and type, as this replica follows the bus.",
            ["source", "type"],
            registry=r,
        )
        self.events_out = Counter(
            "lotgraph_events_out",
            "Results sent to subscribers by this replica, by subscription field.",
            ["subscription"],
            registry=r,
        )
        # -- sampled from the store -----------------------------------------------------------------------------
        self.pending_actions = Gauge(
            "lotgraph_pending_actions",
            "Command steps kept durably (e.g. the WMS block after a QMS hold) by status: PENDING (being retried) or "
            "FAILED (given up on, escalated).",
            ["status"],
            registry=r,
        )
        self.pending_action_age = Gauge(
            "lotgraph_pending_action_oldest_age_seconds",
            "Age of the oldest open pending action (exception aging), by status (PENDING, FAILED); 0 when none.",
            ["status"],
            registry=r,
        )
        self.pending_actions_by_age = Gauge(
            "lotgraph_pending_actions_by_age",
            "Open pending actions by status and age band (under 1 m, 1 m to 1 h, 1 h to 1 d, over 1 d).",
            ["status", "age"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "lotgraph_dead_letters",
            "Webhooks lotgraph could not record as events, kept for an operator, by status (PENDING, REPLAYED).",
            ["status"],
            registry=r,
        )
        # -- sampled from the source clients --------------------------------------------------------------------
        self.breaker_state = Gauge(
            "lotgraph_source_breaker_state",
            "Circuit breaker of each source: 1 for its current state (CLOSED, OPEN, HALF_OPEN), 0 for the others.",
            ["source", "state"],
            registry=r,
        )
        self.calls_in_flight = Gauge(
            "lotgraph_source_calls_in_flight",
            "Upstream calls in flight per source (bulkhead use).",
            ["source"],
            registry=r,
        )
        # -- business figures, sampled from the systems of record ----------------------------------------------
        self.active_holds = Gauge("lotgraph_active_holds", "Quality holds ACTIVE in the QMS.", registry=r)
        self.oldest_active_hold_age = Gauge(
            "lotgraph_oldest_active_hold_age_seconds",
            "Age of the oldest ACTIVE quality hold (0 when there is none).",
            registry=r,
        )
        self.blocked_stock = Gauge(
            "lotgraph_blocked_stock_quantity",
            "BLOCKED stock in the WMS of the lots under an ACTIVE hold, by unit of measure.",
            ["uom"],
            registry=r,
        )
        self.open_shipments = Gauge(
            "lotgraph_open_shipments",
            "Open shipments (PLANNED, IN_PROGRESS) by readiness: READY, NOT_READY, UNKNOWN.",
            ["readiness"],
            registry=r,
        )
        self.sampler_up = Gauge(
            "lotgraph_sampler_up", "1 when the sampler's last run succeeded, else 0.", ["sampler"], registry=r
        )
        self.sampler_seconds = Gauge(
            "lotgraph_sampler_duration_seconds", "How long the sampler's last run took.", ["sampler"], registry=r
        )
        self._operation_names: set[str] = set()
        self._watches: dict[str, _Watch] = {}
        self._refresh_lock = asyncio.Lock()

    # -- counting, called where things happen ------------------------------------------------------------------

    def observe_operation(self, name: str | None, kind: str, outcome: str, seconds: float | None) -> None:
        self.operations.labels(self._name_label(name), kind, outcome).inc()
        if seconds is not None:
            self.operation_seconds.labels(kind).observe(seconds)

    def observe_call(self, stats: CallStats) -> None:
        """The ``on_call`` hook of ``SourceClient``."""
        self.upstream_seconds.labels(stats.source, stats.outcome).observe(stats.seconds)

    def count_event_in(self, event: Event) -> None:
        self.events_in.labels(event.source, event.type).inc()

    async def follow_events(self, bus: EventBus) -> None:
        """Count the events of the bus, live, until cancelled; after a bus error, follow again a second later."""
        while True:
            try:
                async for event in bus.subscribe(after=None):
                    self.count_event_in(event)
            except Exception:
                log.warning("metrics: following the event bus failed; following again", exc_info=True)
            await asyncio.sleep(1.0)

    def _name_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        name = name[:OPERATION_NAME_LENGTH]
        if name in self._operation_names:
            return name
        if len(self._operation_names) >= OPERATION_NAMES_LIMIT:
            return "other"
        self._operation_names.add(name)
        return name

    # -- sampled figures ---------------------------------------------------------------------------------------

    def watch(self, name: str, sample: Sampler, *, interval: float) -> None:
        """Run ``sample`` (which sets gauges) before a scrape, at most once per ``interval`` seconds."""
        self._watches[name] = _Watch(sample, interval)
        self.sampler_up.labels(name).set(0)

    def watch_counts(
        self,
        gauge: Gauge,
        count: Callable[[], Awaitable[Mapping[str, int]]],
        *,
        name: str,
        interval: float,
        known: Sequence[str] = (),
    ) -> None:
        """``count()`` answers a number per label value of ``gauge`` (one label); ``known`` values it leaves out
        are 0, others it leaves out disappear."""

        async def sample() -> None:
            counts = {**dict.fromkeys(known, 0), **await count()}
            gauge.clear()
            for label, value in counts.items():
                gauge.labels(label).set(value)

        self.watch(name, sample, interval=interval)

    def watch_open_shipments(
        self, count: Callable[[], Awaitable[Mapping[str, int]]], *, interval: float = 60.0
    ) -> None:
        """``count()`` answers open shipments per readiness status, e.g. ``{"READY": 3, "NOT_READY": 2}``."""
        known = ("READY", "NOT_READY", "UNKNOWN")
        self.watch_counts(self.open_shipments, count, name="open_shipments", interval=interval, known=known)

    def watch_sources(self, sources: Sources) -> None:
        """Breaker state and calls in flight of every source client, read at every scrape (no I/O)."""

        async def sample() -> None:
            for source in sources.all:
                health = source.health()
                for state in BreakerState:
                    self.breaker_state.labels(health.source, state.value).set(int(health.state is state))
                self.calls_in_flight.labels(health.source).set(health.in_flight)

        self.watch("sources", sample, interval=0.0)

    async def refresh(self) -> None:
        """Run every sampler that is due, concurrently, each under ``sample_timeout``."""
        async with self._refresh_lock:
            now = time.monotonic()
            due = [(name, w) for name, w in self._watches.items() if now - w.last_run >= w.interval]
            await asyncio.gather(*(self._run(name, watch) for name, watch in due))

    async def _run(self, name: str, watch: _Watch) -> None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.sample_timeout):
                await watch.sample()
        except Exception:
            log.warning("metrics sampler failed", extra={"sampler": name}, exc_info=True)
            self.sampler_up.labels(name).set(0)
        else:
            self.sampler_up.labels(name).set(1)
        finally:
            watch.last_run = time.monotonic()
            self.sampler_seconds.labels(name).set(watch.last_run - started)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, _: Request) -> Response:
        """``GET /metrics``: samplers that are due run first."""
        await self.refresh()
        return Response(self.render(), media_type=CONTENT_TYPE)


def outcome_of(data: object, errors: list[GraphQLError] | None) -> str:
    if not errors:
        return "ok"
    return "failed" if data is None else "partial"


class OperationMetrics(SchemaExtension):
    """Counts every operation once, when it ends; a subscription is active from its start until it ends."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics
        self.subscribed = False
        self.subscription = ""

    def on_execute(self) -> Iterator[None]:
        if getattr(self.execution_context.context, "on_shared_event", None) is not None:
            yield  # a shared stream (api/fanout.py): its subscribers are counted, and their events, one by one
            return
        if not self.subscribed and self._kind() == "subscription":
            self.subscribed = True
            self.subscription = self._root_field()
            self.metrics.active_subscriptions.inc()
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        if self.subscribed and getattr(result, "data", None) is not None:
            self.metrics.events_out.labels(self.subscription).inc()
        yield

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised = False
        try:
            yield
        except BaseException:
            raised = True
            raise
        finally:
            if self.subscribed:
                self.metrics.active_subscriptions.dec()
            context = self.execution_context
            result = context.result
            outcome = "failed" if raised or result is None else outcome_of(result.data, result.errors)
            kind = self._kind()
            seconds = None if kind == "subscription" else time.perf_counter() - started
            self.metrics.observe_operation(self._name(), kind, outcome, seconds)

    def _kind(self) -> str:
        if self.execution_context.graphql_document is None:
            return "unknown"
        try:
            kind: OperationType = self.execution_context.operation_type
        except Exception:  # no such operation in the document, or several and no name: a request error
            return "unknown"
        return kind.value

    def _root_field(self) -> str:
        document = self.execution_context.graphql_document
        operation = get_operation_ast(document, self._name()) if document else None
        selection = operation.selection_set.selections[0] if operation and operation.selection_set.selections else None
        return selection.name.value if isinstance(selection, FieldNode) else "unknown"

    def _name(self) -> str | None:
        return self.execution_context.operation_name
