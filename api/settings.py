"""Settings: from ``LOTGRAPH_…`` environment variables over an optional TOML file, checked before anything starts.

Every setting is declared once in ``SPECS`` with its environment name, its TOML key, its parser and its default.
A bad or missing value raises ``SettingsError`` whose message is one line naming the setting and what is wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SOURCES = ("erp", "qms", "mes", "wms")
CACHED = ("erp", "mes")
"""Sources with slow-changing reference data worth caching. QMS and WMS data (dispositions, holds, stock) never is."""


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True, slots=True)
class SourceSettings:
    url: str
    timeout: float
    cache_ttl: float  # 0 for the QMS and WMS, whose data is never cached


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    sources: Mapping[str, SourceSettings]
    store: str
    bus: str
    redis_url: str | None
    log_level: str
    log_format: str
    graphiql: bool
    readiness_required_stage: str


# -- parsers: each takes the raw value (a string from the environment, or a TOML value) ------------------------


def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("must be a non-empty string")
    return raw.strip()


def _url(raw: Any) -> str:
    value = _text(raw)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _redis_url(raw: Any) -> str:
    value = _text(raw)
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {value!r}")
    return value


def _seconds(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 600:
        raise ValueError(f"must be more than 0 and at most 600 seconds, got {raw!r}")
    return value


def _ttl(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds (0 turns the cache off), got {raw!r}") from None
    if value < 0:
        raise ValueError(f"must not be negative, got {raw!r}")
    return value


def _port(raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a port number, got {raw!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, got {raw!r}")
    return value


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = _text(raw).lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {raw!r}")
        return value

    return parse


def _level(raw: Any) -> str:
    return _choice("debug", "info", "warning", "error")(raw).upper()


@dataclass(frozen=True, slots=True)
class Spec:
    key: str  # dotted TOML key; the environment name is LOTGRAPH_ + key upper-cased with dots as underscores
    parse: Callable[[Any], Any]
    default: Any = None
    required: bool = False
    help: str = ""

    @property
    def env(self) -> str:
        return "LOTGRAPH_" + self.key.replace("sources.", "").replace(".", "_").upper()


SPECS: tuple[Spec, ...] = (
    Spec("host", _text, "127.0.0.1", help="interface the gateway listens on"),
    Spec("port", _port, 8000, help="port the gateway listens on"),
    Spec("data_dir", _text, "./data/gateway", help="directory of the local store (SQLite)"),
    Spec("store", _choice("sqlite", "redis"), "sqlite", help="durable store: idempotency, pending actions"),
    Spec("bus", _choice("memory", "redis"), "memory", help="event bus: in-process, or Redis Streams across replicas"),
    Spec("redis_url", _redis_url, None, help="Redis URL, needed when store or bus is redis"),
    Spec("log_level", _level, "INFO", help="debug, info, warning or error"),
    Spec("log_format", _choice("json", "text"), "json", help="json (one object per line) or text"),
    Spec("graphiql", _flag, True, help="serve the GraphiQL IDE at /graphql"),
    *(
        spec
        for name in SOURCES
        for spec in (
            Spec(f"sources.{name}.url", _url, required=True, help=f"base URL of the {name.upper()}"),
            Spec(f"sources.{name}.timeout", _seconds, 2.0, help=f"deadline of one {name.upper()} call, seconds"),
        )
    ),
    Spec(
        "readiness.required_stage",
        _choice("allocated", "picking", "picked", "staged", "loaded", "shipped"),
        "staged",
        help="warehouse stage a shipment must have reached to be READY",
    ),
    Spec("sources.erp.cache_ttl", _ttl, 300.0, help="seconds products and customers stay cached (0: off)"),
    Spec("sources.mes.cache_ttl", _ttl, 60.0, help="seconds lot master records stay cached (0: off)"),
)


def load_settings(env: Mapping[str, str], config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: keyword overrides (the CLI's flags) over environment over the TOML file over defaults."""
    path = config_file or (Path(env["LOTGRAPH_CONFIG"]) if env.get("LOTGRAPH_CONFIG") else None)
    file_values = _read_toml(path) if path else {}
    values: dict[str, Any] = {}
    for spec in SPECS:
        if spec.key in overrides and overrides[spec.key] is not None:
            raw, where = overrides[spec.key], f"--{spec.key.replace('_', '-')}"
        elif spec.env in env and env[spec.env] != "":
            raw, where = env[spec.env], spec.env
        elif spec.key in file_values:
            raw, where = file_values[spec.key], f"{spec.key} in {path}"
        elif spec.required:
            raise SettingsError(f"{spec.env}: missing ({spec.help}; or `{spec.key}` in the config file)")
        else:
            values[spec.key] = spec.default
            continue
        try:
            values[spec.key] = spec.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    for key in ("store", "bus"):
        if values[key] == "redis" and not values["redis_url"]:
            raise SettingsError(f"LOTGRAPH_REDIS_URL: missing (needed because {key} is redis)")
    return Settings(
        host=values["host"],
        port=values["port"],
        data_dir=Path(values["data_dir"]),
        sources={
            name: SourceSettings(
                url=values[f"sources.{name}.url"],
                timeout=values[f"sources.{name}.timeout"],
                cache_ttl=values[f"sources.{name}.cache_ttl"] if name in CACHED else 0.0,
            )
            for name in SOURCES
        },
        store=values["store"],
        bus=values["bus"],
        redis_url=values["redis_url"],
        log_level=values["log_level"],
        log_format=values["log_format"],
        graphiql=values["graphiql"],
        readiness_required_stage=values["readiness.required_stage"].upper(),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"LOTGRAPH_CONFIG: no such file: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"LOTGRAPH_CONFIG: cannot read {path}: {exc}") from None
    flat = _flatten(document)
    known = {spec.key for spec in SPECS}
    for key in flat:
        if key not in known:
            raise SettingsError(f"{key} in {path}: unknown setting")
    return flat


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
