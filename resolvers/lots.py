"""Lots: master data from the MES, quality from the QMS, stock from the WMS, each read through the loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.paging import Slice, ids_or_filter, slice_ids, slice_search
from resolvers.sites import sources_at
from sources import gs1
from sources.errors import SourceError
from sources.record_type import record
from sources.records import Disposition, Lot, LotKind, Page


@record
class LotRef:
    """A lot known by id, with its MES master record when the MES knows it, or the error that hid it.

    A lot stays visible when the MES is down: its QMS and WMS fields still answer.
    """

    id: str
    record: Lot | None
    error: SourceError | None = None


@dataclass(frozen=True, slots=True)
class LotFilter:
    product_id: str | None = None
    disposition: Disposition | None = None
    plant: str | None = None
    kind: LotKind | None = None
    site: str | None = None


def lot_id_of(name: str) -> str:
    """The lot id a lot argument spells: plant id, EPC class URN or GS1 Digital Link (``sources.gs1``)."""
    try:
        return gs1.lot_id_of(name)
    except gs1.IdentifierError as exc:
        raise InputError(str(exc)) from None


async def lot_named(ctx: Context, name: str, lot_id: str | None = None) -> str:
    """The lot a lot argument names (``lot_id`` when ``lot_id_of`` read it already). With several sites, a GS1 name
    (an EPC class or a Digital Link: a GTIN and a lot number) names the lot of that number at the site whose lot
    has that GTIN: one batched MES lot read per site; the own site's lot number when no site's has it, and an
    ``AMBIGUOUS_ID`` input error when several sites' have it (docs/sites.md)."""
    lot_id = lot_id_of(name) if lot_id is None else lot_id
    ids = ctx.sources.ids
    try:
        found = gs1.gs1_lot(name.strip()) if len(ids.names) > 1 else None
    except gs1.IdentifierError:  # a malformed name the caller let through (a command reports the lot unknown)
        return lot_id
    if found is None:
        return lot_id
    candidates = [ids.qualify(site, found.lot) for site in ids.names]
    records = await ctx.loaders.lots.load_many(candidates)
    claiming = [c for c, r in zip(candidates, records, strict=True) if r and (r.gtin or "").zfill(14) == found.gtin]
    if len(claiming) > 1:
        sites = ", ".join(ids.site_of(c) for c in claiming)
        raise InputError(
            f"{name.strip()[:200]!r} names a lot at several sites ({sites}): name it by site and id",
            code="AMBIGUOUS_ID",
        )
    return claiming[0] if claiming else lot_id


def epc_class(lot_id: str, gtin: str | None, company_prefix_length: int) -> str | None:
    """The lot's EPC class: its LGTIN URN when its GTIN is known, its id when that is a URI already, else None."""
    if gtin is None and ":" not in lot_id:
        return None
    return gs1.epc_class_of(lot_id, gtin, company_prefix_length)


def digital_link(lot_id: str, gtin: str | None, resolver: str) -> str | None:
    """The lot's GS1 Digital Link URI when its GTIN is known and its id is a GS1 lot number, else None."""
    if gtin is None:
        return None
    try:
        return gs1.GS1Lot(gtin, gs1.check_lot_number(lot_id)).digital_link(resolver)
    except gs1.IdentifierError:
        return None


async def lot_refs(ctx: Context, ids: Sequence[str]) -> list[LotRef]:
    try:
        records = await ctx.loaders.lots.load_many(ids)
    except SourceError as exc:
        return [LotRef(lot_id, None, exc) for lot_id in ids]
    return [LotRef(lot_id, record) for lot_id, record in zip(ids, records, strict=True)]


async def lot(ctx: Context, lot_id: str) -> LotRef | None:
    lot_id = await lot_named(ctx, lot_id)
    record = await ctx.loaders.lots.load(lot_id)
    return None if record is None else LotRef(lot_id, record)


async def lots(
    ctx: Context, *, ids: Sequence[str] | None, where: LotFilter | None, first: int, after: str | None
) -> Slice[LotRef]:
    ids_or_filter(ids, where is not None)
    if ids is not None:
        ids = list(await asyncio.gather(*(lot_named(ctx, i) for i in ids)))

        async def load_many(wanted: list[str]) -> list[LotRef | None]:
            records = await ctx.loaders.lots.load_many(wanted)
            return [None if r is None else LotRef(r.id, r) for r in records]

        return await slice_ids(ids, first, after, load_many)
    where = where or LotFilter()
    sources = sources_at(ctx, where.site)
    if where.disposition is not None:
        if where.plant is not None or where.kind is not None:
            raise InputError("filter: disposition combines with productId only, not with plant or kind")
        disposition = where.disposition

        async def search_quality(limit: int, after_id: str | None) -> Page[LotRef]:
            page = await sources.qms.search_lots(
                product_id=where.product_id, disposition=disposition, limit=limit, after=after_id
            )
            refs = await lot_refs(ctx, [q.lot_id for q in page.items])
            return Page(refs, page.total, page.has_more)

        return await slice_search(first, after, search_quality, lambda ref: ref.id)

    async def search_master(limit: int, after_id: str | None) -> Page[LotRef]:
        page = await sources.mes.search_lots(
            product_id=where.product_id, plant=where.plant, kind=where.kind, limit=limit, after=after_id
        )
        return Page([LotRef(r.id, r) for r in page.items], page.total, page.has_more)

    return await slice_search(first, after, search_master, lambda ref: ref.id)
