"""One ``Sources`` over every site's (docs/sites.md)."""

from __future__ import annotations

from collections.abc import Mapping

from sources.bundle import Sources
from sources.sites.ids import SiteIds
from sources.sites.mes import SiteMes
from sources.sites.ports import SiteErp, SiteQms, SiteWms


def compose(ids: SiteIds, sites: Mapping[str, Sources], suppliers: Mapping[str, str]) -> Sources:
    """One ``Sources`` over every site's; ``suppliers`` maps the supplier code each site is known by to it."""

    def over(only: tuple[str, ...] | None) -> Sources:
        return Sources(
            erp=SiteErp(ids, {s: b.erp for s, b in sites.items()}, only),
            qms=SiteQms(ids, {s: b.qms for s, b in sites.items()}, only),
            mes=SiteMes(ids, {s: b.mes for s, b in sites.items()}, suppliers, only),
            wms=SiteWms(ids, {s: b.wms for s, b in sites.items()}, only),
            ids=ids,
        )

    whole = over(None)
    return Sources(whole.erp, whole.qms, whole.mes, whole.wms, ids, {site: over((site,)) for site in ids.names})
