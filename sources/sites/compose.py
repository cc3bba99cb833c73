"""One ``Sources`` over every site's (docs/sites.md)."""

from __future__ import annotations

from collections.abc import Mapping

from sources.bundle import Sources
from sources.sites.ids import SiteIds
from sources.sites.mes import SiteMes
from sources.sites.ports import SiteErp, SiteQms, SiteWms


def compose(ids: SiteIds, sites: Mapping[str, Sources], suppliers: Mapping[str, str]) -> Sources:
    """One ``Sources`` over every site's; ``suppliers`` maps the supplier code each site is known by to it."""

    erp = {site: bundle.erp for site, bundle in sites.items()}
    qms = {site: bundle.qms for site, bundle in sites.items()}
    mes = {site: bundle.mes for site, bundle in sites.items()}
    wms = {site: bundle.wms for site, bundle in sites.items()}

    def over(only: tuple[str, ...] | None) -> Sources:
        return Sources(
            erp=SiteErp(ids, erp, only),
            qms=SiteQms(ids, qms, only),
            mes=SiteMes(ids, mes, erp, suppliers, only),
            wms=SiteWms(ids, wms, only),
            ids=ids,
        )

    whole = over(None)
    per_site = {site: over((site,)) for site in ids.names}
    return Sources(whole.erp, whole.qms, whole.mes, whole.wms, ids, per_site, dict(sites))
