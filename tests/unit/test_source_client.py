"""The shared source client over httpx.MockTransport: deadlines, error mapping, chunking, correlation header."""

import asyncio
import json

import httpx
import pytest

from sources.contract.mes import MesSource
from sources.correlation import set_correlation_id
from sources.errors import NotFound, SourceProtocolError, SourceRejected, SourceUnavailable
from sources.http import CallStats, SourceClient


def client(handler: httpx.MockTransport, timeout: float = 1.0, calls: list[CallStats] | None = None) -> SourceClient:
    return SourceClient(
        "qms",
        "http://qms.test",
        timeout=timeout,
        transport=handler,
        batch_limit=3,
        on_call=None if calls is None else calls.append,
    )


async def test_batch_reads_are_chunked_at_the_limit_and_run_together() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = request.url.params["ids"].split(",")
        asked.append(request.url.params["ids"])
        return httpx.Response(200, json={"items": [{"id": i} for i in ids], "missing": []})

    items = await client(httpx.MockTransport(handler)).get_batch("/lots", "ids", ["a", "b", "c", "d", "a"])
    assert sorted(asked) == ["a,b,c", "d"]
    assert [i["id"] for i in items] == ["a", "b", "c", "d"]


async def test_no_ids_no_call() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no call expected")

    assert await client(httpx.MockTransport(handler)).get_batch("/lots", "ids", []) == []


async def test_the_correlation_id_goes_upstream() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Correlation-ID"))
        return httpx.Response(200, json={"items": []})

    set_correlation_id("corr-42")
    await client(httpx.MockTransport(handler)).get("/lots")
    assert seen == ["corr-42"]


async def test_a_slow_upstream_costs_one_deadline() -> None:
    never = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await never.wait()
        raise AssertionError("unreachable")

    calls: list[CallStats] = []
    with pytest.raises(SourceUnavailable, match="did not answer in time") as caught:
        await client(httpx.MockTransport(handler), timeout=0.05, calls=calls).get("/lots")
    assert caught.value.source == "qms"
    assert [c.outcome for c in calls] == ["timeout"]


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(503, json={"error": {"code": "UNAVAILABLE"}}), SourceUnavailable, "failing"),
        (httpx.Response(500, text="boom"), SourceUnavailable, "failing"),
        (httpx.Response(200, text="{not json"), SourceProtocolError, "invalid JSON"),
        (httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no lot X"}}), NotFound, "no lot X"),
        (httpx.Response(400, json={"error": {"code": "BAD"}}), SourceProtocolError, "refused"),
    ],
)
async def test_errors_map_into_one_tree(response: httpx.Response, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        await client(httpx.MockTransport(lambda _: response)).get("/lots/X")


async def test_refused_commands_keep_the_upstream_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Idempotency-Key"] == "k1"
        return httpx.Response(409, json={"error": {"code": "HOLD_NOT_ACTIVE", "message": "hold H-1 is released"}})

    with pytest.raises(SourceRejected) as caught:
        await client(httpx.MockTransport(handler)).command("/holds/H-1/release", {}, idempotency_key="k1", route="r")
    assert caught.value.upstream_code == "HOLD_NOT_ACTIVE"
    assert caught.value.status == 409


async def test_connect_errors_are_unavailable_and_name_no_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused to 10.1.2.3", request=request)

    with pytest.raises(SourceUnavailable) as caught:
        await client(httpx.MockTransport(handler)).get("/lots")
    assert "10.1.2.3" not in str(caught.value)


async def test_records_of_the_wrong_shape_are_protocol_errors() -> None:
    body = {"items": [{"input_lot_id": "A", "output_lot_id": 7}]}
    mes = MesSource(
        SourceClient(
            "mes",
            "http://mes.test",
            timeout=1,
            transport=httpx.MockTransport(lambda _: httpx.Response(200, content=json.dumps(body))),
        )
    )
    with pytest.raises(SourceProtocolError) as caught:
        await mes.edges_into(["B"])
    assert caught.value.source == "mes"
