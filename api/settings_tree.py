"""How a tree of frozen dataclasses becomes settings: names, environment variables, TOML keys, parsing, defaults
and the configuration table, all read from the fields and their ``metadata``.

A field is a setting when its metadata has a ``help``; a field whose type is a dataclass is a node of the tree;
other fields keep their defaults. Metadata keys (plain values, so resolvers/ and sources/ declare their nodes
without importing api/):

- ``help``: what the setting does (the configuration table's "meaning"); ``{system}`` and ``{name}`` in it are
  replaced by the name of the node holding the setting (``ERP``, ``erp``);
- ``key``: its TOML key under its node, dotted if it nests (default: the field's name; ``""`` on a node mounts
  the node's settings on its parent);
- ``env``: on a node, the part it adds to the environment names (default: its key; ``""`` adds none);
- ``range``: ``(low, high)`` of a whole number, or of seconds;
- ``choices``: the values a string may take;
- ``parse``: a parser of the raw value (a string from the environment or a TOML value) instead of the type's;
- ``required``: no default; the setting must be given;
- ``section``: the table of docs/configuration.md it is listed in (inherited by a node's settings).

Parsers raise ``ValueError`` with a message that completes "LOTGRAPH_X: …".
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "LOTGRAPH_"


@dataclasses.dataclass(frozen=True, slots=True)
class Leaf:
    """One setting, as found in the tree."""

    path: tuple[str, ...]  # attribute path from the root
    key: str  # dotted TOML key
    env: str
    parse: Callable[[Any], Any]
    default: Any
    required: bool
    help: str
    section: str


def leaves(root: type[Any]) -> tuple[Leaf, ...]:
    return tuple(_walk(root, (), "", "", "", ""))


def _walk(node: type[Any], path: tuple[str, ...], key: str, env: str, name: str, section: str) -> Iterator[Leaf]:
    hints = typing.get_type_hints(node)
    for f in dataclasses.fields(node):
        meta, kind = f.metadata, hints[f.name]
        own_key = meta.get("key", f.name)
        full_key = f"{key}.{own_key}" if key and own_key else key or own_key
        own_env = meta.get("env", own_key)
        full_env = f"{env}_{own_env}" if env and own_env else env or own_env
        own_section = meta.get("section", section)
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            yield from _walk(kind, (*path, f.name), full_key, full_env, f.name, own_section)
        elif "help" in meta:
            yield Leaf(
                path=(*path, f.name),
                key=full_key,
                env=ENV_PREFIX + full_env.replace(".", "_").upper(),
                parse=meta.get("parse") or parser_for(kind, meta),
                default=None if f.default is dataclasses.MISSING else f.default,
                required=bool(meta.get("required")),
                help=meta["help"].format(system=name.upper(), name=name),
                section=own_section,
            )


def build(node: type[Any], values: dict[tuple[str, ...], Any], path: tuple[str, ...] = ()) -> Any:
    """The tree ``node`` with the parsed ``values`` (by attribute path); fields that are no setting keep defaults."""
    hints = typing.get_type_hints(node)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        here = (*path, f.name)
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            kwargs[f.name] = build(kind, values, here)
        elif here in values:
            kwargs[f.name] = values[here]
    return node(**kwargs)


def parser_for(kind: Any, meta: typing.Mapping[str, Any]) -> Callable[[Any], Any]:
    """The parser of a field of type ``kind``: optional types parse their inner type."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return parser_for(inner[0], meta)
    if isinstance(kind, type) and issubclass(kind, Enum):
        by_name = {str(member.value).lower(): member for member in kind}
        pick = choice(*by_name)
        return lambda raw: by_name[pick(raw)]
    if kind is bool:
        return flag
    if kind is int:
        return count(*meta["range"])
    if kind is float:
        return seconds_in(*meta["range"]) if "range" in meta else seconds
    if kind is Path:
        return lambda raw: Path(text(raw))
    if "choices" in meta:
        return choice(*meta["choices"])
    return text


def render_default(leaf: Leaf) -> str:
    if leaf.required:
        return "required"
    value = leaf.default
    if value is None:
        return "—"
    if isinstance(value, Enum):
        value = str(value.value).lower()
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"`{value}`"


def markdown(all_leaves: tuple[Leaf, ...], section: str) -> str:
    """The configuration table of one section of docs/configuration.md."""
    rows = [
        "| environment variable | TOML key | default | meaning |",
        "|---|---|---|---|",
        *(
            f"| `{leaf.env}` | `{leaf.key}` | {render_default(leaf)} | {leaf.help} |"
            for leaf in all_leaves
            if leaf.section == section
        ),
    ]
    return "\n".join(rows) + "\n"


# -- parsers: each takes the raw value (a string from the environment, or a TOML value) ------------------------


def text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("must be a non-empty string")
    return raw.strip()


def url(raw: Any) -> str:
    value = text(raw)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def redis_url(raw: Any) -> str:
    value = text(raw)
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {value!r}")
    return value


def postgres_url(raw: Any) -> str:
    value = text(raw)
    if urlsplit(value).scheme not in ("postgres", "postgresql"):
        raise ValueError(f"must be a postgresql:// URL, got {value!r}")
    return value


def seconds(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 600:
        raise ValueError(f"must be more than 0 and at most 600 seconds, got {raw!r}")
    return value


def seconds_in(low: float, high: float) -> Callable[[Any], float]:
    def parse(raw: Any) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"must be a number of seconds, got {raw!r}") from None
        if isinstance(raw, bool) or not low <= value <= high:
            raise ValueError(f"must be from {low:g} to {high:g} seconds, got {raw!r}")
        return value

    return parse


def ttl(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds (0 turns the cache off), got {raw!r}") from None
    if value < 0:
        raise ValueError(f"must not be negative, got {raw!r}")
    return value


def rate(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of requests per second (0: no limit), got {raw!r}") from None
    if not 0 <= value <= 1_000_000:
        raise ValueError(f"must be from 0 to 1000000, got {raw!r}")
    return value


def count(low: int, high: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}") from None
        if isinstance(raw, bool) or not low <= value <= high or (isinstance(raw, float) and raw != value):
            raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


def secret(raw: Any) -> str:
    value = text(raw)
    if len(value) < 16:
        raise ValueError("must be at least 16 characters (a random secret shared with the source)")
    return value


def duration(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {raw!r}") from None
    if not 1 <= value <= 30 * 86400:
        raise ValueError(f"must be from 1 second to 30 days (2592000), got {raw!r}")
    return value


def port(raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a port number, got {raw!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, got {raw!r}")
    return value


def flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def choice(*allowed: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = text(raw).lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {raw!r}")
        return value

    return parse
