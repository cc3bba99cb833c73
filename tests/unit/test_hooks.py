"""schema/hooks.py: the extensions' hooks run as strawberry runs them, without the per-request hook discovery; and an
operation's executor is freed when the operation ends (schema/shared_results.py)."""

from __future__ import annotations

import gc
import inspect
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension

from api.app import build_graphql_schema
from schema.shared_results import SharedResults

ADMIN = {"roles": frozenset({"admin"}), "authenticated": True, "auth_error": None, "user": "u", "sites": None}


class Recording(SchemaExtension):
    seen: list[str] = []

    def on_operation(self) -> Iterator[None]:
        self.seen.append("operation")
        try:
            yield
        finally:
            self.seen.append("operation done")

    async def on_parse(self) -> AsyncIterator[None]:
        self.seen.append("parse")
        yield

    def on_validate(self) -> None:  # type: ignore[override]  # strawberry also takes plain functions
        self.seen.append("validate")

    def on_execute(self) -> Iterator[None]:
        self.seen.append("execute")
        yield
        result = self.execution_context.result
        self.seen.append(f"executed {getattr(result, 'data', None)}")


class Awaiting(SchemaExtension):
    async def on_validate(self) -> None:  # type: ignore[override]
        Recording.seen.append("validate, awaited")


class Failing(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        raise RuntimeError("after execution")


async def test_every_kind_of_hook_runs_in_order() -> None:
    Recording.seen = []
    schema = build_graphql_schema([Recording, Awaiting])
    result = await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
    assert result.errors is None
    assert result.data == {"__typename": "Query"}
    assert Recording.seen == [
        "operation",
        "parse",
        "validate",
        "validate, awaited",
        "execute",
        "executed {'__typename': 'Query'}",
        "operation done",
    ]


async def test_an_exception_after_the_yield_is_the_operations_error_as_with_strawberry() -> None:
    schema = build_graphql_schema([Failing])
    result = await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
    assert result.data is None
    assert [(e.message, type(e.original_error)) for e in result.errors or []] == [("after execution", RuntimeError)]


async def test_hooks_are_looked_up_once_per_extension_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """strawberry asks ``inspect`` about every extension's four hooks on every operation; ours asks once."""
    schema = build_graphql_schema([Recording, Awaiting])
    await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
    asked: list[Any] = []
    original = inspect.isgeneratorfunction

    def counting(function: Any) -> bool:
        asked.append(function)
        return original(function)

    monkeypatch.setattr(inspect, "isgeneratorfunction", counting)
    for _ in range(20):
        result = await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
        assert result.errors is None
    assert asked == []


async def test_an_operations_executor_is_freed_without_a_collection() -> None:
    """The executor held bound methods of itself (graphql-core's ``async_helpers``): every operation left it, its
    variables, context and loaders for the next collection (docs/benchmarks.md, "One-connection tail")."""
    schema = build_graphql_schema([Recording])
    await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
    gc.collect()
    gc.disable()
    try:
        for _ in range(10):
            result = await schema.execute("{ __typename }", context_value=SimpleNamespace(**ADMIN))
            assert result.errors is None
        left = [o for o in gc.get_objects() if isinstance(o, SharedResults)]
    finally:
        gc.enable()
    assert left == []
