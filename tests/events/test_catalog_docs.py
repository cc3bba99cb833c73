"""docs/events.md shows the event catalog exactly as the code has it, and ``eventTypes`` serves the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from resolvers.events.catalog import CATALOG, versions_of
from sources.bus.envelope import EVENT_TYPES
from tests.conftest import Gateway

DOC = Path(__file__).parents[2] / "docs" / "events.md"
START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


def render_catalog() -> str:
    """The catalog section of docs/events.md (regenerate it with this function when the catalog changes)."""
    parts = []
    for type_ in EVENT_TYPES:
        versions = versions_of(type_)
        latest = versions[-1]
        logged = "" if latest.logged else " Not appended to the event log."
        parts.append(
            f"### {type_}\n\n{latest.description}{logged}\n\n"
            f"Sent by: {', '.join(latest.sources)}. Keys: {', '.join(latest.keys)}. "
            f"Current version: {latest.version}.\n"
        )
        for schema in versions:
            parts.append(
                f"\nPayload, version {schema.version}:\n\n```json\n{json.dumps(schema.payload, indent=2)}\n```\n"
            )
        parts.append("\n")
    return "".join(parts).rstrip() + "\n"


def test_the_documented_catalog_is_the_code_catalog() -> None:
    text = DOC.read_text()
    assert START in text
    assert END in text
    documented = text.split(START, 1)[1].split(END, 1)[0].strip() + "\n"
    assert documented == render_catalog(), "docs/events.md is out of date: paste render_catalog() between the markers"


EVENT_TYPES_QUERY = """{ eventTypes { type description currentVersion sources keys logged
  versions { version jsonSchema } } }"""


async def test_event_types_are_queryable(gateway: Gateway) -> None:
    body: dict[str, Any] = await gateway.query(EVENT_TYPES_QUERY)
    assert "errors" not in body, body
    served = {entry["type"]: entry for entry in body["data"]["eventTypes"]}
    assert list(served) == list(EVENT_TYPES)
    for schema in CATALOG:
        entry = served[schema.type]
        assert {"version": schema.version, "jsonSchema": schema.payload} in entry["versions"]
    assert served["ShipmentReadinessChanged"]["logged"] is False
    assert served["HoldPlaced"]["sources"] == ["qms", "lotgraph"]
