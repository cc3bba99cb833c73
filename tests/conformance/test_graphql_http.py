"""GraphQL over HTTP: the graphql-http package's server audits pass against the live gateway, warnings included;
and the answers our own JSON clients rely on stay as they were."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conformance.conftest import Live
from tests.conformance.node import run_node

GQL_RESPONSE = "application/graphql-response+json"


def test_every_graphql_http_server_audit_passes(npm: Path, live: Live) -> None:
    results = run_node("http-audit.mjs", live.gateway)
    assert len(results) >= 50, results  # the suite ran, not an empty list
    failing = [f"{r['id']} {r['status']}: {r['name']} — {r['reason']}" for r in results if r["status"] != "ok"]
    assert not failing, "\n".join(failing)


def post(live: Live, body: dict[str, object], accept: str | None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return httpx.post(live.gateway, json=body, headers=headers, timeout=10)


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/json, text/plain"])
def test_json_clients_keep_200_and_a_null_data_entry_on_request_errors(live: Live, accept: str | None) -> None:
    response = post(live, {"query": "{ nosuchfield }"}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    "accept",
    [GQL_RESPONSE, f"{GQL_RESPONSE}, application/json", f"application/json;q=0.9, {GQL_RESPONSE}"],
)
def test_graphql_response_json_clients_get_400_and_no_data_on_request_errors(live: Live, accept: str) -> None:
    response = post(live, {"query": "{ nosuchfield }"}, accept)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_field_errors_stay_200_with_data_under_either_media_type(live: Live) -> None:
    query = {"query": "{ shipments(first: 0) { totalCount } __typename }"}
    for accept in (GQL_RESPONSE, "application/json"):
        response = post(live, query, accept)
        assert response.status_code == 200, accept
        body = response.json()
        assert "data" in body
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_the_preferred_media_type_wins(live: Live) -> None:
    prefers_json = post(live, {"query": "{ __typename }"}, f"{GQL_RESPONSE};q=0.5, application/json")
    assert prefers_json.headers["content-type"] == "application/json"
    prefers_gql = post(live, {"query": "{ __typename }"}, f"application/json;q=0.5, {GQL_RESPONSE}")
    assert prefers_gql.headers["content-type"].startswith(GQL_RESPONSE)
    assert prefers_gql.json() == {"data": {"__typename": "Query"}}


def test_queries_run_over_get_and_mutations_are_405_there(live: Live) -> None:
    query = httpx.get(live.gateway, params={"query": "{ __typename }"}, headers={"Accept": GQL_RESPONSE}, timeout=10)
    assert query.status_code == 200
    assert query.json() == {"data": {"__typename": "Query"}}
    mutation = httpx.get(live.gateway, params={"query": "mutation { __typename }"}, timeout=10)
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"
    assert mutation.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query": "{ __typename }", "operationName": 5}', "application/json"),
        (b"{ nope", "application/json"),
        *((body, "application/json") for body in (b"1", b'"query"', b"null", b"true")),
    ],
)
def test_http_level_errors_are_json_with_a_code(live: Live, content: bytes, content_type: str) -> None:
    response = httpx.post(live.gateway, content=content, headers={"Content-Type": content_type}, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
