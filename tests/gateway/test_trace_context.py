"""W3C trace context: a caller's ``traceparent``/``tracestate`` crosses the gateway into the systems of record (the
reference plant's request log shows what arrived), a request without one starts a trace, the correlation id stays,
and the logs carry the trace id."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.logs import JsonFormatter
from sources.correlation import accept_trace_context
from tests.conftest import Gateway, Plant

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
SHIPMENT = "{ shipmentReadiness(shipmentId: $id) { status } }"
TRACEPARENT_FORM = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


async def _upstream_log(plant_admin: Plant) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for system in ("erp", "qms", "wms"):
        items += (await plant_admin.client.get(f"/{system}/admin/requests")).json()["items"]
    return items


async def _readiness(gateway: Gateway, manifest: dict[str, Any], **headers: str) -> None:
    query = "query($id: ID!) " + SHIPMENT
    response = await gateway.post(query, {"id": manifest["shipments"]["ready"][0]}, **headers)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


async def test_the_callers_trace_reaches_every_upstream_call_with_a_span_id_of_its_own(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await plant_admin.reset_stats()
    headers = {"traceparent": TRACEPARENT, "tracestate": TRACESTATE, "X-Correlation-ID": "trace-test-1"}
    await _readiness(gateway, manifest, **headers)
    seen = await _upstream_log(plant_admin)
    assert len(seen) >= 3  # readiness reads the ERP, the QMS and the WMS
    spans = set()
    for request in seen:
        match = TRACEPARENT_FORM.fullmatch(request["traceparent"] or "")
        assert match, request
        trace_id, span_id, flags = match.groups()
        assert (trace_id, flags) == (TRACE_ID, "01")
        assert span_id != CALLER_SPAN  # the gateway is a hop of the trace: its own span id
        spans.add(span_id)
        assert request["tracestate"] == TRACESTATE
        assert request["x-correlation-id"] == "trace-test-1"  # the correlation id stays
    assert len(spans) == len(seen)


async def test_without_a_traceparent_each_request_starts_a_trace_of_its_own(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    trace_ids = []
    for attempt in range(2):
        await plant_admin.reset_stats()
        # an invalid traceparent is no traceparent, and its tracestate goes with it
        await _readiness(gateway, manifest, traceparent=f"00-{'0' * 32}-{CALLER_SPAN}-01", tracestate=TRACESTATE)
        seen = await _upstream_log(plant_admin)
        ids = {TRACEPARENT_FORM.fullmatch(r["traceparent"]).group(1) for r in seen}  # type: ignore[union-attr]
        assert len(ids) == 1, seen  # one trace for all the calls of the request
        assert all(r["tracestate"] is None for r in seen)
        trace_ids.append(ids.pop())
        assert trace_ids[-1] != "0" * 32, attempt
    assert trace_ids[0] != trace_ids[1]


class _JsonLines(logging.Handler):
    """Formats at emit time, in the request's context, as the gateway's JSON log handler does."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_logs() -> Iterator[_JsonLines]:
    handler, logger = _JsonLines(), logging.getLogger("lotgraph")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_log_lines_carry_the_trace_id_and_the_correlation_id(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any], json_logs: _JsonLines
) -> None:
    await plant_admin.faults("qms", outage=True)  # an upstream failure is logged
    query = "query($id: ID!) " + SHIPMENT
    headers = {"traceparent": TRACEPARENT, "X-Correlation-ID": "trace-test-logs"}
    response = await gateway.post(query, {"id": manifest["shipments"]["ready"][0]}, **headers)
    assert response.json()["data"]["shipmentReadiness"]["status"] == "UNKNOWN"
    failures = [line for line in json_logs.lines if line["msg"] == "upstream call failed"]
    assert failures
    assert all(line["trace_id"] == TRACE_ID and line["correlation_id"] == "trace-test-logs" for line in failures)


@pytest.mark.parametrize(
    ("traceparent", "kept"),
    [
        (TRACEPARENT, True),
        (TRACEPARENT.upper(), True),  # read case-insensitively, sent lowercase
        (f"cc-{TRACE_ID}-{CALLER_SPAN}-01-later-fields", True),  # a later version: its first four fields
        (f"00-{TRACE_ID}-{CALLER_SPAN}-01-extra", False),  # version 00 has exactly four fields
        (f"ff-{TRACE_ID}-{CALLER_SPAN}-01", False),
        (f"00-{TRACE_ID}-{'0' * 16}-01", False),
        (f"00-{TRACE_ID[:-1]}-{CALLER_SPAN}-01", False),
        ("garbage", False),
        (None, False),
    ],
)
def test_traceparent_is_read_as_the_w3c_recommendation_says(traceparent: str | None, kept: bool) -> None:
    context = accept_trace_context(traceparent, TRACESTATE)
    assert (context.trace_id == TRACE_ID and context.parent_id == CALLER_SPAN) is kept
    assert (context.state == TRACESTATE) is kept
    assert TRACEPARENT_FORM.fullmatch(context.traceparent())


def test_an_oversized_or_binary_tracestate_is_dropped_not_passed_on() -> None:
    assert accept_trace_context(TRACEPARENT, "a=" + "b" * 600).state is None
    assert accept_trace_context(TRACEPARENT, ",".join(f"k{i}=v" for i in range(40))).state is None
    assert accept_trace_context(TRACEPARENT, "k=v\x00").state is None
    assert accept_trace_context(TRACEPARENT, "").state is None
