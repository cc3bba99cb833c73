"""Settings: from ``LOTGRAPH_…`` environment variables over an optional TOML file, checked before anything starts.

Every setting is declared once in ``SPECS`` with its environment name, its TOML key, its parser and its default.
A bad or missing value raises ``SettingsError`` whose message is one line naming the setting and what is wrong.
"""

from __future__ import annotations

import importlib.util
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from api.auth import AuthSettings
from api.ops import OpsSettings
from api.trusted import load_documents
from sources.resilience import ResiliencePolicy

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
class HoldSettings:
    max_lots: int
    concurrency: int
    lease_seconds: float
    retry_max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    retry_poll_seconds: float


@dataclass(frozen=True, slots=True)
class EventSettings:
    queue_size: int  # events one subscription may have waiting before it is cut off as too slow
    retention: int  # approximate length the Redis stream is trimmed to


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    secrets: Mapping[str, str]  # per source; a source without a secret accepts no webhooks
    tolerance: float  # seconds a webhook's timestamp may differ from the gateway's clock


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_cost: int = 500_000
    max_body_bytes: int = 1_048_576
    rate: float = 100.0  # requests per second per subject; 0 turns rate limiting off
    burst: int = 200
    max_subscriptions: int = 20  # per WebSocket connection
    connection_init_seconds: float = 10.0


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
    federation: bool
    tracing: str
    metrics_sample_interval: float
    readiness_required_stage: str
    genealogy_max_depth: int
    genealogy_max_nodes: int
    genealogy_time_budget: float
    redis_prefix: str
    idempotency_ttl: float
    holds: HoldSettings
    events: EventSettings
    webhooks: WebhookSettings
    mode: str = "development"  # or production: no introspection, no IDE
    trusted_documents: Mapping[str, str] | None = None  # sha256 → text; only these run when set
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: LimitSettings = field(default_factory=lambda: LimitSettings())
    resilience: ResiliencePolicy = field(default_factory=ResiliencePolicy)
    ops: OpsSettings = field(default_factory=OpsSettings)


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


