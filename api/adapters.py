"""Which adapter serves each system: a registry of adapter kinds per system (``LOTGRAPH_<SYSTEM>_KIND``).

``contract`` speaks lotgraph's documented source contracts (docs/sources.md) over HTTP. Another kind of adapter
(one for an ERP product, say) registers a factory here under its kind and adds its settings to that system's
settings node; nothing else in the composition root changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from api.settings import Settings, SourceSettings
from sources.bundle import Sources
from sources.contract.erp import ErpSource
from sources.contract.mes import MesSource
from sources.contract.qms import QmsSource
from sources.contract.wms import WmsSource
from sources.http import CallStats, SourceClient
from sources.ports import ErpPort, MesPort, QmsPort, WmsPort
from sources.resilience import ResiliencePolicy


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


ERP_ADAPTERS: dict[str, Callable[[AdapterInputs], ErpPort]] = {
    "contract": lambda a: ErpSource(a.client(), cache_ttl=a.settings.cache_ttl),
}
QMS_ADAPTERS: dict[str, Callable[[AdapterInputs], QmsPort]] = {
    "contract": lambda a: QmsSource(a.client()),
}
MES_ADAPTERS: dict[str, Callable[[AdapterInputs], MesPort]] = {
    "contract": lambda a: MesSource(a.client(), cache_ttl=a.settings.cache_ttl),
}
WMS_ADAPTERS: dict[str, Callable[[AdapterInputs], WmsPort]] = {
    "contract": lambda a: WmsSource(a.client()),
}


def open_sources(
    settings: Settings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    on_call: Callable[[CallStats], None] | None = None,
) -> Sources:
    """One adapter per system, of the kind its settings name. Nothing connects until the first call."""

    def inputs(system: str) -> AdapterInputs:
        source = settings.sources[system]
        return AdapterInputs(system, source, settings.resilience, (transports or {}).get(system), on_call)

    return Sources(
        erp=ERP_ADAPTERS[settings.sources["erp"].kind](inputs("erp")),
        qms=QMS_ADAPTERS[settings.sources["qms"].kind](inputs("qms")),
        mes=MES_ADAPTERS[settings.sources["mes"].kind](inputs("mes")),
        wms=WMS_ADAPTERS[settings.sources["wms"].kind](inputs("wms")),
    )
