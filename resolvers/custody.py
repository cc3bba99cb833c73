"""Custody and containment of lots, through the operation's loaders (batched across sibling lots).

The records are ``sources.custody``'s, named here for schema/ (which takes from sources/ only ``sources.records``).
"""

from __future__ import annotations

from resolvers.context import Context
from sources import gs1
from sources.custody import Aggregation, Contained, CustodyEvent
from sources.errors import NotSupported

__all__ = ["Aggregation", "Contained", "CustodyEvent", "containment", "custody", "sscc"]


async def custody(ctx: Context, lot_id: str) -> list[CustodyEvent]:
    return list((await ctx.loaders.custody.load(lot_id)).moves)


async def containment(ctx: Context, lot_id: str) -> tuple[list[Aggregation], list[Aggregation]]:
    """The lot's aggregation events split: those where it is packed in (or taken out of) a container, and those
    where it is the container. ``NotSupported`` when the MES keeps no containers at all."""
    found = await ctx.loaders.custody.load(lot_id)
    if not found.containers:
        raise NotSupported("mes", "the MES keeps no containers of lots")
    events = found.aggregations
    return [e for e in events if e.parent_id != lot_id], [e for e in events if e.parent_id == lot_id]


def sscc(container: str | None) -> str | None:
    return gs1.sscc_of(container) if container else None
