"""Hostile or oversize requests are refused with typed errors: depth, aliases, tokens, cost, body size, rate."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette

from api.app import build_graphql_schema
from api.settings import SOURCES, Settings, SettingsError, load_settings
from api.trusted import document_hash
from resolvers.config import ResolverConfig
from tests.conftest import PLANT, TEST_SECRET, Gateway, gateway_over, token


def _settings(tmp_path: Path, **env: str) -> Settings:
    urls = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    return load_settings({**urls, "LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_DATA_DIR": str(tmp_path), **env})


@pytest.fixture
async def bounded(plant: Starlette, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = _settings(
        tmp_path,
        LOTGRAPH_LIMITS_MAX_DEPTH="6",
        LOTGRAPH_LIMITS_MAX_ALIASES="3",
        LOTGRAPH_LIMITS_MAX_TOKENS="200",
        LOTGRAPH_LIMITS_MAX_COST="2000",
        LOTGRAPH_LIMITS_MAX_BODY_BYTES="4096",
        LOTGRAPH_LIMITS_RATE="0",
    )
    async with gateway_over(plant, settings) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ shipments { edges { node { lines { lots { holds { lot { id } } } } } } } }", "QUERY_TOO_DEEP"),
        (
            '{ a: lot(id: "1") { id } b: lot(id: "2") { id } c: lot(id: "3") { id } d: lot(id: "4") { id } }',
            "TOO_MANY_ALIASES",
        ),
        ("{ " + " ".join(["__typename"] * 250) + " }", "TOO_MANY_TOKENS"),
        ("{ shipments(first: 500) { edges { node { id lines { lots { id } } } } } }", "QUERY_TOO_COSTLY"),
    ],
)
async def test_oversize_operations_are_refused_before_they_run(bounded: Gateway, query: str, code: str) -> None:
    response = await bounded.post(query)
    assert response.status_code in (200, 400)
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body.get("data") is None


async def test_the_cost_error_says_how_costly(bounded: Gateway) -> None:
    body = (await bounded.post("{ shipments(first: 500) { edges { node { id lines { lots { id } } } } } }")).json()
    extensions = body["errors"][0]["extensions"]
    assert extensions["cost"] > extensions["maxCost"] == 2000


async def test_a_remembered_cost_follows_the_variables_it_depends_on(bounded: Gateway) -> None:
    """Costs are remembered per document and the numbers and list lengths of its variables: asked again with more
    items, the same document is costed again and refused; with the first variables again, it passes again."""
    query = "query($n: Int!) { shipments(first: $n) { edges { node { id lines { lots { id } } } } } }"
    codes = []
    for n in (5, 5, 500, 500, 5):
        body = (await bounded.post(query, {"n": n})).json()
        codes.append([e["extensions"]["code"] for e in body.get("errors", [])])
    assert codes == [[], [], ["QUERY_TOO_COSTLY"], ["QUERY_TOO_COSTLY"], []]


async def test_a_small_query_passes(bounded: Gateway) -> None:
    body = (await bounded.post("{ shipments(first: 5) { edges { node { id } } } }")).json()
    assert "errors" not in body


async def test_a_body_over_the_limit_is_413(bounded: Gateway) -> None:
    response = await bounded.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }", "x": "' + b"x" * 5000 + b'"}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token('admin')}"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_a_subject_over_its_rate_gets_429_with_retry_after(plant: Starlette, tmp_path: Path) -> None:
    settings = _settings(tmp_path, LOTGRAPH_LIMITS_RATE="1", LOTGRAPH_LIMITS_BURST="3")
    async with gateway_over(plant, settings) as gateway:
        alice = gateway.as_token(token("viewer", sub="alice"))
        statuses = [(await alice.post("{ __typename }")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await alice.post("{ __typename }")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        bob = gateway.as_token(token("viewer", sub="bob"))
        assert (await bob.post("{ __typename }")).status_code == 200  # buckets are per subject


async def test_production_mode_turns_off_introspection_and_the_ide(plant: Starlette, tmp_path: Path) -> None:
    settings = _settings(tmp_path, LOTGRAPH_MODE="production", LOTGRAPH_LIMITS_RATE="0")
    async with gateway_over(plant, settings) as gateway:
        body = (await gateway.post("{ __schema { types { name } } }")).json()
        assert body["errors"]
        assert body.get("data") is None
        ide = await gateway.client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code in (400, 404, 405)
        assert "graphiql" not in ide.text.lower()


async def test_development_mode_lets_everyone_in_and_says_so(
    plant: Starlette, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    urls = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    settings = load_settings({**urls, "LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_DATA_DIR": str(tmp_path)})
    async with gateway_over(plant, settings) as gateway:
        body = (await gateway.as_token(None).post('{ order(id: "SO-1") { id } }')).json()
        assert "errors" not in body
    assert any("AUTHENTICATION IS OFF" in r.getMessage() for r in caplog.records)


async def test_trusted_documents_mode_runs_only_registered_operations(plant: Starlette, tmp_path: Path) -> None:
    registered = "{ shipments(first: 1) { totalCount } }"
    manifest = tmp_path / "trusted.json"
    manifest.write_text(json.dumps({document_hash(registered): registered}))
    settings = _settings(tmp_path, LOTGRAPH_TRUSTED_DOCUMENTS=str(manifest), LOTGRAPH_LIMITS_RATE="0")
    async with gateway_over(plant, settings) as gateway:
        assert "errors" not in (await gateway.post(registered)).json()
        by_hash = await gateway.client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash(registered)}}},
            headers={"Authorization": f"Bearer {token('admin')}"},
        )
        assert by_hash.json()["data"]["shipments"]["totalCount"] > 0
        for other in ("{ shipments(first: 2) { totalCount } }", '{ order(id: "SO-1") { id } }'):
            body = (await gateway.post(other)).json()
            assert [e["extensions"]["code"] for e in body["errors"]] == ["TRUSTED_DOCUMENT_REQUIRED"]


def test_a_manifest_with_a_wrong_hash_stops_start_up(tmp_path: Path) -> None:
    manifest = tmp_path / "trusted.json"
    manifest.write_text(json.dumps({"0" * 64: "{ __typename }"}))
    with pytest.raises(SettingsError, match=r"LOTGRAPH_TRUSTED_DOCUMENTS: .* does not match its document"):
        _settings(tmp_path, LOTGRAPH_TRUSTED_DOCUMENTS=str(manifest))


async def test_queries_keep_working_when_the_rate_limiters_redis_is_down(
    plant: Starlette, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on: Redis is "down"
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings(tmp_path, LOTGRAPH_REDIS_URL=f"redis://127.0.0.1:{port}/0", LOTGRAPH_LIMITS_RATE="1")
    async with gateway_over(plant, settings) as gateway:
        statuses = [(await gateway.post("{ shipments(first: 1) { totalCount } }")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # fails open: no limit rather than no service
    assert any("cannot reach Redis" in r.getMessage() for r in caplog.records)


async def test_production_mode_names_no_schema_in_its_errors(plant: Starlette, tmp_path: Path) -> None:
    typo = "{ lots(first: 1) { edgs { node { id } } } }"
    async with gateway_over(plant, _settings(tmp_path, LOTGRAPH_LIMITS_RATE="0")) as development:
        assert "Did you mean 'edges'?" in (await development.post(typo)).json()["errors"][0]["message"]
    settings = _settings(tmp_path, LOTGRAPH_MODE="production", LOTGRAPH_LIMITS_RATE="0")
    async with gateway_over(plant, settings) as gateway:
        errors = (await gateway.post(typo)).json()["errors"]
        assert errors[0]["message"] == "Cannot query field 'edgs' on type 'LotConnection'."
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        enum = (await gateway.post('{ lotGenealogy(lotId: "L", direction: BACKWARDS) { maxDepth } }')).json()
        assert "Did you mean" not in json.dumps(enum)


@pytest.mark.parametrize("bearer", [None, "garbage"])
@pytest.mark.parametrize("query", ["{ lots(first: 1) { edgs { id } } }", "{ nosuch }", "{ __typename }"])
async def test_anonymous_callers_are_refused_before_validation(
    gateway: Gateway, bearer: str | None, query: str
) -> None:
    body = (await gateway.as_token(bearer).post(query)).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "edgs" not in json.dumps(body)
    assert "nosuch" not in json.dumps(body)


async def test_a_max_depth_over_the_server_cap_is_costed_at_the_cap(gateway: Gateway) -> None:
    body = (await gateway.post('{ lotGenealogy(lotId: "LOT-000001", maxDepth: 10000) { maxDepth } }')).json()
    assert "errors" not in body, body
    assert body["data"]["lotGenealogy"]["maxDepth"] == 30  # the server's cap, as the schema says


@pytest.mark.parametrize(
    ("roles", "query", "code"),
    [
        (None, "subscription { holdEvents { type } }", "UNAUTHENTICATED"),
        (
            {"admin"},
            "subscription { holdEvents { " + " ".join(f"a{i}: type" for i in range(40)) + " } }",
            "TOO_MANY_ALIASES",
        ),
        ({"shipping"}, "subscription { holdEvents { type } }", "FORBIDDEN"),
    ],
)
async def test_subscriptions_refused_before_they_run_answer_with_an_error(
    roles: set[str] | None, query: str, code: str
) -> None:
    schema = build_graphql_schema()
    context = SimpleNamespace(
        authenticated=roles is not None, roles=frozenset(roles or ()), auth_error=None, config=ResolverConfig()
    )
    stream = await schema.subscribe(query, context_value=context)  # raises nothing
    results = [result async for result in stream] if hasattr(stream, "__aiter__") else [stream]
    assert [[(e.extensions or {}).get("code") for e in r.errors or []] for r in results] == [[code]]
