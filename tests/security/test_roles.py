"""The role matrix: every query and mutation of the schema, tried with no token, an expired token, a bad signature,
a token for another issuer's key, and each role. Subscriptions are tried over WebSocket in tests/e2e."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)

from api.app import build_graphql_schema
from api.authz import POLICY
from tests.conftest import TEST_SECRET, Gateway, token

SCHEMA = build_graphql_schema()._schema
ROLES = ("shipping", "quality", "viewer", "admin")
DENIED = {"UNAUTHENTICATED", "FORBIDDEN"}


def _value(kind: GraphQLInputType) -> str:
    if isinstance(kind, GraphQLNonNull):
        return _value(kind.of_type)
    if isinstance(kind, GraphQLList):
        return f"[{_value(kind.of_type)}]"
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        fields = [f"{name}: {_value(f.type)}" for name, f in kind.fields.items() if isinstance(f.type, GraphQLNonNull)]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(kind, GraphQLScalarType)
    return {"Int": "1", "Float": "1.0", "Boolean": "false", "Date": '"2026-11-23"'}.get(kind.name, '"role-matrix-x"')


def _operation(kind: str, name: str, field: GraphQLField) -> str:
    args = [f"{arg}: {_value(a.type)}" for arg, a in field.args.items() if isinstance(a.type, GraphQLNonNull)]
    call = f"{name}({', '.join(args)})" if args else name
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{kind} {{ {call}{selection} }}"


OPERATIONS = [
    (kind, name, _operation(kind, name, field))
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type))
    if root is not None
    for name, field in root.fields.items()
    if not name.startswith("_")
]


def _codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors") or []}


@pytest.mark.parametrize(("kind", "name", "operation"), OPERATIONS, ids=[f"{k}.{n}" for k, n, _ in OPERATIONS])
async def test_every_operation_answers_only_the_right_roles(
    gateway: Gateway, kind: str, name: str, operation: str
) -> None:
    now = int(time.time())
    expired = jwt.encode({"sub": "x", "roles": list(ROLES), "exp": now - 3600}, TEST_SECRET, algorithm="HS256")
    forged = jwt.encode({"sub": "x", "roles": list(ROLES), "exp": now + 600}, "not-the-key-" * 4, algorithm="HS256")
    for bearer in (None, expired, forged, "garbage"):
        body = (await gateway.as_token(bearer).post(operation)).json()
        assert _codes(body) == {"UNAUTHENTICATED"}, (bearer, body)
        assert body.get("data") is None
    allowed = POLICY[(kind.capitalize(), name)]
    for role in ROLES:
        body = (await gateway.as_token(token(role)).post(operation)).json()
        if role in allowed:
            assert not (_codes(body) & DENIED), (role, body)
        else:
            assert _codes(body) == {"FORBIDDEN"}, (role, body)
            assert body.get("data") is None
            assert "Traceback" not in str(body)


async def test_a_token_with_several_roles_may_do_what_each_may(gateway: Gateway) -> None:
    both = gateway.as_token(token("shipping", "quality"))
    body = (await both.post('{ order(id: "SO-1") { id } lot(id: "LOT-1") { id } }')).json()
    assert not (_codes(body) & DENIED), body
    only = gateway.as_token(token("shipping"))
    body = (await only.post('{ order(id: "SO-1") { id } lot(id: "LOT-1") { id } }')).json()
    assert _codes(body) == {"FORBIDDEN"}
    assert "lot" in body["errors"][0]["message"]


async def test_fragments_do_not_hide_a_root_field(gateway: Gateway) -> None:
    shipping = gateway.as_token(token("shipping"))
    body = (await shipping.post("query { ...F } fragment F on Query { lots(first: 1) { totalCount } }")).json()
    assert _codes(body) == {"FORBIDDEN"}
