"""How records of several sites are named: ``<site>:<id>``, the default site's ids bare (docs/sites.md).

A deployment's own systems (``LOTGRAPH_ERP_URL`` …) are its default site; every other site's records have their
ids (and every id inside them: order, customer, product, lot, shipment, hold) qualified by the site's name. An id
whose part before the first ``:`` is no site's name belongs to the default site, so the ids a single-site
deployment gave out keep naming the same records after sites are added, and an upstream id that holds a colon
(an EPCIS URN, say) is not mistaken for a qualified one. Each record has one spelling: ``<default>:<id>`` is not
one (it would make a second node of the same lot in a trace).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteIds:
    default: str
    """The site of the deployment's own systems; its ids stay bare."""
    names: tuple[str, ...]
    """Every site, the default first."""

    def split(self, qualified: str) -> tuple[str, str]:
        """``(site, the id in that site's systems)``."""
        prefix, colon, local = qualified.partition(":")
        if colon and prefix in self.names and prefix != self.default:
            return prefix, local
        return self.default, qualified

    def site_of(self, qualified: str) -> str:
        if len(self.names) == 1:  # one site: every id is the default site's (a trace asks this per lot and edge)
            return self.default
        return self.split(qualified)[0]

    def qualify(self, site: str, local: str) -> str:
        return local if site == self.default else f"{site}:{local}"

    def by_site(self, qualified: Iterable[str]) -> dict[str, dict[str, str]]:
        """The ids grouped by site, each as ``{local id: qualified id}``, in the order of ``names``."""
        grouped: dict[str, dict[str, str]] = {}
        for one in dict.fromkeys(qualified):
            site, local = self.split(one)
            grouped.setdefault(site, {})[local] = one
        return {site: grouped[site] for site in self.names if site in grouped}


SINGLE = SiteIds("main", ("main",))
"""A deployment without other sites: every id is the default site's."""
