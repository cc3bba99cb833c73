"""The role policy covers every field of the schema, wherever it is reached: roots, nested fields, fragments, unions
and federation's ``_entities``. The coverage tests are generated from the schema (federation on and off), so a new
field or entity fails them until ``api/authz.py`` names its roles."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, GraphQLUnionType, parse
from starlette.applications import Starlette

from api.app import build_graphql_schema
from api.authz import POLICY, ROOTS, reach, refusal
from api.settings import Settings
from tests.conftest import Gateway, gateway_over, token

SCHEMAS = {name: build_graphql_schema(federation=on)._schema for name, on in (("plain", False), ("federation", True))}
ROLES = ("shipping", "quality", "viewer", "admin")


def _fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    keys = set()
    for name, named in schema.type_map.items():
        if isinstance(named, GraphQLObjectType) and not name.startswith("__"):
            keys |= {(name, field) for field in named.fields}
        if isinstance(named, GraphQLUnionType) and name == "_Entity":
            keys |= {(name, member.name) for member in named.types}
    return keys


@pytest.mark.parametrize("flavour", SCHEMAS)
def test_every_field_and_entity_of_the_schema_has_roles(flavour: str) -> None:
    missing = sorted(_fields(SCHEMAS[flavour]) - POLICY.keys())
    assert missing == [], f"name the roles of these fields in api/authz.py (TYPES or ROOTS): {missing}"


def test_the_policy_names_no_field_the_schema_lacks() -> None:
    known = set().union(*(_fields(schema) for schema in SCHEMAS.values()))
    introspection = {("Query", "__schema"), ("Query", "__type")}
    assert sorted(POLICY.keys() - known - introspection) == []


def _refused(query: str, *roles: str, flavour: str = "federation") -> str | None:
    schema = SCHEMAS[flavour]
    error = refusal(reach(schema, parse(query), None), roles=frozenset(roles))
    return None if error is None else error.message


@pytest.mark.parametrize(
    ("query", "role", "refused_at"),
    [
        ('{ lot(id: "L") { holds { id } } }', "shipping", "lot"),
        ('{ shipment(id: "S") { lines { lots { holds { id } deviations { id } } } } }', "shipping", None),
        ('{ shipment(id: "S") { id } }', "quality", "shipment"),
        ("{ _entities(representations: []) { ... on Lot { holds { id } } } }", "shipping", "_entities of Lot"),
        ("{ _entities(representations: []) { ... on SalesOrder { id } } }", "quality", "_entities of SalesOrder"),
        ("{ _entities(representations: []) { ... on Shipment { id } } }", "quality", "_entities of Shipment"),
        ("{ _entities(representations: []) { ... on Shipment { lines { lots { id } } } } }", "shipping", None),
        ("{ _entities(representations: []) { ...L } } fragment L on Lot { stock { quantity } }", "shipping", "Lot"),
        ("{ _entities(representations: []) { __typename } }", "shipping", None),
        ("query { ...F } fragment F on Query { lots(first: 1) { totalCount } }", "shipping", "lots"),
        ("{ ... on Query { ... { pendingActions { id } } } }", "quality", "pendingActions"),
        ("{ eventTypes { type } }", "shipping", None),
    ],
)
def test_refusal_follows_every_path(query: str, role: str, refused_at: str | None) -> None:
    message = _refused(query, role)
    if refused_at is None:
        assert message is None
    else:
        assert message is not None
        assert refused_at in message, message


def test_what_a_document_reaches_is_worked_out_once_per_fragment() -> None:
    fragments = ["fragment F0 on Lot { id holds { id } }"]
    fragments += [f"fragment F{i} on Lot {{ ...F{i - 1} inputs {{ lot {{ ...F{i - 1} }} }} }}" for i in range(1, 40)]
    query = '{ lot(id: "L") { ...F39 } } ' + " ".join(fragments)
    reached = reach(SCHEMAS["plain"], parse(query), None)  # 2^39 paths: returns at once, or never
    assert {roles for roles, _ in reached.requirements} >= {ROOTS[("Query", "lot")]}
    assert _refused(query, "shipping", flavour="plain") is not None
    assert _refused(query, "quality", flavour="plain") is None


@pytest.fixture
async def federated(settings: Settings, plant: Starlette) -> AsyncIterator[Gateway]:
    async with gateway_over(plant, dataclasses.replace(settings, federation=True)) as gateway:
        yield gateway


ENTITY = {
    "Lot": "... on Lot { id disposition holds { id } stock { quantity } }",
    "SalesOrder": "... on SalesOrder { id status }",
    "Shipment": "... on Shipment { id status }",
}


def _codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors") or []}


@pytest.mark.parametrize("entity", ENTITY)
@pytest.mark.parametrize("role", ROLES)
async def test_entities_answer_only_the_roles_of_their_root_field(
    federated: Gateway, manifest: dict[str, Any], entity: str, role: str
) -> None:
    query = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ {ENTITY[entity]} }} }}"
    representation = {"__typename": entity, "id": "no-such-id"}
    body = (await federated.as_token(token(role)).post(query, {"r": [representation]})).json()
    if role in POLICY[("_Entity", entity)]:
        assert not (_codes(body) & {"FORBIDDEN", "UNAUTHENTICATED"}), body
    else:
        assert _codes(body) == {"FORBIDDEN"}, body
        assert body.get("data") is None
    anonymous = (await federated.as_token(None).post(query, {"r": [representation]})).json()
    assert _codes(anonymous) == {"UNAUTHENTICATED"}
