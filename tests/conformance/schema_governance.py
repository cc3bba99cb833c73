"""Schema governance: the committed ``schema.graphql`` is the code's schema, and changes to it are not breaking.

A breaking change (graphql-core's ``find_schema_changes``, successor of ``find_breaking_changes``) fails, except
the removal of a field, argument, input field or enum value that the previous schema had already marked
``@deprecated`` (and of a type that only deprecated members led to): removals are announced first, then made.

The previous schema is ``git show <ref>:schema.graphql``, where ``<ref>`` is ``$LOTGRAPH_SCHEMA_BASE`` when set
(e.g. a merge-base), else ``HEAD`` while the file has uncommitted changes, else the parent of the last commit that
changed the file; when there is none, there is nothing to compare.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLSchema,
    build_schema,
    find_schema_changes,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_union_type,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = "schema.graphql"
EXPORT_COMMAND = "lotgraph export-schema --output schema.graphql"


def unannounced_breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    return [
        f"{change.type.name}: {change.description}"
        for change in find_schema_changes(old, new)
        if isinstance(change, BreakingChange) and not _announced(change, old)
    ]


def _announced(change: BreakingChange, old: GraphQLSchema) -> bool:
    description = change.description
    if change.type is BreakingChangeType.FIELD_REMOVED:
        found = re.fullmatch(r"Field (\w+)\.(\w+) was removed\.", description)
        return bool(found) and _field_deprecated(old, found.group(1), found.group(2))
    if change.type is BreakingChangeType.ARG_REMOVED:
        found = re.fullmatch(r"Argument (\w+)\.(\w+)\((\w+):\) was removed\.", description)
        if not found:
            return False
        field = getattr(old.type_map.get(found.group(1)), "fields", {}).get(found.group(2))
        arg = field.args.get(found.group(3)) if field is not None else None
        return arg is not None and arg.deprecation_reason is not None
    if change.type is BreakingChangeType.VALUE_REMOVED_FROM_ENUM:
        found = re.fullmatch(r"Enum value (\w+)\.(\w+) was removed\.", description)
        enum = old.type_map.get(found.group(1)) if found else None
        if not found or not is_enum_type(enum):
            return False
        value = enum.values.get(found.group(2))
        return value is not None and value.deprecation_reason is not None
    if change.type is BreakingChangeType.TYPE_REMOVED:
        found = re.fullmatch(r"(\w+) was removed\.", description)
        return bool(found) and _only_deprecated_uses(old, found.group(1))
    return False


def _field_deprecated(schema: GraphQLSchema, type_name: str, field_name: str) -> bool:
    field = getattr(schema.type_map.get(type_name), "fields", {}).get(field_name)
    return field is not None and field.deprecation_reason is not None


def _only_deprecated_uses(schema: GraphQLSchema, type_name: str) -> bool:
    """Every field, argument and input field of ``type_name`` is deprecated, and no union or object lists it."""
    for named in schema.type_map.values():
        if named.name.startswith("__"):
            continue
        if is_union_type(named) and any(t.name == type_name for t in named.types):
            return False
        if (is_object_type(named) or is_interface_type(named)) and any(i.name == type_name for i in named.interfaces):
            return False
        if is_object_type(named) or is_interface_type(named) or is_input_object_type(named):
            for field in named.fields.values():
                if get_named_type(field.type).name == type_name and field.deprecation_reason is None:
                    return False
                for arg in getattr(field, "args", {}).values():
                    if get_named_type(arg.type).name == type_name and arg.deprecation_reason is None:
                        return False
    return True


def previous_schema(repo: Path = REPO, env: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """``(ref, sdl)`` of the schema to compare against, or None when there is none."""
    if shutil.which("git") is None or not (repo / ".git").exists():
        return None
    base = env.get("LOTGRAPH_SCHEMA_BASE")
    if base:
        sdl = _show(repo, base)
        return (base, sdl) if sdl is not None else None
    head = _show(repo, "HEAD")
    current = repo / SCHEMA_FILE
    if head is not None and (not current.is_file() or current.read_text() != head):
        return "HEAD", head
    last = _git(repo, "log", "-1", "--format=%H", "--", SCHEMA_FILE)
    if not last:
        return None
    ref = f"{last}^"
    sdl = _show(repo, ref)
    return (ref, sdl) if sdl is not None else None


def _show(repo: Path, ref: str) -> str | None:
    done = subprocess.run(
        ["git", "show", f"{ref}:{SCHEMA_FILE}"], cwd=repo, capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout if done.returncode == 0 else None


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else ""
