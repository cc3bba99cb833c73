"""Rendering a root field in one walk (schema/render.py) answers exactly what graphql-core's execution answers, and
leaves to graphql-core whatever it cannot vouch for: permission classes, asynchronous fields, errors, nulls.
Arguments are coerced once per walk, as graphql-core coerces them, and converted by strawberry's resolver."""

import json
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from schema.lean import lean_resolvers
from schema.shared_results import shared_results


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Never(BasePermission):
    message = "not allowed"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    id: strawberry.ID
    colour: Colour
    made: date | None
    secret: str = strawberry.field(permission_classes=[Never], default="hidden")

    @strawberry.field
    def label(self, info: strawberry.Info) -> str:
        info.context.calls += 1
        if self.id == "boom":
            raise ValueError("no label for boom")
        return f"{self.id}:{self.colour.value}"

    @strawberry.field
    def tagged(self, suffix: str, colour: Colour | None = None) -> str:
        return f"{self.id}{suffix}{colour.value if colour else ''}"

    @strawberry.field
    async def later(self) -> int:
        return 1

    @strawberry.field
    def count(self) -> int | None:
        return NUMBERS[self.id][0]  # type: ignore[return-value]

    @strawberry.field
    def score(self) -> float | None:
        return NUMBERS[self.id][1]  # type: ignore[return-value]


NUMBERS: dict[str, tuple[object, object]] = {
    "plain": (7, 2.5),
    "edges": (-(2**31), 3),  # the smallest Int; an int as a Float (3.0)
    "bool": (True, False),  # graphql-core answers 1 and 0
    "none": (None, None),
    "big": (2**31, 1.0),  # not a 32-bit Int: an error
    "nan": (1, float("nan")),  # not a finite Float: an error
    "inf": (1, float("-inf")),
}


@strawberry.type
class Query:
    @strawberry.field
    async def items(self, ids: list[str]) -> list[Item]:
        return [Item(id=strawberry.ID(i), colour=Colour.RED, made=date(2026, 1, 2)) for i in ids]


@dataclass
class Config:
    render: bool
    planner: bool = True


@dataclass
class Loaders:
    rendered: int = 0


@dataclass
class Ctx:
    config: Config
    loaders: Loaders = field(default_factory=Loaders)
    calls: int = 0


SCHEMA = strawberry.Schema(query=Query, execution_context_class=shared_results())
lean_resolvers(SCHEMA)


async def _both(query: str, ids: list[str]) -> tuple[Any, Ctx]:
    answers = []
    for render in (False, True):
        ctx = Ctx(Config(render))
        result = await SCHEMA.execute(query, variable_values={"ids": ids}, context_value=ctx)
        errors = [(e.path, e.message) for e in result.errors or ()]
        answers.append((json.dumps(result.data), errors, ctx))
    executed, rendered = answers
    assert rendered[:2] == executed[:2]
    assert executed[2].loaders.rendered == 0
    return json.loads(rendered[0]), rendered[2]


async def test_plain_fields_and_lean_resolvers_are_rendered_as_graphql_core_executes_them() -> None:
    query = """query($ids: [String!]!, $no: Boolean = false) { items(ids: $ids) { __typename id
      ... on Item { colour made } name: label label @skip(if: $no) tagged(suffix: "-", colour: BLUE) } }"""
    data, ctx = await _both(query, ["a", "b"])
    assert data["items"][1] == {
        "__typename": "Item",
        "id": "b",
        "colour": "RED",
        "made": "2026-01-02",
        "name": "b:red",
        "label": "b:red",
        "tagged": "b-blue",
    }
    assert ctx.loaders.rendered == 1
    assert ctx.calls == 4  # one walk: each resolver called once per item and response name


async def test_numbers_are_completed_as_graphql_core_completes_them() -> None:
    query = "query($ids: [String!]!) { items(ids: $ids) { id count score } }"
    data, ctx = await _both(query, ["plain", "edges", "bool", "none"])
    assert ctx.loaders.rendered == 1
    assert [(i["count"], i["score"]) for i in data["items"]] == [(7, 2.5), (-(2**31), 3.0), (1, 0.0), (None, None)]
    for bad in ("big", "nan", "inf"):
        data, ctx = await _both(query, ["plain", bad])  # the error, the null and its place as graphql-core has them
        assert ctx.loaders.rendered == 0
        assert data["items"][1]["count" if bad == "big" else "score"] is None


async def test_a_permission_class_an_async_field_or_an_error_is_left_to_graphql_core() -> None:
    for query in (
        "query($ids: [String!]!) { items(ids: $ids) { id secret } }",
        "query($ids: [String!]!) { items(ids: $ids) { id later } }",
    ):
        data, ctx = await _both(query, ["a"])
        assert ctx.loaders.rendered == 0
    assert data == {"items": [{"id": "a", "later": 1}]}
    result = await SCHEMA.execute(
        "query($ids: [String!]!) { items(ids: $ids) { id secret } }",
        variable_values={"ids": ["a"]},
        context_value=Ctx(Config(True)),
    )
    assert result.data is None
    assert [e.message for e in result.errors or ()] == ["not allowed"]
    data, ctx = await _both("query($ids: [String!]!) { items(ids: $ids) { id label } }", ["a", "boom"])
    assert data is None  # a non-null label failed: graphql-core's null propagation, and its error
    assert ctx.loaders.rendered == 0
