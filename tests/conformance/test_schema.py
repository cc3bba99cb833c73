"""Schema governance: schema.graphql is the code's schema, and no change to it breaks clients unannounced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from api.app import build_graphql_schema
from tests.conformance.schema_governance import (
    EXPORT_COMMAND,
    REPO,
    SCHEMA_FILE,
    previous_schema,
    unannounced_breaking_changes,
)


def code_sdl() -> str:
    sdl: str = build_graphql_schema().as_str() + "\n"
    return sdl


def test_the_committed_schema_is_the_code_s_schema() -> None:
    committed = REPO / SCHEMA_FILE
    assert committed.is_file(), f"{SCHEMA_FILE} is missing: run `{EXPORT_COMMAND}` and commit it"
    assert committed.read_text() == code_sdl(), f"{SCHEMA_FILE} is not the code's schema: run `{EXPORT_COMMAND}`"


def test_no_unannounced_breaking_change_since_the_previous_schema() -> None:
    previous = previous_schema()
    if previous is None:
        return  # no earlier schema.graphql in the history: nothing can break yet
    ref, old = previous
    changes = unannounced_breaking_changes(old, code_sdl())
    assert not changes, (
        f"breaking changes against {SCHEMA_FILE} at {ref}; mark removals @deprecated first and remove them in a "
        "later change:\n" + "\n".join(changes)
    )


OLD = """
type Query {
  lot(id: ID!): Lot
  legacy: String @deprecated(reason: "use lot")
}

type Lot {
  id: ID!
  plant: String
  kind: LotKind
  oldPlant: String @deprecated(reason: "use plant")
  gone: Gone @deprecated(reason: "no longer kept")
}

enum LotKind {
  RAW
  FINISHED
  SEMI @deprecated(reason: "use RAW")
}

type Gone {
  id: ID!
}
"""


def test_an_unannounced_removal_is_caught() -> None:
    new = OLD.replace("  plant: String\n", "")
    assert unannounced_breaking_changes(OLD, new) == ["FIELD_REMOVED: Field Lot.plant was removed."]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("  kind: LotKind\n", "  kind: String\n"), "FIELD_CHANGED_KIND"),
        (("  FINISHED\n", ""), "VALUE_REMOVED_FROM_ENUM"),
        (("lot(id: ID!)", "lot(id: ID!, plant: String!)"), "REQUIRED_ARG_ADDED"),
    ],
)
def test_other_breaking_changes_are_caught(edit: tuple[str, str], expected: str) -> None:
    changes = unannounced_breaking_changes(OLD, OLD.replace(*edit))
    assert [change.split(":")[0] for change in changes] == [expected]


def test_announced_removals_and_additions_pass() -> None:
    new = (
        OLD.replace('  oldPlant: String @deprecated(reason: "use plant")\n', "")
        .replace('  legacy: String @deprecated(reason: "use lot")\n', "")
        .replace('  SEMI @deprecated(reason: "use RAW")\n', "")
        .replace('  gone: Gone @deprecated(reason: "no longer kept")\n', "")
        .replace("type Gone {\n  id: ID!\n}\n", "")
        .replace("  plant: String\n", "  plant: String\n  supplier: String\n")
    )
    assert unannounced_breaking_changes(OLD, new) == []


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_the_previous_schema_comes_from_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    schema = tmp_path / SCHEMA_FILE
    assert previous_schema(tmp_path, env={}) is None  # nothing committed yet
    schema.write_text(OLD)
    git(tmp_path, "add", SCHEMA_FILE)
    git(tmp_path, "commit", "-q", "-m", "first schema")
    assert previous_schema(tmp_path, env={}) is None  # the first version has no predecessor

    removed = OLD.replace("  plant: String\n", "")
    schema.write_text(removed)  # uncommitted: compared with HEAD
    ref, old = previous_schema(tmp_path, env={}) or ("", "")
    assert (ref, old) == ("HEAD", OLD)
    assert unannounced_breaking_changes(old, removed)

    git(tmp_path, "commit", "-q", "-am", "drop Lot.plant")  # committed: compared with the version before
    ref, old = previous_schema(tmp_path, env={}) or ("", "")
    assert old == OLD
    assert ref.endswith("^")
    assert previous_schema(tmp_path, env={"LOTGRAPH_SCHEMA_BASE": "HEAD"}) == ("HEAD", removed)
