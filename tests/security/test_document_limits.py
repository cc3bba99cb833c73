"""No document can stall the gateway: everything that runs before execution — parsing, the shape limits, graphql-core's
validation, the authorization walk and the cost estimate — does work linear in the document's size.

Work is counted, not timed: a profiler counts the Python function calls made while the gateway's own schema (every
extension it runs in production) takes a document up to the start of execution, and the count must stay under
``CALLS_PER_CHARACTER`` per character of the document plus a constant. Hypothesis generates the documents an
attacker would write: chains and diamonds of fragments, wide and repeated selections, deep nesting, many operations,
huge literals. A walk that expands fragments (2^n work for n fragments) or compares fields pairwise exceeds the
budget and fails at once (the profiler stops it), instead of hanging.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import FrameType, SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension

from api.app import build_graphql_schema
from api.settings import LimitSettings
from resolvers.config import ResolverConfig

CALLS_PER_CHARACTER = 60
CALLS_FIXED = 30_000


class Stop(SchemaExtension):
    """Ends the operation where execution would begin (after every check)."""

    def on_execute(self) -> Iterator[None]:
        raise RuntimeError("stopped before execution")
        yield  # pragma: no cover


class OverBudget(BaseException):
    """Raised by the profiler; a BaseException, so no ``except Exception`` on the way swallows it."""


LOOSEST = build_graphql_schema(
    [Stop], federation=True, limits=LimitSettings(max_tokens=100_000, max_depth=100, max_aliases=1000)
)
"""The loosest limits the settings allow: the worst case for the work validation may do."""
DEFAULTS = build_graphql_schema([Stop], federation=True)
CONTEXT = SimpleNamespace(authenticated=True, roles=frozenset({"admin"}), auth_error=None, config=ResolverConfig())


def calls_to_check(document: str, budget: int, schema: Any = LOOSEST) -> tuple[int, list[str]]:
    """Function calls made while the gateway's schema checks ``document``; codes of the errors it answers."""
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1
            if calls > budget:
                raise OverBudget(calls)

    sys.setprofile(count)
    try:
        result = schema.execute_sync(document, context_value=CONTEXT, operation_name="Q0")
    except OverBudget:
        pytest.fail(f"over budget: more than {budget} calls for {len(document)} characters:\n{document[:2000]}")
    finally:
        sys.setprofile(None)
    return calls, [(e.extensions or {}).get("code", e.message) for e in result.errors or []]


LEAVES = ("id", "kind", "quantity", "uom", "plant", "disposition", "supplier")
LINKS = (
    "inputs { lot { %s } }",
    "outputs { lot { %s } }",
    "holds { lot { %s } }",
    "stock { uom } holds { lot { %s } }",
)


