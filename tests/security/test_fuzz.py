"""Fuzzing: queries and mutations generated from the schema with random arguments, malformed bodies and headers.

How many cases depends on the Hypothesis profile (tests/conftest.py): a fixed set of about 500 by default (``ci``),
over 2,000 random ones with ``HYPOTHESIS_PROFILE=thorough``. Whatever a client sends: no 5xx, no unexpected error
(``INTERNAL``) in an answer, and no error logged by the error policy.
"""

from __future__ import annotations

import logging
from typing import Any

import hypothesis_graphql
import pytest
from graphql import GraphQLSchema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from api.app import build_graphql_schema
from tests.conftest import FreshPlant, Gateway

SCHEMA: GraphQLSchema = build_graphql_schema()._schema
SCALARS = {
    "Date": st.dates().map(nodes.String),
    "DateTime": st.datetimes().map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.none().map(lambda _: nodes.String("{}")),
}


def fuzz(share: float) -> settings:
    """``share`` times the profile's ``max_examples`` cases for this test (the profile sets the rest)."""
    return settings(
        max_examples=round(share * settings.default.max_examples),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


OK_STATUSES = {200, 400, 405, 413, 415, 429}


def _check(status: int, body: Any) -> None:
    assert status in OK_STATUSES, (status, body)
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        assert error.get("extensions", {}).get("code") != "INTERNAL", error


@pytest.fixture
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.ERROR)
    yield
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("lotgraph")]
    assert unexpected == [], [r.getMessage() for r in unexpected]


@fuzz(3)
@given(query=hypothesis_graphql.queries(SCHEMA, custom_scalars=SCALARS))
async def test_generated_queries(gateway: Gateway, no_unexpected_errors: None, query: str) -> None:
    response = await gateway.post(query)
    _check(response.status_code, response.json())


@fuzz(1)
@given(mutation=hypothesis_graphql.mutations(SCHEMA, custom_scalars=SCALARS))
async def test_generated_mutations(fresh_plant: FreshPlant, no_unexpected_errors: None, mutation: str) -> None:
    response = await fresh_plant.gateway.post(mutation)
    _check(response.status_code, response.json())


BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=12,
    ).map(lambda value: __import__("json").dumps({"query": value, "variables": value}).encode()),
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@fuzz(1.25)
@given(
    body=BODIES,
    content_type=st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "text/plain",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "",
        ]
    ),
    authorization=st.one_of(st.none(), HEADER_VALUES, HEADER_VALUES.map(lambda v: f"Bearer {v}")),
    correlation=HEADER_VALUES,
)
async def test_malformed_requests(
    gateway: Gateway,
    no_unexpected_errors: None,
    body: bytes,
    content_type: str,
    authorization: str | None,
    correlation: str,
) -> None:
    headers = {"Content-Type": content_type, "X-Correlation-ID": correlation}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await gateway.client.post("/graphql", content=body, headers=headers)
    assert response.status_code in OK_STATUSES, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
