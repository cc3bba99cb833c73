"""Client mistakes get typed errors, HTTP 200 or 400 as GraphQL over HTTP says, never a 500."""

import pytest

from tests.conftest import Gateway


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ shipments(first: 0) { totalCount } }", "INVALID_INPUT"),
        ("{ shipments(first: 501) { totalCount } }", "INVALID_INPUT"),
        ('{ lots(after: "garbage") { totalCount } }', "INVALID_CURSOR"),
        ('{ orders(ids: ["SO-1"], filter: {status: RELEASED}) { totalCount } }', "INVALID_INPUT"),
        ('{ lots(filter: {disposition: ON_HOLD, plant: "P1"}) { totalCount } }', "INVALID_INPUT"),
        (
            '{ shipments(filter: {shipDateFrom: "2026-12-01", shipDateTo: "2026-11-01"}) { totalCount } }',
            "INVALID_INPUT",
        ),
    ],
)
async def test_bad_arguments_are_typed_errors(gateway: Gateway, query: str, code: str) -> None:
    body = await gateway.query(query)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_more_than_500_ids_is_refused(gateway: Gateway) -> None:
    ids = [f"LOT-{i:06d}" for i in range(501)]
    body = await gateway.query("query($ids: [ID!]) { lots(ids: $ids) { totalCount } }", {"ids": ids})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "at most 500" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ order(id: 5.5) { id } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ order { id } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ nosuchfield }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ order(id: ", "GRAPHQL_PARSE_FAILED"),
        ('{ shipments(filter: {shipDateFrom: "yesterday"}) { totalCount } }', "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_invalid_documents_are_graphql_errors_not_500(gateway: Gateway, query: str, code: str) -> None:
    response = await gateway.post(query)
    assert response.status_code in (200, 400)
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"query": 5}', b"[]", b'{"variables": {}}'],
)
async def test_malformed_bodies_are_400(gateway: Gateway, body: bytes) -> None:
    response = await gateway.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_wrong_variable_types_are_refused(gateway: Gateway) -> None:
    response = await gateway.post("query($f: Int!) { shipments(first: $f) { totalCount } }", {"f": "ten"})
    assert response.status_code in (200, 400)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
