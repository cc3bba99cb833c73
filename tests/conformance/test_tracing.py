"""OpenTelemetry (the otel extra): a span per operation and per upstream call, carrying the correlation id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette

from api.app import create_app
from api.settings import SOURCES, SettingsError, load_settings
from tests.conformance.test_operations import settings_env


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans of this process, in memory: the provider a deployment would install (e.g. opentelemetry-instrument)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    yield exporter
    exporter.clear()


async def gateway(plant: Starlette, tmp_path: Path, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(settings_env(tmp_path, **env))
    app = create_app(settings, transports=dict.fromkeys(SOURCES, httpx.ASGITransport(app=plant)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    async with app.router.lifespan_context(app), client:
        yield client


@pytest.fixture
async def traced(plant: Starlette, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in gateway(plant, tmp_path, LOTGRAPH_TRACING="otlp"):
        yield client


@pytest.fixture
async def untraced(plant: Starlette, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in gateway(plant, tmp_path):
        yield client


QUERY = "query Dock { shipments(first: 3) { edges { node { id warehouseStage lines { lots { id disposition } } } } } }"


async def test_one_span_per_operation_and_per_upstream_call(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    response = await traced.post("/graphql", json={"query": QUERY}, headers={"X-Correlation-ID": "trace-me-1"})
    assert "errors" not in response.json()
    spans = exporter.get_finished_spans()
    (operation,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert operation.name == "query Dock"
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Dock"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["lotgraph.correlation_id"] == "trace-me-1"

    calls = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert {s.attributes["lotgraph.source"] for s in calls if s.attributes} == {"erp", "wms", "mes", "qms"}
    for call in calls:
        assert call.parent is not None
        assert call.parent.span_id == operation.context.span_id
        assert call.context.trace_id == operation.context.trace_id
        assert call.attributes is not None
        assert call.attributes["lotgraph.correlation_id"] == "trace-me-1"
        assert call.start_time is not None
        assert call.end_time is not None
        assert operation.start_time is not None
        assert operation.end_time is not None
        assert operation.start_time <= call.start_time <= call.end_time <= operation.end_time


async def test_errors_mark_the_operation_span(traced: httpx.AsyncClient, exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    await traced.post("/graphql", json={"query": "query Broken { nosuchfield }"})
    (operation,) = exporter.get_finished_spans()
    assert operation.status.status_code is trace.StatusCode.ERROR


async def test_no_spans_when_tracing_is_off(untraced: httpx.AsyncClient, exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    response = await untraced.post("/graphql", json={"query": QUERY})
    assert "errors" not in response.json()
    assert exporter.get_finished_spans() == ()


def test_the_tracing_setting_is_checked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="LOTGRAPH_TRACING: must be one of off, otlp"):
        load_settings(settings_env(tmp_path, LOTGRAPH_TRACING="zipkin"))


async def test_the_operation_span_joins_the_callers_w3c_trace(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    trace_id, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{trace_id}-{caller_span}-01"}
    response = await traced.post("/graphql", json={"query": QUERY}, headers=headers)
    assert "errors" not in response.json()
    (operation,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert operation.context.trace_id == int(trace_id, 16)
    assert operation.parent is not None
    assert operation.parent.span_id == int(caller_span, 16)