def _rate(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of requests per second (0: no limit), got {raw!r}") from None
    if not 0 <= value <= 1_000_000:
        raise ValueError(f"must be from 0 to 1000000, got {raw!r}")
    return value


def _count(low: int, high: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}") from None
        if isinstance(raw, bool) or not low <= value <= high or (isinstance(raw, float) and raw != value):
            raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


def _secret(raw: Any) -> str:
    value = _text(raw)
    if len(value) < 16:
        raise ValueError("must be at least 16 characters (a random secret shared with the source)")
    return value


def _duration(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {raw!r}") from None
    if not 1 <= value <= 30 * 86400:
        raise ValueError(f"must be from 1 second to 30 days (2592000), got {raw!r}")
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


def _tracing(raw: Any) -> str:
    value = _choice("off", "otlp")(raw)
    if value != "off" and not all(map(_installed, ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"))):
        raise ValueError("needs OpenTelemetry: pip install 'lotgraph[otel]'")
    return value


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


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
    Spec(
        "mode",
        _choice("development", "production"),
        "development",
        help="production turns off introspection and the GraphiQL IDE",
    ),
    Spec("trusted_documents", _text, None, help="JSON file of sha256 → document: only these operations may run"),
    Spec("auth.mode", _choice("jwt", "none"), "jwt", help="jwt (bearer tokens), or none: development only"),
    Spec("auth.hs256_secret", _secret, None, help="shared secret of HS256 tokens"),
    Spec("auth.jwks_file", _text, None, help="JWKS file with the public keys of RS256/ES256 tokens"),
    Spec("auth.jwks_url", _url, None, help="JWKS URL of your identity provider (RS256/ES256)"),
    Spec("auth.issuer", _text, None, help="required iss claim, if set"),
    Spec("auth.audience", _text, None, help="required aud claim, if set"),
    Spec("auth.leeway", _count(0, 300), 30, help="clock skew tolerated on exp and nbf, seconds"),
    Spec("auth.roles_claim", _text, "roles", help="claim holding the roles (a list or space-separated)"),
    Spec("limits.max_depth", _count(2, 100), 12, help="deepest operation"),
    Spec("limits.max_aliases", _count(1, 1000), 30, help="most aliases in one operation"),
    Spec("limits.max_tokens", _count(100, 1_000_000), 4000, help="most tokens in one document"),
    Spec("limits.max_cost", _count(1, 1_000_000_000), 500_000, help="highest estimated cost of one operation"),
    Spec("limits.max_body_bytes", _count(1024, 100_000_000), 1_048_576, help="largest request body"),
    Spec("limits.rate", _rate, 100.0, help="requests per second per subject (token bucket refill; 0: no limit)"),
    Spec("limits.burst", _count(1, 1_000_000), 200, help="requests a subject may make at once (bucket size)"),
    Spec("limits.max_subscriptions", _count(1, 10_000), 20, help="subscriptions on one WebSocket connection"),
    Spec("limits.connection_init_seconds", _seconds, 10.0, help="seconds a WebSocket may wait before connection_init"),
    Spec("resilience.read_retries", _count(0, 10), 2, help="retries of a failed read (never of a command)"),
    Spec("resilience.breaker_failures", _count(1, 1000), 5, help="consecutive failures that open a breaker"),
    Spec("resilience.breaker_open_seconds", _seconds, 10.0, help="seconds a breaker stays open before a probe"),
    Spec("resilience.max_concurrency", _count(1, 10_000), 64, help="calls in flight per source (bulkhead)"),
    Spec("redis_prefix", _text, "lotgraph:", help="prefix of every key lotgraph writes in Redis"),
    Spec("idempotency.ttl", _duration, 86400.0, help="seconds a command's answer is kept for repeats of its key"),
    Spec("holds.max_lots", _count(1, 100_000), 5000, help="most lots one placeHold may hold, propagation included"),
    Spec("holds.concurrency", _count(1, 256), 16, help="upstream commands one placeHold keeps in flight"),
    Spec("holds.lease_seconds", _seconds, 120.0, help="seconds a running command owns its idempotency key"),
    Spec("holds.retry_max_attempts", _count(1, 1000), 10, help="attempts of a pending action before it is FAILED"),
    Spec("holds.retry_base_seconds", _seconds, 1.0, help="first retry delay of a pending action (doubles, jittered)"),
    Spec("holds.retry_max_seconds", _seconds, 300.0, help="longest retry delay of a pending action"),
    Spec("holds.retry_poll_seconds", _seconds, 1.0, help="longest wait of the retry worker between looks"),
    Spec("log_level", _level, "INFO", help="debug, info, warning or error"),
    Spec("log_format", _choice("json", "text"), "json", help="json (one object per line) or text"),
    Spec("graphiql", _flag, True, help="serve the GraphiQL IDE at /graphql"),
    Spec("federation", _flag, False, help="serve the schema as an Apollo Federation v2 subgraph"),
    Spec("tracing", _tracing, "off", help="off, or otlp: OpenTelemetry spans over OTLP (the otel extra)"),
    Spec(
        "ops.access",
        _choice("token", "open"),
        "token",
        help="who reads /metrics and the checks of /readyz: token (the ops token or an admin JWT) or open (anyone)",
    ),
    Spec("ops.token", _secret, None, help="bearer token that opens /metrics and the checks of /readyz (Prometheus)"),
    Spec("metrics.sample_interval", _seconds, 30.0, help="seconds between samples of the /metrics business figures"),
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
    Spec("genealogy.max_depth", _count(0, 1000), 30, help="deepest genealogy walk; a larger maxDepth is capped"),
    Spec("genealogy.max_nodes", _count(1, 10_000_000), 100_000, help="most lots one genealogy trace may hold"),
    Spec("genealogy.time_budget", _seconds, 10.0, help="seconds one genealogy walk may take"),
    Spec("events.queue_size", _count(1, 1_000_000), 1000, help="events one subscription may have waiting"),
    Spec("events.retention", _count(1000, 1_000_000_000), 1_000_000, help="events kept in the Redis stream (~)"),
    Spec("webhooks.tolerance", _seconds, 300.0, help="seconds a webhook timestamp may be off the gateway clock"),
    *(Spec(f"webhooks.{name}.secret", _secret, help=f"HMAC secret of {name.upper()} webhooks") for name in SOURCES),
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
        federation=values["federation"],
        tracing=values["tracing"],
        metrics_sample_interval=values["metrics.sample_interval"],
        readiness_required_stage=values["readiness.required_stage"].upper(),
        genealogy_max_depth=values["genealogy.max_depth"],
        genealogy_max_nodes=values["genealogy.max_nodes"],
        genealogy_time_budget=values["genealogy.time_budget"],
        redis_prefix=values["redis_prefix"],
        idempotency_ttl=values["idempotency.ttl"],
        holds=HoldSettings(
            max_lots=values["holds.max_lots"],
            concurrency=values["holds.concurrency"],
            lease_seconds=values["holds.lease_seconds"],
            retry_max_attempts=values["holds.retry_max_attempts"],
            retry_base_seconds=values["holds.retry_base_seconds"],
            retry_max_seconds=values["holds.retry_max_seconds"],
            retry_poll_seconds=values["holds.retry_poll_seconds"],
        ),
        events=EventSettings(queue_size=values["events.queue_size"], retention=values["events.retention"]),
        webhooks=WebhookSettings(
            secrets={name: values[f"webhooks.{name}.secret"] for name in SOURCES if values[f"webhooks.{name}.secret"]},
            tolerance=values["webhooks.tolerance"],
        ),
        mode=values["mode"],
        trusted_documents=_trusted(values["trusted_documents"]),
        auth=_auth(values),
        limits=LimitSettings(
            max_depth=values["limits.max_depth"],
            max_aliases=values["limits.max_aliases"],
            max_tokens=values["limits.max_tokens"],
            max_cost=values["limits.max_cost"],
            max_body_bytes=values["limits.max_body_bytes"],
            rate=values["limits.rate"],
            burst=values["limits.burst"],
            max_subscriptions=values["limits.max_subscriptions"],
            connection_init_seconds=values["limits.connection_init_seconds"],
        ),
        ops=OpsSettings(access=values["ops.access"], token=values["ops.token"]),
        resilience=ResiliencePolicy(
            failures=values["resilience.breaker_failures"],
            open_seconds=values["resilience.breaker_open_seconds"],
            max_concurrency=values["resilience.max_concurrency"],
            read_retries=values["resilience.read_retries"],
        ),
    )


def _trusted(path: str | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        return load_documents(Path(path))
    except ValueError as exc:
        raise SettingsError(f"LOTGRAPH_TRUSTED_DOCUMENTS: {exc}") from None


def _auth(values: Mapping[str, Any]) -> AuthSettings:
    auth = AuthSettings(
        mode=values["auth.mode"],
        hs256_secret=values["auth.hs256_secret"],
        jwks_file=Path(values["auth.jwks_file"]) if values["auth.jwks_file"] else None,
        jwks_url=values["auth.jwks_url"],
        issuer=values["auth.issuer"],
        audience=values["auth.audience"],
        leeway_seconds=float(values["auth.leeway"]),
        roles_claim=values["auth.roles_claim"],
    )
    if auth.mode == "jwt" and not (auth.hs256_secret or auth.jwks_file or auth.jwks_url):
        raise SettingsError(
            "LOTGRAPH_AUTH_HS256_SECRET: missing (or LOTGRAPH_AUTH_JWKS_FILE / LOTGRAPH_AUTH_JWKS_URL; "
            "LOTGRAPH_AUTH_MODE=none turns authentication off for development)"
        )
    if auth.jwks_file is not None and not auth.jwks_file.is_file():
        raise SettingsError(f"LOTGRAPH_AUTH_JWKS_FILE: no such file: {auth.jwks_file}")
    return auth


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