@st.composite
def selections(draw: st.DrawFn, fragments: list[str], depth: int) -> str:
    """A selection on Lot: leaves (repeated, aliased), links to nested Lot selections, spreads of earlier fragments."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("leaf", "repeat", "link", "spread", "inline")))
        if kind == "leaf":
            alias = draw(st.sampled_from(("", "", "", "", "", "a: ")))
            parts.append(alias + draw(st.sampled_from(LEAVES)))
        elif kind == "repeat":  # one response name again and again: compared pairwise by graphql-core
            if depth > 0 and draw(st.booleans()):
                link = draw(st.sampled_from(LINKS)) % draw(selections(fragments, depth - 1))
                parts.append(" ".join([link] * draw(st.integers(2, 4))))
            else:
                leaf = draw(st.sampled_from(LEAVES))
                parts.append(" ".join([leaf] * draw(st.one_of(st.integers(2, 12), st.integers(13, 80)))))
        elif kind == "link" and depth > 0:
            parts.append(draw(st.sampled_from(LINKS)) % draw(selections(fragments, depth - 1)))
        elif kind == "spread" and fragments:
            name = draw(st.sampled_from(fragments))
            parts.append(" ".join([f"...{name}"] * draw(st.integers(1, 3))))
        elif kind == "inline" and depth > 0:
            parts.append(f"... on Lot {{ {draw(selections(fragments, depth - 1))} }}")
    return " ".join(parts) or "id"


@st.composite
def documents(draw: st.DrawFn) -> str:
    fragments: list[str] = []
    definitions: list[str] = []
    for i in range(draw(st.integers(0, 30))):
        shape = draw(st.sampled_from(("chain", "diamond", "free")))
        if shape == "chain" and fragments:
            body = f"...{fragments[-1]} ...{fragments[-1]}"
        elif shape == "diamond" and len(fragments) >= 2:
            body = f"...{fragments[-1]} ...{fragments[-2]} inputs {{ lot {{ ...{fragments[-1]} }} }}"
        else:
            body = draw(selections(fragments, draw(st.integers(0, 2))))
        definitions.append(f"fragment F{i} on Lot {{ {body} }}")
        fragments.append(f"F{i}")
    literal = draw(
        st.sampled_from(("literal", "list", "nested", "plain")).map(
            lambda kind: {
                "literal": '"' + "x" * 5000 + '"',
                "list": "[" + ", ".join(f'"L{i}"' for i in range(600)) + "]",
                "nested": "[" * 150 + '"L"' + "]" * 150,
                "plain": '"L"',
            }[kind]
        )
    )
    operations = []
    for j in range(draw(st.integers(1, 5))):
        body = draw(selections(fragments, 3))
        nesting = draw(
            st.one_of(st.integers(0, 6), st.integers(7, 40))
        )  # deep: valid up to the parser's bound, refused by depth below it
        body = "inputs { lot { " * nesting + body + " } }" * nesting
        root = f"lot(id: {literal})" if j == 0 and literal.startswith('"') else 'lot(id: "L")'
        extra = f" lots(ids: {literal}) {{ totalCount }}" if j == 0 and literal.startswith("[") else ""
        operations.append(f"query Q{j} {{ {root} {{ {body} }}{extra} }}")
    return " ".join(operations + definitions)


def small(document: str) -> bool:
    return len(document) <= 40_000  # the checks run under a profiler: keep each example quick


@settings(  # the number of cases, and whether they are random, come from the Hypothesis profile (tests/conftest.py)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(document=documents().filter(small))
def test_checks_before_execution_are_linear_in_the_document(document: str) -> None:
    budget = CALLS_PER_CHARACTER * len(document) + CALLS_FIXED
    calls, codes = calls_to_check(document, budget)
    target(calls / len(document), label="calls per character")  # steer the search to the worst documents
    assert calls <= budget
    assert "INTERNAL" not in codes, codes


def chain(fragments: int) -> str:
    definitions = ["fragment F0 on Lot { id }"]
    definitions += [f"fragment F{i} on Lot {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments)]
    return f'query Q0 {{ lot(id: "L") {{ ...F{fragments - 1} }} }} ' + " ".join(definitions)


@pytest.mark.parametrize("fragments", [20, 40])
def test_the_reported_fragment_chain_is_answered_with_linear_work(fragments: int) -> None:
    document = chain(fragments)
    _, codes = calls_to_check(document, CALLS_PER_CHARACTER * len(document) + CALLS_FIXED)
    assert codes == ["QUERY_TOO_COSTLY"], codes  # 2^39 lots is too many, and it says so at once


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("query Q0 { " + " ".join(["eventTypes { type description }"] * 400) + " }", "TOO_MANY_REPEATED_FIELDS"),
        (
            'query Q0 { lot(id: "L") { '
            + " ".join(f"...F{i}" for i in range(60))
            + " } } "
            + " ".join(f"fragment F{i} on Lot {{ holds {{ id }} }}" for i in range(60)),
            "TOO_MANY_FRAGMENT_SPREADS",
        ),
        ('query Q0 { lot(id: "L") { ' + "inputs { lot { " * 20 + "id" + " } }" * 20 + " } }", "QUERY_TOO_DEEP"),
        ("query Q0 { " + " ".join(f"a{i}: eventTypes {{ type }}" for i in range(40)) + " }", "TOO_MANY_ALIASES"),
    ],
)
def test_shapes_that_make_validation_quadratic_are_refused_first(document: str, code: str) -> None:
    _, codes = calls_to_check(document, CALLS_PER_CHARACTER * len(document) + CALLS_FIXED, DEFAULTS)
    assert codes == [code]
