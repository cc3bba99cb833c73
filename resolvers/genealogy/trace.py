"""Tracing one lot over the sources of one operation: the genealogy walk over the MES, with what the answer needs
of every lot loaded level by level while the walk goes on.

The walk itself (``resolvers.genealogy.walk``) knows nothing of sources. Here each level's new lots start one
batched read per kind of data the answer needs (MES master records when a field reads them, the root's always; QMS,
WMS or ERP data when asked), overlapping the next level's walk instead of waiting for its end. What comes back is
kept in plain dicts, not pushed through the per-lot loaders: a trace holds tens of thousands of lots, and a loader
costs a future and a callback per lot. Data that ``Lot`` fields read through the loaders is primed into them
afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from enum import Enum
from typing import Any, Generic, TypeVar

from resolvers.config import ResolverConfig
from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.genealogy.model import Limits, Trace, TraceDirection
from resolvers.genealogy.walk import walk
from resolvers.loaders import Loader
from resolvers.lots import LotRef, lot_id_of, lot_named, lot_refs
from sources.errors import SourceError
from sources.records import GenealogyEdge, Lot

V = TypeVar("V")


class Collect(Generic[V]):
    """One kind of record, read for the lots of each level as the walk finds them (one batched read per level).

    A failed read is kept, not raised: ``failed`` lists the lots it was for, ``error`` says why."""

    def __init__(self, fetch: Callable[[list[str]], Awaitable[Mapping[str, V]]]) -> None:
        self.fetch = fetch
        self.found: dict[str, V] = {}
        self.failed: set[str] = set()
        self.error: SourceError | None = None

    async def level(self, lot_ids: list[str]) -> None:
        try:
            self.found.update(await self.fetch(lot_ids))
        except SourceError as exc:
            self.failed.update(lot_ids)
            self.error = self.error or exc

    def prime(self, loader: Loader[Any], lot_ids: Sequence[str], missing: object) -> None:
        """Hand what was read to a per-operation loader (lots it was not read for are left to the loader)."""
        for lot_id in lot_ids:
            if lot_id not in self.failed:
                loader.prime(lot_id, self.found.get(lot_id, missing))


class LotData(Enum):
    """What ``Lot`` fields may need of every lot of a trace, read level by level when the query asks for it."""

    QUALITY = "quality"
    HOLDS = "holds"
    DEVIATIONS = "deviations"
    STOCK = "stock"


def limits_for(config: ResolverConfig, max_depth: int | None) -> Limits:
    if max_depth is not None and max_depth < 0:
        raise InputError(f"maxDepth must be 0 or more, got {max_depth}")
    return Limits(
        max_depth=max_depth,
        server_max_depth=config.genealogy_max_depth,
        max_nodes=config.genealogy_max_nodes,
        time_budget=config.genealogy_time_budget,
    )


def check_lot_id(lot_id: str) -> str:
    """One lot id, from any of its spellings (plant id, EPC class URN, GS1 Digital Link)."""
    name = lot_id.strip()
    if not name or "," in name or len(name) > 300:
        raise InputError(f"lotId must be one lot id, got {name[:200]!r}")
    return lot_id_of(name)


async def walk_from(
    ctx: Context,
    lot_id: str,
    direction: TraceDirection,
    max_depth: int | None,
    *,
    collect: Sequence[Collect[Any]] = (),
    masters: bool = True,
) -> tuple[Trace, list[LotRef]]:
    """Walk the genealogy of one lot over the MES; return the trace and every lot of it with its MES master.

    The root's master is read with the first level. An unknown root is a ``LOT_NOT_FOUND`` input error; a source
    error of the walk propagates (nothing is guessed). ``collect`` read along, level by level. ``masters=False``
    reads the root's master alone: the other lots' references then carry no record, for an answer that reads no
    master field of them (a 30,000-lot trace's nodes asked for id and disposition need 60 MES reads fewer)."""
    lot_id = await lot_named(ctx, lot_id.strip(), check_lot_id(lot_id))
    limits = limits_for(ctx.config, max_depth)
    master: Collect[Lot] = Collect(ctx.sources.mes.lots)
    kinds = [master, *collect] if masters else list(collect)
    reads: list[asyncio.Task[None]] = []

    def on_level(lot_ids: list[str], kinds: Sequence[Collect[Any]] = kinds) -> None:
        reads.extend(asyncio.create_task(kind.level(lot_ids)) for kind in kinds)

    on_level([lot_id], [master, *collect])
    mes = ctx.sources.mes
    try:
        walked = await walk(
            lot_id,
            direction,
            edges_into=mes.edges_into,
            edges_out_of=mes.edges_out_of,
            limits=limits,
            on_level=on_level,
        )
    except BaseException:
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        raise
    await asyncio.gather(*reads)
    if master.error is not None and lot_id in master.failed:
        raise master.error
    if lot_id not in master.found:
        raise InputError(f"no lot {lot_id!r} in the MES", code="LOT_NOT_FOUND")
    found, failed, error = master.found, master.failed, master.error
    refs = [LotRef(i, None, error) if i in failed else LotRef(i, found.get(i)) for i in walked.lot_ids]
    return walked, refs


class LotReads:
    """The per-lot reads a trace makes for ``Lot`` fields, one ``Collect`` per kind, and the priming of the loaders
    those fields read afterwards."""

    def __init__(self, ctx: Context, kinds: Collection[LotData]) -> None:
        sources, loaders = ctx.sources, ctx.loaders
        reads: dict[LotData, Callable[[], tuple[Collect[Any], Loader[Any], object]]] = {
            LotData.QUALITY: lambda: (Collect(sources.qms.lots), loaders.quality, None),
            LotData.HOLDS: lambda: (Collect(sources.qms.holds_by_lot), loaders.holds_by_lot, []),
            LotData.DEVIATIONS: lambda: (Collect(sources.qms.deviations_by_lot), loaders.deviations_by_lot, []),
            LotData.STOCK: lambda: (Collect(sources.wms.stock_by_lot), loaders.stock_by_lot, []),
        }
        self._reads = {kind: reads[kind]() for kind in LotData if kind in kinds}

    def __getitem__(self, kind: LotData) -> Collect[Any]:
        return self._reads[kind][0]

    @property
    def collect(self) -> list[Collect[Any]]:
        return [read for read, _, _ in self._reads.values()]

    def prime(self, lot_ids: Sequence[str], kinds: Collection[LotData]) -> None:
        for kind, (read, loader, missing) in self._reads.items():
            if kind in kinds:
                read.prime(loader, lot_ids, missing)


async def trace(
    ctx: Context,
    lot_id: str,
    direction: TraceDirection,
    max_depth: int | None,
    needs: Collection[LotData] = (),
    collect: Sequence[Collect[Any]] = (),
    masters: bool = True,
) -> tuple[Trace, list[LotRef]]:
    """The genealogy of one lot with every lot's master (the root's alone with ``masters=False``), and the per-lot
    data ``needs`` primed into the loaders; ``collect`` read along, level by level."""
    reads = LotReads(ctx, needs)
    collect = [*reads.collect, *collect]
    walked, refs = await walk_from(ctx, lot_id, direction, max_depth, collect=collect, masters=masters)
    reads.prime([ref.id for ref in refs], needs)  # the trace's lots, as walked.lot_ids gives them
    return walked, refs


async def links(ctx: Context, lot_id: str, direction: TraceDirection) -> list[tuple[GenealogyEdge, LotRef]]:
    """One level of genealogy from one lot, through the operation's loaders (batched across sibling lots):
    each edge with the lot on its other side."""
    if direction is TraceDirection.BACKWARD:
        edges = sorted(await ctx.loaders.edges_into.load(lot_id), key=lambda e: e.input_lot_id)
        others = [e.input_lot_id for e in edges]
    else:
        edges = sorted(await ctx.loaders.edges_out_of.load(lot_id), key=lambda e: e.output_lot_id)
        others = [e.output_lot_id for e in edges]
    refs = await lot_refs(ctx, others)
    return list(zip(edges, refs, strict=True))
