"""Sales orders from the ERP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.context import Context
from resolvers.paging import Slice, ids_or_filter, slice_ids, slice_search
from resolvers.sites import sources_at
from sources.records import OrderStatus, Page, SalesOrder


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    customer_id: str | None = None
    site: str | None = None


async def order(ctx: Context, order_id: str) -> SalesOrder | None:
    return await ctx.loaders.orders.load(order_id)


async def orders(
    ctx: Context, *, ids: Sequence[str] | None, where: OrderFilter | None, first: int, after: str | None
) -> Slice[SalesOrder]:
    ids_or_filter(ids, where is not None)
    if ids is not None:
        return await slice_ids(ids, first, after, ctx.loaders.orders.load_many)
    where = where or OrderFilter()
    sources = sources_at(ctx, where.site)

    async def search(limit: int, after_id: str | None) -> Page[SalesOrder]:
        return await sources.erp.search_orders(
            status=where.status, customer_id=where.customer_id, limit=limit, after=after_id
        )

    return await slice_search(first, after, search, lambda o: o.id)
