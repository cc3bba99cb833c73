"""Several sites (plants), each with its own four systems, behind the one set of ports (docs/sites.md).

``compose`` wraps each site's adapters into one adapter per system kind: ids qualified by site, reads fanned out
to the sites of their ids (one batched call per site, in parallel), searches over every site, commands sent to
the lot's site, genealogy linked across sites by receipts (``sources.sites.mes``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sources.bundle import Sources
from sources.sites.ids import SINGLE, SiteIds
from sources.sites.mes import SiteMes
from sources.sites.ports import SiteErp, SiteQms, SiteWms

__all__ = ["SINGLE", "SiteIds", "compose"]


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
