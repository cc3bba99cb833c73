"""The GraphQL examples of README.md and docs/*.md, as a reader sees them: every ```graphql block, in order.

A block is run as printed unless the line right above its fence says why not::

    <!-- example: not run (the SDL of another subgraph, not an operation) -->

(an HTML comment: invisible on the rendered page). Keep such blocks few: an example that cannot run is one a reader
cannot check either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NOT_RUN = re.compile(r"<!-- example: not run \((?P<reason>[^)]+)\) -->")
FENCE = re.compile(r"^(?P<above>[^\n]*)\n```graphql\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    path: str
    line: int
    text: str
    not_run: str | None  # why it is not run, from its marker

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def examples() -> list[Example]:
    """The README's examples first (the docs' may rely on what they did, e.g. a hold placed), then docs/ by name."""
    found: list[Example] = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        markdown = path.read_text()
        for match in FENCE.finditer(markdown):
            line = markdown.count("\n", 0, match.start("body"))  # the fence's line, 1-based
            marker = NOT_RUN.search(match.group("above"))
            reason = marker.group("reason") if marker else None
            found.append(Example(str(path.relative_to(REPO)), line, match.group("body"), reason))
    return found


def emptiness(data: dict[str, Any] | None) -> list[str]:
    """Why an answer says nothing: a root field that is null or empty, a connection without nodes, a payload with
    errors. An empty list deeper down (a READY shipment's blockers) is an answer too, so only the first level of
    each root field is looked at."""
    if not data:
        return ["no data"]
    problems: list[str] = []
    for name, value in data.items():
        if value in (None, [], {}):
            problems.append(f"{name} is {value!r}")
        elif isinstance(value, dict):
            if value.get("totalCount") == 0 or value.get("edges") == []:
                problems.append(f"{name} has no nodes")
            if value.get("errors"):
                problems.append(f"{name}.errors: {value['errors']}")
    return problems
