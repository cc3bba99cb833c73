"""Lot genealogy as a graph (root, nodes, edges, truncation, summary), one-level links, and the root fields
``lotGenealogy`` and ``recallImpact``.

Nodes and edges are built once in the root resolver and their leaves are plain attributes: a trace holds tens of
thousands of them, and an async field per node costs about ten times a plain one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers.genealogy import model as walks
from resolvers.genealogy import recall
from resolvers.genealogy import trace as tracing
from resolvers.lots import LotRef
from resolvers.sites import site_of
from resolvers.traceability.trace_records import AuditReads
from schema.enums import LotKind
from schema.info import Info
from schema.lot import Lot
from schema.mass_balance import MassBalance, mass_balance_of, wants_mass_balance
from schema.sites import SITE_HELP, SiteCount, by_site
from sources import records

if TYPE_CHECKING:
    from schema.recall import RecallImpact

strawberry.enum(
    walks.TraceDirection,
    description="BACKWARD: what went into a lot (inputs, where from). FORWARD: where it went (outputs, where used; "
    "a recall). BOTH: both walks from the same lot.",
)
strawberry.enum(
    walks.TruncationReason,
    description="Which limit stopped a genealogy walk: MAX_DEPTH (the maxDepth asked for), SERVER_MAX_DEPTH (the "
    "server's cap on maxDepth), NODE_LIMIT (the most lots a trace may hold), TIME_BUDGET (the time a walk may take).",
)

TraceDirection: TypeAlias = walks.TraceDirection
TruncationReason: TypeAlias = walks.TruncationReason

DEPTH_HELP = (
    "Levels to walk (0: the lot alone). Capped at the server's maximum (then `truncation.reason` is "
    "SERVER_MAX_DEPTH if that cut the walk short); null asks for the server's maximum."
)


@strawberry.type(description="A lot in a genealogy trace, with how far from the root it is and in which direction.")
class GenealogyNode:
    lot: Lot
    site: str = strawberry.field(description=SITE_HELP)
    depth: int = strawberry.field(description="Levels from the root (the root is 0): its shortest distance.")
    direction: TraceDirection = strawberry.field(
        description="BACKWARD (an input of an input …) or FORWARD (an output of an output …); the root carries the "
        "direction of the trace. A lot on a cycle can be reached both ways, and is then listed once for each."
    )


@strawberry.type(description="A genealogy edge: the input lot was consumed into the output lot (MES).")
class GenealogyEdge:
    from_: strawberry.ID = strawberry.field(name="from", description="The input lot.")
    to: strawberry.ID = strawberry.field(description="The output lot.")
    quantity: float | None = strawberry.field(description="Quantity of the input consumed, as the MES gives it.")
    uom: str | None = strawberry.field(description="Unit of that quantity, as the MES gives it.")
    work_order: str | None = strawberry.field(description="Work order that consumed it.")
    occurred_at: datetime | None
    recorded_site: strawberry.Private[str | None]
    """The site the source gave the edge (a receipt's receiving site), if it gave one."""

    @strawberry.field(
        description="The site that recorded the edge: the site of both lots, or for a receipt (`crossSite`) the "
        "receiving site."
    )
    def site(self, info: Info) -> str:
        return self.recorded_site or site_of(info.context, self.to)

    @strawberry.field(description="The site of the input lot.")
    def from_site(self, info: Info) -> str:
        return site_of(info.context, self.from_)

    @strawberry.field(description="The site of the output lot.")
    def to_site(self, info: Info) -> str:
        return site_of(info.context, self.to)

    @strawberry.field(
        description="A receipt: the input lot was shipped by its site and received as the output lot by another "
        "(docs/sites.md); quantity is the received quantity, there is no work order."
    )
    def cross_site(self, info: Info) -> bool:
        return site_of(info.context, self.from_) != site_of(info.context, self.to)

    @classmethod
    def of(cls, edge: records.GenealogyEdge) -> GenealogyEdge:
        return cls(
            from_=strawberry.ID(edge.input_lot_id),
            to=strawberry.ID(edge.output_lot_id),
            quantity=edge.quantity,
            uom=edge.uom,
            work_order=edge.work_order_id,
            occurred_at=edge.occurred_at,
            recorded_site=edge.site,
        )


@strawberry.type(description="One genealogy edge seen from one lot: the lot on the other side, and the consumption.")
class GenealogyLink:
    lot: Lot = strawberry.field(description="The input lot (for `inputs`) or the output lot (for `outputs`).")
    quantity: float | None = strawberry.field(description="Quantity of the input consumed, as the MES gives it.")
    uom: str | None
    work_order: str | None
    occurred_at: datetime | None

    @classmethod
    def of(cls, edge: records.GenealogyEdge, other: LotRef) -> GenealogyLink:
        return cls(
            lot=Lot.of(other),
            quantity=edge.quantity,
            uom=edge.uom,
            work_order=edge.work_order_id,
            occurred_at=edge.occurred_at,
        )


@strawberry.type(description="Why a walk stopped before the end of the genealogy.")
class Truncation:
    reason: TruncationReason
    limit: float = strawberry.field(description="The limit that was reached: levels, lots or seconds.")
    message: str

    @classmethod
    def of(cls, truncation: walks.Truncation | None) -> Truncation | None:
        if truncation is None:
            return None
        return cls(reason=truncation.reason, limit=truncation.limit, message=truncation.message)


@strawberry.type(description="Lots that feed each other in a loop: bad source data, walked once and reported.")
class GenealogyCycle:
    lot_ids: list[strawberry.ID]


@strawberry.type(description="One level of the walk in one direction: one batched request to the MES.")
class GenealogyLevel:
    direction: TraceDirection
    depth: int = strawberry.field(description="Depth of the lots asked about.")
    lots: int = strawberry.field(description="Lots asked about.")
    edges: int = strawberry.field(description="Edges the MES answered for them.")
    new_lots: int = strawberry.field(description="Lots first reached through those edges (at depth + 1).")


@strawberry.type
class KindCount:
    kind: LotKind | None = strawberry.field(description="Null for lots the MES has no master record of.")
    lots: int


@strawberry.type(description="Counts over a genealogy trace.")
class GenealogySummary:
    lots: int = strawberry.field(description="Distinct lots, the root included.")
    edges: int
    depth: int = strawberry.field(description="Deepest level reached.")
    backward_lots: int = strawberry.field(description="Lots reached going backward.")
    forward_lots: int = strawberry.field(description="Lots reached going forward.")
    levels: list[GenealogyLevel] = strawberry.field(description="The walk, level by level.")
    milliseconds: float = strawberry.field(description="Time the walk took.")
    refs: strawberry.Private[list[LotRef]]
    edges_walked: strawberry.Private[list[records.GenealogyEdge]]

    @strawberry.field(description="Distinct lots and edges by site (docs/sites.md).")
    def by_site(self, info: Info) -> list[SiteCount]:
        return by_site(info.context, (ref.id for ref in self.refs), self.edges_walked)

    @strawberry.field(description="Distinct lots by kind (MES master records).")
    def by_kind(self) -> list[KindCount]:
        counts: dict[records.LotKind | None, int] = {}
        for ref in self.refs:
            if ref.error is not None:
                raise ref.error
            kind = ref.record.kind if ref.record else None
            counts[kind] = counts.get(kind, 0) + 1
        return [KindCount(kind=k, lots=n) for k, n in sorted(counts.items(), key=lambda i: i[0].value if i[0] else "")]


@strawberry.type(
    description="The genealogy of a lot as a graph: every lot reached (each a full Lot, so its disposition, holds "
    "and stock can be asked for), the edges between them, and whether a limit cut the walk short."
)
class Genealogy:
    root: Lot
    direction: TraceDirection
    max_depth: int = strawberry.field(description="The depth limit that applied, after the server's cap.")
    truncated: bool = strawberry.field(description="A limit stopped the walk: see `truncation`.")
    truncation: Truncation | None
    cycles: list[GenealogyCycle] = strawberry.field(description="Loops in the source data, if any.")
    summary: GenealogySummary
    trace: strawberry.Private[walks.Trace]
    lots: strawberry.Private[dict[str, Lot]]
    audit: strawberry.Private[AuditReads | None] = None

    @strawberry.field(description="The root first, then level by level.")
    def nodes(self, info: Info) -> list[GenealogyNode]:
        lots, site = self.lots, info.context.sources.ids.site_of
        return [
            GenealogyNode(lot=lots[n.lot_id], site=site(n.lot_id), depth=n.depth, direction=n.direction)
            for n in self.trace.nodes
        ]

    @strawberry.field(description="Every edge walked between lots of the trace.")
    def edges(self) -> list[GenealogyEdge]:
        return [GenealogyEdge.of(edge) for edge in self.trace.edges]

    @strawberry.field(
        description="Mass balance of the trace: per transformation, inputs against outputs in one unit; per lot, "
        "produced against consumed, shipped and in stock, with what is unaccounted flagged. Reads the MES, ERP and "
        "WMS for every lot of the trace (one batched request each); null with an error when one cannot answer."
    )
    async def mass_balance(self, info: Info) -> MassBalance | None:
        return await mass_balance_of(info.context, self.trace, self.summary.refs, self.audit)

    @classmethod
    def of(cls, trace: walks.Trace, refs: list[LotRef]) -> Genealogy:
        lots = {ref.id: Lot.of(ref) for ref in refs}
        backward = {n.lot_id for n in trace.nodes if n.direction is TraceDirection.BACKWARD}
        forward = {n.lot_id for n in trace.nodes if n.direction is TraceDirection.FORWARD}
        return cls(
            root=lots[trace.root],
            direction=trace.direction,
            max_depth=trace.max_depth,
            truncated=trace.truncation is not None,
            truncation=Truncation.of(trace.truncation),
            cycles=[GenealogyCycle(lot_ids=[strawberry.ID(i) for i in cycle]) for cycle in trace.cycles],
            summary=GenealogySummary(
                lots=len(lots),
                edges=len(trace.edges),
                depth=trace.depth,
                backward_lots=len(backward - {trace.root}),
                forward_lots=len(forward - {trace.root}),
                levels=[
                    GenealogyLevel(
                        direction=level.direction,
                        depth=level.depth,
                        lots=level.lots,
                        edges=level.edges,
                        new_lots=level.new_lots,
                    )
                    for level in trace.levels
                ],
                milliseconds=round(trace.seconds * 1000, 1),
                refs=refs,
                edges_walked=trace.edges,
            ),
            trace=trace,
            lots=lots,
        )


LOT_NEEDS = {
    "disposition": tracing.LotData.QUALITY,
    "dispositionAt": tracing.LotData.QUALITY,
    "expiryDate": tracing.LotData.QUALITY,
    "certificateOfAnalysis": tracing.LotData.QUALITY,
    "holds": tracing.LotData.HOLDS,
    "deviations": tracing.LotData.DEVIATIONS,
    "stock": tracing.LotData.STOCK,
}
"""``Lot`` fields that load per lot, and what to read for them level by level while the walk goes on."""


def selected(selections: Sequence[Selection], path: Sequence[str]) -> set[str]:
    """Names of the fields selected at the end of ``path`` (field names, through fragments and aliases)."""
    found: set[str] = set()
    for selection in selections:
        if not isinstance(selection, SelectedField):
            found |= selected(selection.selections, path)
        elif not path:
            found.add(selection.name)
        elif selection.name == path[0]:
            found |= selected(selection.selections, path[1:])
    return found


NO_MASTER = frozenset({"__typename", "id", "site", *LOT_NEEDS})
"""``Lot`` fields that read no MES master record: a trace whose lots are asked for these alone reads no masters."""


def _selected(info: Info, paths: Sequence[Sequence[str]]) -> set[str]:
    selections = [s for field in info.selected_fields for s in field.selections]
    return set().union(*(selected(selections, path) for path in paths))


def lot_needs(info: Info, *paths: Sequence[str]) -> set[tracing.LotData]:
    """What the query asks of the lots at ``paths`` that is worth reading level by level during the walk."""
    return {LOT_NEEDS[name] for name in _selected(info, paths) if name in LOT_NEEDS}


def reads_masters(info: Info, lots: Sequence[str], *others: Sequence[str]) -> bool:
    """Whether the answer reads the MES master of the trace's lots: a field of the lots at path ``lots`` other than
    ``NO_MASTER``'s, or anything at the paths ``others`` (fields computed from the masters: counts by kind, the
    mass balance)."""
    if _selected(info, [lots]) - NO_MASTER:
        return True
    return any(path[-1] in _selected(info, [path[:-1]]) for path in others)


@strawberry.type
class GenealogyQuery:
    @strawberry.field(
        description="The genealogy of a lot: BACKWARD (what went into it), FORWARD (where it went) or BOTH, walked "
        "level by level with one batched MES request per level. An unknown lot is an error (LOT_NOT_FOUND)."
    )
    async def lot_genealogy(
        self,
        info: Info,
        lot_id: strawberry.ID,
        direction: TraceDirection = TraceDirection.BACKWARD,
        max_depth: Annotated[int | None, strawberry.argument(description=DEPTH_HELP)] = 10,
    ) -> Genealogy:
        needs = lot_needs(info, ("nodes", "lot"), ("root",))
        masters = reads_masters(info, ("nodes", "lot"), ("summary", "byKind"), ("massBalance",))
        audit = wants_mass_balance(info)
        collect = audit.collect if audit else ()
        trace, refs = await tracing.trace(info.context, lot_id, direction, max_depth, needs, collect, masters)
        genealogy = Genealogy.of(trace, refs)
        genealogy.audit = audit
        return genealogy

    @strawberry.field(
        description="What a recall of this lot touches: every lot it went into (forward), with disposition and "
        "stock, the shipments carrying any of them (shipped and not yet shipped), their customers and the open "
        "orders at risk, with totals."
    )
    async def recall_impact(
        self,
        info: Info,
        lot_id: strawberry.ID,
        max_depth: Annotated[int | None, strawberry.argument(description=DEPTH_HELP)] = 20,
    ) -> Annotated[RecallImpact, strawberry.lazy("schema.recall")]:
        from schema.recall import RecallImpact  # schema.recall builds on the types above

        needs = lot_needs(info, ("affectedLots", "lot"), ("root",))
        masters = reads_masters(info, ("affectedLots", "lot"), ("massBalance",))
        audit = wants_mass_balance(info)
        collect = audit.collect if audit else ()
        impact = await recall.recall_impact(info.context, lot_id, max_depth, needs, collect, masters)
        answer = RecallImpact.of(impact)
        answer.audit = audit
        return answer
