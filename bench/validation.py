"""What one hostile document costs before execution: lotgraph's checks beside the limiters they replaced.

Run from the repository root::

    python -m bench.validation

For each document (the reported fragment chain at 10, 16, 20 and 40 fragments, and the shapes that make
graphql-core's own validation quadratic) the bench takes it, in this process, through everything that runs before
execution — parsing, the limits, validation, authorization and the cost estimate — with

* ``lotgraph``: the gateway's schema with its extensions (``api.app.build_graphql_schema``);
* ``reference``: the same schema with the limiters used before (strawberry's ``QueryDepthLimiter`` and
  ``MaxAliasesLimiter``, which expand every fragment spread), skipped where it would run for minutes (2^n).

It prints the best of three CPU times per case (the caches are defeated: every run has a new text) and the answer.
Nothing here needs a network or a quiet machine beyond one free core.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from api.app import build_graphql_schema
from bench.harness import machine_description, markdown_table
from resolvers.config import ResolverConfig
from schema import build_schema

CONTEXT = SimpleNamespace(authenticated=True, roles=frozenset({"admin"}), auth_error=None, config=ResolverConfig())
REFERENCE_MAX_FRAGMENTS = 20
"""The reference expands 2^n selections; beyond this it runs for minutes."""


class Stop(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise RuntimeError("stopped before execution")
        yield  # pragma: no cover


def chain(fragments: int) -> str:
    definitions = ["fragment F0 on Query { __typename }"]
    definitions += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments)]
    return f"query Q0 {{ ...F{fragments - 1} }} " + " ".join(definitions)


DOCUMENTS = {
    **{f"chain of {n} fragments": chain(n) for n in (10, 16, 20, 40)},
    "400 times eventTypes { type description }": "query Q0 { "
    + " ".join(["eventTypes { type description }"] * 400)
    + " }",
    "60 fragments in one selection set": 'query Q0 { lot(id: "L") { '
    + " ".join(f"...F{i}" for i in range(60))
    + " } } "
    + " ".join(f"fragment F{i} on Lot {{ holds {{ id }} }}" for i in range(60)),
    "a readiness query": 'query Q0 { shipmentReadiness(shipmentId: "S") { status blockers { code source message } '
    "checks { name status } } }",
}


def reference_schema() -> Any:
    return build_schema(
        [
            lambda: MaxTokensLimiter(max_token_count=4000),
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            Stop,
        ]
    )


def cpu_ms(schema: Any, document: str) -> tuple[float, str]:
    best, answer = float("inf"), ""
    for run in range(3):
        started = time.process_time()
        result = schema.execute_sync(f"{document} # {run} {time.time_ns()}", context_value=CONTEXT, operation_name="Q0")
        best = min(best, (time.process_time() - started) * 1000)
        errors = result.errors or []
        answer = str((errors[0].extensions or {}).get("code") or errors[0].message[:40]) if errors else "ok"
    return best, answer.replace("stopped before execution", "passed every check")


def main() -> None:
    lotgraph, reference = build_graphql_schema([Stop]), reference_schema()
    rows = []
    for name, document in DOCUMENTS.items():
        ours, answer = cpu_ms(lotgraph, document)
        too_long = name.startswith("chain") and int(name.split()[2]) > REFERENCE_MAX_FRAGMENTS
        theirs = "(2^n: not run)" if too_long else f"{cpu_ms(reference, document)[0]:.1f}"
        rows.append((name, len(document.encode()), f"{ours:.1f}", answer, theirs))
    print(machine_description(["strawberry-graphql", "graphql-core"]))
    print(markdown_table(["document", "bytes", "lotgraph ms CPU", "lotgraph answer", "reference ms CPU"], rows))


if __name__ == "__main__":
    main()
