"""Which adapter serves each system: a registry of adapter kinds per system (``LOTGRAPH_<SYSTEM>_KIND``).

``contract`` speaks lotgraph's documented source contracts (docs/sources.md) over HTTP; ``tryton`` reads a live
Tryton 8.2 over its JSON-RPC (sources/tryton). Another kind of adapter registers a factory here under its kind and
adds its settings to that system's settings node; nothing else in the composition root changes. A kind whose
systems send no webhooks also names its change feeds here (``change_feeds``), which the services poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from api.settings import SOURCES, Settings, SourceSettings, SourcesSettings
from sources.bundle import Sources
from sources.changes import ChangeFeed, Memory
from sources.contract.erp import ErpSource
from sources.contract.mes import MesSource
from sources.contract.qms import QmsSource
from sources.contract.wms import WmsSource
from sources.epcis.adapter import EpcisMesSource
from sources.http import CallStats, SourceClient
from sources.ports import ErpPort, MesPort, QmsPort, WmsPort
from sources.resilience import ResiliencePolicy
from sources.sites.compose import compose
from sources.sites.ids import SiteIds
from sources.tryton.changes import TrytonChangeFeed
from sources.tryton.client import TrytonLogin, TrytonRpc
from sources.tryton.erp import TrytonErp
from sources.tryton.mes import TrytonMes
from sources.tryton.qms import TrytonQms
from sources.tryton.wms import TrytonWms


@dataclass(frozen=True, slots=True)
class AdapterInputs:
    """What a factory gets to build one system's adapter."""

    system: str
    settings: SourceSettings
    resilience: ResiliencePolicy
    transport: httpx.AsyncBaseTransport | None = None
    """Replaces the network (tests pass ``httpx.ASGITransport``)."""
    on_call: Callable[[CallStats], None] | None = None
    """Sees every upstream call (metrics, tracing)."""

    def client(self) -> SourceClient:
        """The shared HTTP client base: timeouts, retries, the breaker, correlation headers."""
        return SourceClient(
            self.system,
            self.settings.url,
            timeout=self.settings.timeout,
            transport=self.transport,
            on_call=self.on_call,
            policy=self.resilience,
        )


def tryton_rpc(a: AdapterInputs) -> TrytonRpc:
    """JSON-RPC to the system's Tryton, as its user, over the shared client base."""
    t = a.settings.tryton
    login = TrytonLogin(t.database or "", t.login, t.password or "")  # load_settings requires both with kind tryton
    return TrytonRpc(a.client(), login)


ERP_ADAPTERS: dict[str, Callable[[AdapterInputs], ErpPort]] = {
    "contract": lambda a: ErpSource(a.client(), cache_ttl=a.settings.cache_ttl),
    "tryton": lambda a: TrytonErp(tryton_rpc(a), cache_ttl=a.settings.cache_ttl),
}
QMS_ADAPTERS: dict[str, Callable[[AdapterInputs], QmsPort]] = {
    "contract": lambda a: QmsSource(a.client()),
    "tryton": lambda a: TrytonQms(tryton_rpc(a)),
}
MES_ADAPTERS: dict[str, Callable[[AdapterInputs], MesPort]] = {
    "contract": lambda a: MesSource(a.client(), cache_ttl=a.settings.cache_ttl),
    "epcis": lambda a: EpcisMesSource(a.client(), cache_ttl=a.settings.cache_ttl),
    "tryton": lambda a: TrytonMes(tryton_rpc(a), cache_ttl=a.settings.cache_ttl),
}
WMS_ADAPTERS: dict[str, Callable[[AdapterInputs], WmsPort]] = {
    "contract": lambda a: WmsSource(a.client()),
    "tryton": lambda a: TrytonWms(tryton_rpc(a), quarantine_code=a.settings.tryton.quarantine),
}


def open_sources(
    settings: Settings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    on_call: Callable[[CallStats], None] | None = None,
) -> Sources:
    """One adapter per system, of the kind its settings name; with other sites (docs/sites.md), one per system and
    site, composed into one port per system kind. Nothing connects until the first call. ``transports`` are by
    system (``erp``), an other site's by ``<site>.<system>``."""
    own = site_sources(settings, settings.sources, transports or {}, "", on_call)
    if not settings.sites:
        return own
    by_site = {settings.site: own}
    for name, site in settings.sites.items():
        by_site[name] = site_sources(settings, site.sources, transports or {}, f"{name}.", on_call)
    ids = SiteIds(settings.site, tuple(by_site))
    suppliers = {settings.supplier or settings.site: settings.site}
    suppliers.update({site.supplier or name: name for name, site in settings.sites.items()})
    return compose(ids, by_site, suppliers)


def site_sources(
    settings: Settings,
    sources: SourcesSettings,
    transports: Mapping[str, httpx.AsyncBaseTransport],
    prefix: str,
    on_call: Callable[[CallStats], None] | None,
) -> Sources:
    def inputs(system: str) -> AdapterInputs:
        return AdapterInputs(system, sources[system], settings.resilience, transports.get(prefix + system), on_call)

    return Sources(
        erp=ERP_ADAPTERS[sources["erp"].kind](inputs("erp")),
        qms=QMS_ADAPTERS[sources["qms"].kind](inputs("qms")),
        mes=MES_ADAPTERS[sources["mes"].kind](inputs("mes")),
        wms=WMS_ADAPTERS[sources["wms"].kind](inputs("wms")),
    )


@dataclass(frozen=True, slots=True)
class Polled:
    """A change feed, the systems whose events it gives, how often to read it, and their site."""

    feed: ChangeFeed
    systems: tuple[str, ...]
    every: float
    site: str


def change_feeds(
    settings: Settings, memory: Memory, on_call: Callable[[CallStats], None] | None = None
) -> list[Polled]:
    """One feed per site and Tryton database that systems of kind ``tryton`` read (they send no webhooks); each with
    its own watermark (the own site's feeds keep their names, another site's are ``<site>/…``)."""
    feeds = _site_feeds(settings, settings.site, settings.sources, memory, on_call, "")
    for name, site in settings.sites.items():
        feeds += _site_feeds(settings, name, site.sources, memory, on_call, f"{name}/")
    return feeds


def _site_feeds(
    settings: Settings,
    site: str,
    sources: SourcesSettings,
    memory: Memory,
    on_call: Callable[[CallStats], None] | None,
    prefix: str,
) -> list[Polled]:
    by_database: dict[tuple[str, str], list[str]] = {}
    for system in SOURCES:
        source = sources[system]
        if source.kind == "tryton":
            by_database.setdefault((source.url, source.tryton.database or ""), []).append(system)
    feeds = []
    for (_, database), systems in by_database.items():
        first = AdapterInputs(systems[0], sources[systems[0]], settings.resilience, None, on_call)
        name = prefix + ("tryton" if len(by_database) == 1 else f"tryton-{database}")
        feed = TrytonChangeFeed(tryton_rpc(first), memory, name=name)
        feeds.append(Polled(feed, tuple(systems), sources[systems[0]].tryton.poll_seconds, site))
    return feeds
