"""OpenTelemetry tracing, an optional extra (``pip install 'lotgraph[otel]'``, setting ``tracing = "otlp"``).

One span per GraphQL operation (``OperationSpan``, a schema extension with a synchronous ``on_operation`` hook:
no per-field hooks, which make large lists ten times slower) and one child span per upstream call, made from the
``on_call`` hook of ``SourceClient`` with the call's real start and end. Every span carries the correlation id
(``lotgraph.correlation_id``), the key to the JSON logs and the upstream systems' own records.

When a tracer provider is installed already (e.g. by ``opentelemetry-instrument``), it is used; otherwise one is
made that exports over OTLP/HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*`` and ``OTEL_SERVICE_NAME``
environment variables. Nothing here is imported unless tracing is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from strawberry.extensions import SchemaExtension

from sources.correlation import current_correlation_id, current_trace_context
from sources.http import CallStats

CORRELATION_ATTRIBUTE = "lotgraph.correlation_id"


def tracer_provider() -> trace.TracerProvider:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, trace.ProxyTracerProvider):
        return provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    sdk_provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "lotgraph"}))
    sdk_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(sdk_provider)
    return sdk_provider


class Tracing:
    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def extension(self) -> SchemaExtension:
        return OperationSpan(self.tracer)

    def on_call(self, stats: CallStats) -> None:
        """A span for one finished upstream call, child of the operation span that is current."""
        epoch_offset_ns = time.time_ns() - time.perf_counter_ns()
        start_ns = int(stats.started_at * 1e9) + epoch_offset_ns
        span = self.tracer.start_span(
            f"{stats.source} {stats.route}",
            kind=SpanKind.CLIENT,
            start_time=start_ns,
            attributes={
                "lotgraph.source": stats.source,
                "lotgraph.route": stats.route,
                "lotgraph.outcome": stats.outcome,
                CORRELATION_ATTRIBUTE: current_correlation_id() or "",
            },
        )
        if stats.outcome != "ok":
            span.set_status(Status(StatusCode.ERROR, stats.outcome))
        span.end(end_time=start_ns + int(stats.seconds * 1e9))


def build_tracing() -> Tracing:
    return Tracing(tracer_provider().get_tracer("lotgraph"))


def observe_both(
    first: Callable[[CallStats], None], second: Callable[[CallStats], None]
) -> Callable[[CallStats], None]:
    def on_call(stats: CallStats) -> None:
        first(stats)
        second(stats)

    return on_call


def _callers_trace() -> otel_context.Context | None:
    """The caller's W3C trace (its ``traceparent``) as the operation span's parent, so the span joins that trace."""
    caller = current_trace_context()
    if caller is None or caller.parent_id is None:
        return None
    parent = SpanContext(
        trace_id=int(caller.trace_id, 16),
        span_id=int(caller.parent_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(caller.flags, 16)),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


class OperationSpan(SchemaExtension):
    def __init__(self, tracer: trace.Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        span = self.tracer.start_span(
            "graphql.operation",
            context=_callers_trace(),
            kind=SpanKind.SERVER,
            attributes={CORRELATION_ATTRIBUTE: current_correlation_id() or ""},
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            self._describe(span)
            span.end()
            otel_context.detach(token)

    def _describe(self, span: trace.Span) -> None:
        context = self.execution_context
        name = None
        try:
            name = context.operation_name
            kind = context.operation_type.value if context.graphql_document is not None else None
        except Exception:  # an unknown or ambiguous operation: a request error, already answered as such
            kind = None
        if name:
            span.set_attribute("graphql.operation.name", name)
            span.update_name(f"{kind or 'graphql'} {name}")
        if kind:
            span.set_attribute("graphql.operation.type", kind)
        result = context.result
        if result is not None and result.errors:
            span.set_status(Status(StatusCode.ERROR, f"{len(result.errors)} GraphQL error(s)"))
            span.set_attribute("graphql.errors", len(result.errors))
