"""What the schema says about sites (docs/sites.md): the ``site`` of a record, and counts by site."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from resolvers.context import Context
from resolvers.sites import site_of
from sources import records

SITE_HELP = (
    "The site (plant) whose systems hold it. With several sites, ids of the deployment's own site are as its "
    "systems give them and the others' are `<site>:<id>` (see docs/sites.md)."
)
SITE_ARG_HELP = "Only this site's records (a search fans out to every site without it)."


@strawberry.type(description="What a trace or recall holds of one site.")
class SiteCount:
    site: str
    lots: int = strawberry.field(description="Distinct lots of the site.")
    edges: int = strawberry.field(
        description="Edges recorded by the site: its genealogy, and the receipts linking lots it received from "
        "another site to the shipper's lots."
    )
    shipments: int | None = strawberry.field(
        default=None, description="Shipments of the site carrying the lots (recall impact only)."
    )


def by_site(
    ctx: Context,
    lot_ids: Iterable[str],
    edges: Iterable[records.GenealogyEdge],
    shipment_ids: Iterable[str] | None = None,
) -> list[SiteCount]:
    """Counts per site, in the order the sites are declared; sites with nothing are left out."""
    lots: dict[str, int] = {}
    edge_counts: dict[str, int] = {}
    shipments: dict[str, int] = {}
    for lot_id in dict.fromkeys(lot_ids):
        site = site_of(ctx, lot_id)
        lots[site] = lots.get(site, 0) + 1
    for edge in edges:
        site = edge.site or site_of(ctx, edge.output_lot_id)
        edge_counts[site] = edge_counts.get(site, 0) + 1
    for shipment_id in dict.fromkeys(shipment_ids or ()):
        site = site_of(ctx, shipment_id)
        shipments[site] = shipments.get(site, 0) + 1
    return [
        SiteCount(
            site=site,
            lots=lots.get(site, 0),
            edges=edge_counts.get(site, 0),
            shipments=None if shipment_ids is None else shipments.get(site, 0),
        )
        for site in ctx.sources.ids.names
        if site in lots or site in edge_counts or site in shipments
    ]
