"""A JSON Schema validator for the subset the event catalog uses: ``type`` (one or a list), ``properties``,
``required``, ``additionalProperties`` (boolean), ``enum``, ``items``, ``minLength``, ``minimum`` and
``format: date-time``. Enough to check webhook payloads without a dependency; the catalog stays standard
JSON Schema (draft 2020-12), so clients can check events with any validator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def errors(instance: Any, schema: Mapping[str, Any], path: str = "payload") -> list[str]:
    """Why ``instance`` does not match ``schema``: one line per problem, empty when it matches."""
    return list(_check(instance, schema, path))


def _is(instance: Any, name: str) -> bool:
    if isinstance(instance, bool) and name in ("integer", "number"):
        return False
    return isinstance(instance, _TYPES[name])


def _check(instance: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        if not any(_is(instance, name) for name in names):
            yield f"{path}: must be {' or '.join(names)}, got {type(instance).__name__}"
            return
    if "enum" in schema and instance not in schema["enum"]:
        yield f"{path}: must be one of {', '.join(map(str, schema['enum']))}, got {instance!r}"
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            yield f"{path}: must not be empty"
        if schema.get("format") == "date-time" and not _is_datetime(instance):
            yield f"{path}: must be an ISO 8601 date-time, got {instance!r}"
    if _is(instance, "number") and "minimum" in schema and instance < schema["minimum"]:
        yield f"{path}: must be at least {schema['minimum']}, got {instance!r}"
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            yield from _check(item, schema["items"], f"{path}[{i}]")
    if isinstance(instance, dict):
        for name in schema.get("required", ()):
            if name not in instance:
                yield f"{path}.{name}: missing"
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name, value in instance.items():
            if name in properties:
                yield from _check(value, properties[name], f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                yield f"{path}.{name}: not allowed"


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text or " " in text
