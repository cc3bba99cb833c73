"""Which lots a hold with propagation FORWARD covers: the given lots and every lot made from them, through the
genealogy, walked breadth first with one batched MES request per level for the whole frontier.

It runs the genealogy walk of ``resolvers.genealogy`` (visited set, cycles walked once, server depth cap, node
limit, time budget) from a virtual root whose children are the given lots, so one walk covers them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from resolvers.context import Context
from resolvers.genealogy.model import Limits, TraceDirection, TruncationReason
from resolvers.genealogy.walk import walk
from sources.records import GenealogyEdge

_ROOT = "\x00given lots"


@dataclass(frozen=True, slots=True)
class Closure:
    lot_ids: tuple[str, ...]
    """The given lots first (in the order given), then every lot made from them, level by level."""
    depth: int
    """Levels below the given lots."""
    incomplete: str | None = None
    """Why the walk stopped before it reached every lot, when it did."""


async def forward_closure(ctx: Context, lot_ids: Sequence[str], *, max_lots: int) -> Closure:
    """Source errors of the MES propagate: a hold never covers a guessed set of lots."""
    given = list(dict.fromkeys(lot_ids))
    config = ctx.config
    mes = ctx.sources.mes

    async def edges_out_of(frontier: list[str]) -> Mapping[str, Sequence[GenealogyEdge]]:
        if frontier == [_ROOT]:
            return {_ROOT: [GenealogyEdge(_ROOT, lot_id, None, None, None, None) for lot_id in given]}
        return await mes.edges_out_of(frontier)

    async def edges_into(frontier: list[str]) -> Mapping[str, Sequence[GenealogyEdge]]:
        return {}

    limits = Limits(
        max_depth=None,
        server_max_depth=config.genealogy_max_depth + 1,
        max_nodes=max_lots + 1,
        time_budget=config.genealogy_time_budget,
    )
    trace = await walk(_ROOT, TraceDirection.FORWARD, edges_into=edges_into, edges_out_of=edges_out_of, limits=limits)
    reached = set(given)
    ordered = given + [lot_id for lot_id in trace.lot_ids if lot_id != _ROOT and lot_id not in reached]
    incomplete = None
    if trace.truncation is not None:
        reason = trace.truncation.reason
        if reason is TruncationReason.NODE_LIMIT:
            incomplete = f"the forward genealogy reaches more than {max_lots} lots"
        elif reason is TruncationReason.TIME_BUDGET:
            incomplete = f"the forward genealogy could not be walked within {config.genealogy_time_budget:g} s"
        else:
            incomplete = f"the forward genealogy goes deeper than {config.genealogy_max_depth} levels"
    return Closure(tuple(ordered), max(trace.depth - 1, 0), incomplete)
