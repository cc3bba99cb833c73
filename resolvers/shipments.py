"""Shipments (outbound deliveries): the ERP document, with the WMS's warehouse stage as an optional filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.paging import Slice, ids_or_filter, slice_ids, slice_search
from resolvers.sites import sources_at
from sources.bundle import Sources
from sources.records import Page, Shipment, ShipmentStatus, WarehouseStage
from sources.records import ShipmentFilter as ErpShipmentFilter

MAX_STAGE_SCAN = 20
"""Pages of 500 the WMS is asked for when filtering by warehouse stage (10,000 shipments in one stage)."""


@dataclass(frozen=True, slots=True)
class ShipmentFilter:
    statuses: list[ShipmentStatus] | None = None
    warehouse_stage: WarehouseStage | None = None
    customer_id: str | None = None
    ship_date_from: date | None = None
    ship_date_to: date | None = None
    site: str | None = None


async def shipment(ctx: Context, shipment_id: str) -> Shipment | None:
    return await ctx.loaders.shipments.load(shipment_id)


async def shipments(
    ctx: Context, *, ids: Sequence[str] | None, where: ShipmentFilter | None, first: int, after: str | None
) -> Slice[Shipment]:
    ids_or_filter(ids, where is not None)
    if ids is not None:
        return await slice_ids(ids, first, after, ctx.loaders.shipments.load_many)
    where = where or ShipmentFilter()
    sources = sources_at(ctx, where.site)
    if where.ship_date_from and where.ship_date_to and where.ship_date_from > where.ship_date_to:
        raise InputError("filter: shipDateFrom is after shipDateTo")
    erp_filter = ErpShipmentFilter(
        ids=await _ids_in_stage(sources, where.warehouse_stage) if where.warehouse_stage else None,
        statuses=where.statuses,
        customer_id=where.customer_id,
        ship_date_from=where.ship_date_from,
        ship_date_to=where.ship_date_to,
    )
    if erp_filter.ids == []:
        return Slice([], [], 0, False, after is not None)

    async def search(limit: int, after_id: str | None) -> Page[Shipment]:
        page = await sources.erp.search_shipments(erp_filter, limit=limit, after=after_id)
        for found in page.items:
            ctx.loaders.shipments.prime(found.id, found)
        return page

    return await slice_search(first, after, search, lambda s: s.id)


async def _ids_in_stage(sources: Sources, stage: WarehouseStage) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    for _ in range(MAX_STAGE_SCAN):
        page = await sources.wms.search_shipments(stage=stage, limit=500, after=after)
        ids.extend(p.shipment_id for p in page.items)
        if not page.has_more or not page.items:
            return ids
        after = page.items[-1].shipment_id
    raise InputError("filter: too many shipments in that warehouse stage; narrow it with a status or dates")
