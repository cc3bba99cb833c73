"""The four upstream adapters, held together so they are opened and closed as one."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from sources.ports import ErpPort, MesPort, QmsPort, Upstream, WmsPort
from sources.resilience import Health
from sources.sites.ids import SINGLE, SiteIds


@dataclass(frozen=True, slots=True)
class Sources:
    erp: ErpPort
    qms: QmsPort
    mes: MesPort
    wms: WmsPort
    ids: SiteIds = SINGLE
    """The sites these adapters answer for and how their ids are named (docs/sites.md)."""
    per_site: Mapping[str, Sources] = field(default_factory=dict)
    """With several sites: the same adapters, searches limited to one site (the ``site`` argument of lists)."""
    by_site: Mapping[str, Sources] = field(default_factory=dict)
    """With several sites: each site's own adapters."""

    @property
    def all(self) -> tuple[Upstream, ...]:
        return (self.erp, self.qms, self.mes, self.wms)

    def at(self, site: str | None) -> Sources:
        """These sources with searches limited to ``site`` (all sites when None); ``KeyError`` for no such site."""
        if site is None or (site == self.ids.default and not self.per_site):
            return self
        return self.per_site[site]

    def health_by_site(self) -> list[tuple[str, Health]]:
        """Every adapter's health, with its site."""
        bundles = self.by_site or {self.ids.default: self}
        return [(site, source.health()) for site, bundle in bundles.items() for source in bundle.all]

    async def aclose(self) -> None:
        await asyncio.gather(*(source.aclose() for source in self.all))
