"""Settings: from ``LOTGRAPH_…`` environment variables over an optional TOML file, checked before anything starts.

The tree of frozen dataclasses below (with nodes declared where they are used: ``HoldPolicy``, ``ResolverConfig``,
``AuthSettings``, ``ResiliencePolicy``) is the only declaration of a setting: its environment name, TOML key,
parser, default and documentation come from the field and its metadata (api/settings_tree.py says how). A bad or
missing value raises ``SettingsError`` whose message is one line naming the setting and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from api import settings_tree as parse
from api.auth import AuthSettings
from api.ops import OpsSettings
from api.settings_tree import ENV_PREFIX, Leaf, build, leaves, markdown
from api.trusted import load_documents
from resolvers.config import ResolverConfig
from resolvers.holds.policy import HoldPolicy
from sources.resilience import ResiliencePolicy

SOURCES = ("erp", "qms", "mes", "wms")
ADAPTER_KINDS = ("contract", "tryton")
"""Kinds of source adapter (api/adapters.py registers a factory per kind and system)."""


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


def setting(default: Any = None, help: str = "", **meta: Any) -> Any:
    """A field that is a setting (api/settings_tree.py lists the metadata keys)."""
    return field(default=default, metadata={"help": help, **meta})


def node(default_factory: Any = None, **meta: Any) -> Any:
    """A field holding a node of the tree (``key``, ``env``, ``section`` as api/settings_tree.py says)."""
    if default_factory is None:
        return field(metadata=meta)
    return field(default_factory=default_factory, metadata=meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrytonSettings:
    """How a system of kind ``tryton`` reaches its Tryton (docs/sources.md, "Connecting Tryton")."""

    database: str | None = setting(None, "with kind `tryton`: the Tryton database (required then)")
    login: str = setting("admin", "with kind `tryton`: the Tryton user lotgraph logs in as")
    password: str | None = setting(None, "with kind `tryton`: that user's password (required then)")
    quarantine: str = setting("QUA", "with kind `tryton`: code of the stock location blocked stock is moved into")
    poll_seconds: float = setting(
        5.0, "with kind `tryton`: seconds between two reads of Tryton's changed records", parse=parse.seconds
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSettings:
    url: str = field(metadata={"help": "base URL of the {system}", "parse": parse.url, "required": True})
    timeout: float = setting(2.0, "deadline of one {system} call, in seconds (over 0, at most 600)")
    kind: str = setting(
        "contract",
        "adapter of the {system}: `contract` (it speaks lotgraph's source contracts, see [sources](sources.md)) or"
        " `tryton` (a Tryton 8.2 over its JSON-RPC, see [Connecting Tryton](sources.md#connecting-tryton))",
        choices=ADAPTER_KINDS,
    )
    tryton: TrytonSettings = node(TrytonSettings)
    cache_ttl: float = 0.0
    """Seconds reference data stays cached in process; never for the QMS and the WMS (see ``ErpSettings``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpSettings(SourceSettings):
    cache_ttl: float = setting(300.0, "seconds products and customers stay cached in process (0: off)", parse=parse.ttl)


@dataclass(frozen=True, slots=True, kw_only=True)
class MesSettings(SourceSettings):
    kind: str = setting(
        "contract",
        "adapter of the MES: `contract` (it speaks lotgraph's source contracts, see [sources](sources.md)), "
        "`tryton` (a Tryton 8.2 over its JSON-RPC, see [Connecting Tryton](sources.md#connecting-tryton)), or "
        "`epcis`: an EPCIS 2.0 repository's REST query interface (`GET /events`) at the URL, see "
        "[traceability](traceability.md)",
        choices=(*ADAPTER_KINDS, "epcis"),
    )
    cache_ttl: float = setting(60.0, "seconds lot master records stay cached in process (0: off)", parse=parse.ttl)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcesSettings:
    erp: ErpSettings
    qms: SourceSettings
    mes: MesSettings
    wms: SourceSettings

    def __getitem__(self, system: str) -> SourceSettings:
        if system not in SOURCES:
            raise KeyError(system)
        source: SourceSettings = getattr(self, system)
        return source

    def values(self) -> Iterator[SourceSettings]:
        return (self[system] for system in SOURCES)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    """Another site (plant) of the deployment: its four systems and the supplier code it is known by
    (docs/sites.md). Its settings are those of the deployment's own systems, under ``LOTGRAPH_SITE_<NAME>_``."""

    supplier: str | None = setting(
        None,
        "supplier code the other sites' systems record this site under as the supplier of the lots it ships them "
        "(links their received lots to its lots); default: the site's name",
        section="sites",
    )
    sources: SourcesSettings = node(env="", section="sites")
    webhooks: SiteWebhookSettings = node(section="sites", default_factory=lambda: SiteWebhookSettings())


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSettings:
    queue_size: int = setting(
        1000,
        "events one subscription may have waiting to be sent (1 to 1,000,000); a subscriber that falls that far "
        "behind is disconnected (close code `4008`, or a `SLOW_SUBSCRIBER` error over SSE) and resumes with "
        "`after` — see [events](events.md#slow-subscribers)",
        range=(1, 1_000_000),
    )
    retention: int = setting(
        1_000_000,
        'with `bus = "redis"`: length the event stream is trimmed to (`XADD … MAXLEN ~`, 1,000 to 1,000,000,000); '
        "a resume from a cursor older than that fails with `CURSOR_EXPIRED` instead of skipping events. The SQLite "
        "log keeps everything",
        range=(1000, 1_000_000_000),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSource:
    secret: str | None = setting(
        None,
        "HMAC-SHA256 secret of the {system}'s webhooks (to `/webhooks/{name}`), at least 16 characters; without "
        "it the gateway accepts no webhooks from the {system} (404)",
        parse=parse.secret,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteWebhookSource:
    secret: str | None = setting(
        None,
        "HMAC-SHA256 secret of this site's {system} webhooks (to `/webhooks/<name>/{name}`), at least 16 characters; "
        "without it the gateway accepts no webhooks from this site's {system} (404)",
        parse=parse.secret,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteWebhookSettings:
    """Another site's webhook secrets (the tolerance is the deployment's)."""

    erp: SiteWebhookSource = field(default_factory=SiteWebhookSource)
    qms: SiteWebhookSource = field(default_factory=SiteWebhookSource)
    mes: SiteWebhookSource = field(default_factory=SiteWebhookSource)
    wms: SiteWebhookSource = field(default_factory=SiteWebhookSource)

    @property
    def secrets(self) -> Mapping[str, str]:
        """Per source; a source without a secret accepts no webhooks."""
        by_source: dict[str, str | None] = {name: getattr(self, name).secret for name in SOURCES}
        return {name: secret for name, secret in by_source.items() if secret}


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    tolerance: float = setting(
        300.0,
        "seconds a webhook's `Webhook-Timestamp` may differ from the gateway's clock (over 0, at most 600); older "
        "or newer deliveries are refused with 401, so a captured request cannot be replayed later",
    )
    erp: WebhookSource = field(default_factory=WebhookSource)
    qms: WebhookSource = field(default_factory=WebhookSource)
    mes: WebhookSource = field(default_factory=WebhookSource)
    wms: WebhookSource = field(default_factory=WebhookSource)

    @property
    def secrets(self) -> Mapping[str, str]:
        """Per source; a source without a secret accepts no webhooks."""
        by_source: dict[str, str | None] = {name: getattr(self, name).secret for name in SOURCES}
        return {name: secret for name, secret in by_source.items() if secret}


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitSettings:
    max_depth: int = setting(12, "deepest operation", range=(2, 100))
    max_aliases: int = setting(30, "most aliases in one operation", range=(1, 1000))
    max_tokens: int = setting(4000, "most tokens in one document", range=(100, 1_000_000))
    max_cost: int = setting(500_000, "highest estimated cost of one operation", range=(1, 1_000_000_000))
    max_body_bytes: int = setting(1_048_576, "largest request body", range=(1024, 100_000_000))
    rate: float = setting(100.0, "requests per second per subject (token bucket refill; 0: no limit)", parse=parse.rate)
    burst: int = setting(200, "requests a subject may make at once (bucket size)", range=(1, 1_000_000))
    max_subscriptions: int = setting(20, "subscriptions on one WebSocket connection", range=(1, 10_000))
    connection_init_seconds: float = setting(10.0, "seconds a WebSocket may wait before connection_init")


def _level(raw: Any) -> str:
    return parse.choice("debug", "info", "warning", "error")(raw).upper()


def _tracing(raw: Any) -> str:
    value = parse.choice("off", "otlp")(raw)
    if value != "off" and not all(map(_installed, ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"))):
        raise ValueError("needs OpenTelemetry: pip install 'lotgraph[otel]'")
    return value


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _trusted(raw: Any) -> dict[str, str]:
    return load_documents(Path(parse.text(raw)))


SITE_NAME = re.compile(r"[a-z][a-z0-9]{0,31}")


def site_name(raw: Any) -> str:
    value = parse.text(raw).lower()
    if not SITE_NAME.fullmatch(value):
        raise ValueError(f"a site name is a letter then up to 31 letters or digits, got {raw!r}")
    return value


def site_names(raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [part for part in parse.text(raw).split(",") if part.strip()]
    names = tuple(site_name(item) for item in items)
    if len(set(names)) != len(names):
        raise ValueError(f"a site is named twice in {raw!r}")
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = setting("127.0.0.1", "interface the gateway listens on")
    port: int = setting(8000, "port the gateway listens on", parse=parse.port)
    workers: int = setting(
        0,
        "gateway worker processes, each accepting on its own `SO_REUSEPORT` socket of the port (`lotgraph serve "
        "--workers`); 0: one per core when `store` is `postgres` or `redis` and `bus` is `redis`, else 1. More than 1 "
        "needs them so: the SQLite store and the in-process bus belong to one process (at most 64)",
        parse=parse.count(0, 64),
    )
    data_dir: Path = setting(Path("./data/gateway"), "directory of the local store (SQLite)")
    store: str = setting(
        "sqlite",
        "durable store of idempotency records, pending actions, saga records and the hold history: `sqlite` (one "
        "process, the embedded default), `postgres` (replicas; the production choice; it also keeps the dead "
        "letters and the pollers' watermarks) or `redis` (replicas; needs AOF persistence, see "
        "[operations](operations.md#the-durable-store))",
        choices=("sqlite", "redis", "postgres"),
    )
    bus: str = setting(
        "memory",
        "event bus: `memory` (in process) or `redis` (Redis Streams across replicas)",
        choices=("memory", "redis"),
    )
    redis_url: str | None = setting(
        None,
        "Redis URL (`redis://`, `rediss://`, `unix://`), needed when store or bus is `redis`",
        parse=parse.redis_url,
    )
    postgres_url: str | None = setting(
        None,
        "PostgreSQL URL (`postgresql://user:password@host:port/database`), needed when store is `postgres`",
        key="postgres.url",
        parse=parse.postgres_url,
    )
    postgres_pool_size: int = setting(
        10,
        "connections each gateway process keeps open to PostgreSQL at most (1 to 200)",
        key="postgres.pool_size",
        parse=parse.count(1, 200),
    )
    redis_prefix: str = setting(
        "lotgraph:",
        "prefix of every key lotgraph writes in Redis (replicas that share state share it; give another "
        "deployment on the same Redis its own)",
    )
    idempotency_ttl: float = setting(
        86400.0,
        "seconds the answer of a command is kept for repeats of its idempotency key (1 s to 30 days); a key older "
        "than that is new again. Pending actions that completed after a retry are listed as long",
        key="idempotency.ttl",
        parse=parse.duration,
    )
    holds: HoldPolicy = field(default_factory=HoldPolicy)
    log_level: str = setting("INFO", "`debug`, `info`, `warning` or `error`", parse=_level)
    log_format: str = setting(
        "json", "`json` (one object per line, with `correlation_id`) or `text`", choices=("json", "text")
    )
    graphiql: bool = setting(True, "serve the GraphiQL IDE at `/graphql` to browsers")
    federation: bool = setting(
        False,
        "serve the schema as an Apollo Federation v2 subgraph (`Lot`, `SalesOrder`, `Shipment` as entities keyed "
        "by `id`); `lotgraph serve --federation` sets it too. See [operations](operations.md#joining-a-supergraph)",
    )
    tracing: str = setting(
        "off",
        "`off`, or `otlp`: OpenTelemetry spans per operation and upstream call, exported over OTLP/HTTP as the "
        "standard `OTEL_EXPORTER_OTLP_*` variables say; needs `pip install 'lotgraph[otel]'`",
        parse=_tracing,
    )
    metrics_sample_interval: float = setting(
        30.0,
        "seconds between samples of the business figures on `/metrics` (active holds, blocked stock, …), which "
        "read the systems of record (over 0, at most 600)",
        key="metrics.sample_interval",
    )
    resolvers: ResolverConfig = node(key="", default_factory=ResolverConfig)
    events: EventSettings = field(default_factory=EventSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    sources: SourcesSettings = node(env="")
    site: str = setting(
        "main",
        "name of the site (plant) whose systems the settings above name; with other sites (`LOTGRAPH_SITES`), its "
        "ids stay as they are and the others' are `<site>:<id>`, see [sites](sites.md)",
        parse=site_name,
    )
    supplier: str | None = setting(
        None,
        "supplier code the other sites' systems record this site under (links lots they received from it); "
        "default: the site's name",
    )
    other_sites: tuple[str, ...] = setting(
        (),
        "other sites of the deployment, comma-separated (`b,c`), each with its systems under "
        "`LOTGRAPH_SITE_<NAME>_…` (the table below); in TOML, one `[sites.<name>]` table each",
        key="sites",
        env="sites",
        parse=site_names,
    )
    sites: Mapping[str, SiteSettings] = field(default_factory=dict)
    """The other sites' settings, by name (``load_settings`` fills it)."""
    mode: str = setting(
        "development",
        'production turns off introspection, the GraphiQL IDE and "Did you mean …?" suggestions in errors',
        choices=("development", "production"),
        section="security",
    )
    trusted_documents: Mapping[str, str] | None = setting(
        None,
        "JSON file of sha256 → document text: only these operations may run (trusted documents mode)",
        parse=_trusted,
        section="security",
    )
    auth: AuthSettings = node(section="security", default_factory=AuthSettings)
    limits: LimitSettings = node(section="security", default_factory=LimitSettings)
    resilience: ResiliencePolicy = node(section="security", default_factory=ResiliencePolicy)
    ops: OpsSettings = node(section="security", default_factory=OpsSettings)

    @property
    def shared_store(self) -> bool:
        """Whether replicas can share the durable store (PostgreSQL or Redis, not the SQLite file)."""
        return self.store in ("postgres", "redis")


LEAVES: tuple[Leaf, ...] = leaves(Settings)
"""Every setting, in the order of the tree."""


SITE_LEAVES: tuple[Leaf, ...] = leaves(SiteSettings)
"""The settings of one other site, named as if it were the deployment's own (``site_leaf`` places them)."""


def site_leaf(leaf: Leaf, name: str) -> Leaf:
    """``leaf`` of the site ``name``: ``LOTGRAPH_SITE_<NAME>_…``, TOML ``sites.<name>.…``."""
    env = f"{ENV_PREFIX}SITE_{name.upper()}_{leaf.env.removeprefix(ENV_PREFIX)}"
    return replace(leaf, env=env, key=f"sites.{name}.{leaf.key}")


def configuration_tables() -> dict[str, str]:
    """The tables of docs/configuration.md, by section ("" for the main one)."""
    tables = {section: markdown(LEAVES, section) for section in dict.fromkeys(leaf.section for leaf in LEAVES)}
    tables["sites"] = markdown(tuple(site_leaf(leaf, "<name>") for leaf in SITE_LEAVES), "sites")
    return tables


def load_settings(env: Mapping[str, str], config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: keyword overrides (the CLI's flags) over environment over the TOML file over defaults."""
    path = config_file or (Path(env["LOTGRAPH_CONFIG"]) if env.get("LOTGRAPH_CONFIG") else None)
    file_values = _read_toml(path) if path else {}
    values = _values(LEAVES, env, file_values, path, overrides)
    settings: Settings = build(Settings, values)
    sites = {name: _site(name, env, file_values, path) for name in _other_sites(settings, file_values)}
    settings = replace(settings, other_sites=tuple(sites), sites=sites)
    _check(settings)
    return settings


def _other_sites(settings: Settings, file_values: Mapping[str, Any]) -> tuple[str, ...]:
    """``LOTGRAPH_SITES``, else the ``[sites.<name>]`` tables of the file."""
    names = settings.other_sites or tuple(
        dict.fromkeys(key.split(".")[1] for key in file_values if key.startswith("sites."))
    )
    for name in names:
        try:
            site_name(name)
        except ValueError as exc:
            raise SettingsError(f"[sites.{name}] in the config file: {exc}") from None
        if name == settings.site:
            raise SettingsError(f"LOTGRAPH_SITES: {name!r} is the deployment's own site (LOTGRAPH_SITE)")
    return names


def _site(name: str, env: Mapping[str, str], file_values: Mapping[str, Any], path: Path | None) -> SiteSettings:
    placed = tuple(site_leaf(leaf, name) for leaf in SITE_LEAVES)
    mine = {key: value for key, value in file_values.items() if key.startswith(f"sites.{name}.")}
    for key in mine.keys() - {leaf.key for leaf in placed}:
        raise SettingsError(f"{key} in {path}: unknown setting")
    site: SiteSettings = build(SiteSettings, _values(placed, env, mine, path, {}))
    _check_sources(site.sources, f"SITE_{name.upper()}_")
    return site


def _values(
    all_leaves: tuple[Leaf, ...],
    env: Mapping[str, str],
    file_values: Mapping[str, Any],
    path: Path | None,
    overrides: Mapping[str, Any],
) -> dict[tuple[str, ...], Any]:
    values: dict[tuple[str, ...], Any] = {}
    for leaf in all_leaves:
        if leaf.key in overrides and overrides[leaf.key] is not None:
            raw, where = overrides[leaf.key], f"--{leaf.key.replace('_', '-')}"
        elif leaf.env in env and env[leaf.env] != "":
            raw, where = env[leaf.env], leaf.env
        elif leaf.key in file_values:
            raw, where = file_values[leaf.key], f"{leaf.key} in {path}"
        elif leaf.required:
            raise SettingsError(f"{leaf.env}: missing ({leaf.help}; or `{leaf.key}` in the config file)")
        else:
            continue
        try:
            values[leaf.path] = leaf.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    return values


def _check_sources(sources: SourcesSettings, prefix: str = "") -> None:
    for system in SOURCES:
        tryton = sources[system].tryton
        if sources[system].kind == "tryton":
            for name in ("database", "password"):
                if not getattr(tryton, name):
                    env = f"LOTGRAPH_{prefix}{system.upper()}_TRYTON_{name.upper()}"
                    kind = f"LOTGRAPH_{prefix}{system.upper()}_KIND"
                    raise SettingsError(f"{env}: missing (needed because {kind} is tryton)")


def _check(settings: Settings) -> None:
    """What no single setting can say: the ones that need each other."""
    _check_sources(settings.sources)
    for key in ("store", "bus"):
        if getattr(settings, key) == "redis" and not settings.redis_url:
            raise SettingsError(f"LOTGRAPH_REDIS_URL: missing (needed because {key} is redis)")
    if settings.store == "postgres" and not settings.postgres_url:
        raise SettingsError("LOTGRAPH_POSTGRES_URL: missing (needed because store is postgres)")
    if settings.workers > 1 and not (settings.shared_store and settings.bus == "redis"):
        raise SettingsError(
            f"LOTGRAPH_WORKERS: {settings.workers} worker processes need LOTGRAPH_STORE=postgres (or redis) and "
            "LOTGRAPH_BUS=redis (the SQLite store and the in-process bus belong to one process; a subscriber on one "
            "worker would miss the events another receives)"
        )
    auth = settings.auth
    if auth.mode == "jwt" and not (auth.hs256_secret or auth.jwks_file or auth.jwks_url):
        raise SettingsError(
            "LOTGRAPH_AUTH_HS256_SECRET: missing (or LOTGRAPH_AUTH_JWKS_FILE / LOTGRAPH_AUTH_JWKS_URL; "
            "LOTGRAPH_AUTH_MODE=none turns authentication off for development)"
        )
    if auth.jwks_file is not None and not auth.jwks_file.is_file():
        raise SettingsError(f"LOTGRAPH_AUTH_JWKS_FILE: no such file: {auth.jwks_file}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"LOTGRAPH_CONFIG: no such file: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"LOTGRAPH_CONFIG: cannot read {path}: {exc}") from None
    flat = _flatten(document)
    known = {leaf.key for leaf in LEAVES}
    for key in flat:
        if key not in known and not key.startswith("sites."):  # a site's keys: checked with its settings
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
