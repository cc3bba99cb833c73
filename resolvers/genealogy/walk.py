"""Lot genealogy: a breadth-first walk over MES genealogy edges, one batched request per level.

``walk`` is a plain async function over two "edges of these lots, one level" callables (backward: edges into the
lots; forward: edges out of them) and the limits, so it runs the same over the MES adapter or a dict in a test.

- Breadth first by level: the whole frontier goes to the source in one call (the adapter chunks it at the batch
  limit and sends the chunks in parallel). A walk that ends at depth d asks d + 1 times per direction: the last
  call is how we learn the deepest lots have no further edges.
- A visited set per direction: a lot reached twice (a diamond) is kept once, at its first (shortest) depth, and
  every edge between lots of the result is kept. A cycle in the source data is walked once and reported.
- Limits, each of which ends the walk and says why (``Truncation``): the requested depth, the server's maximum
  depth (a larger request is capped to it), the most lots a trace may hold, and a time budget.
- Edges carry quantity, unit, work order and time exactly as the MES gave them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from resolvers.errors import InputError
from resolvers.genealogy.model import (
    FetchLevel,
    Limits,
    Trace,
    TraceDirection,
    TraceLevel,
    TraceNode,
    Truncation,
    TruncationReason,
)
from sources.records import GenealogyEdge

_NEAR = {TraceDirection.BACKWARD: attrgetter("output_lot_id"), TraceDirection.FORWARD: attrgetter("input_lot_id")}
_FAR = {TraceDirection.BACKWARD: attrgetter("input_lot_id"), TraceDirection.FORWARD: attrgetter("output_lot_id")}
_ORDER = {
    TraceDirection.BACKWARD: attrgetter("output_lot_id", "input_lot_id"),
    TraceDirection.FORWARD: attrgetter("input_lot_id", "output_lot_id"),
}
"""An edge's near lot (the one asked about), its far lot, and the order edges are kept in: (near, far)."""


@dataclass(slots=True)
class _Side:
    """The walk in one direction."""

    direction: TraceDirection
    fetch: FetchLevel
    depth_of: dict[str, int]
    frontier: list[str]


@dataclass(slots=True)
class _Walk:
    """One walk under way: the trace so far, every lot and edge kept, and what the limits stopped."""

    trace: Trace
    limits: Limits
    lots: set[str]
    back_edge: bool
    """An edge back to a lot no deeper than the one it leaves: only then can there be a cycle to look for."""
    kept: dict[tuple[str, str], GenealogyEdge] = field(default_factory=dict)
    beyond_depth: bool = False

    def take(self, side: _Side, grouped: Mapping[str, Sequence[GenealogyEdge]], depth: int) -> list[str]:
        """Keep the edges one level of ``side`` found; returns the lots it adds (at ``depth + 1``)."""
        asked = set(side.frontier)
        near, far_of = _NEAR[side.direction], _FAR[side.direction]
        found = sorted(
            (edge for lot_id in side.frontier for edge in grouped.get(lot_id, ()) if near(edge) in asked),
            key=_ORDER[side.direction],
        )
        following: list[str] = []
        depth_of, kept = side.depth_of, self.kept
        for edge in found:
            far = far_of(edge)
            if far not in depth_of:
                if not self._admit(far, depth):
                    continue
                depth_of[far] = depth + 1
                self.lots.add(far)
                following.append(far)
                self.trace.nodes.append(TraceNode(far, depth + 1, side.direction))
            elif depth_of[far] <= depth:
                self.back_edge = True
            kept.setdefault((edge.input_lot_id, edge.output_lot_id), edge)
        self.trace.levels.append(TraceLevel(side.direction, depth, len(side.frontier), len(found), len(following)))
        side.frontier = following
        return following

    def _admit(self, lot_id: str, depth: int) -> bool:
        """Whether a lot first reached at ``depth + 1`` fits the depth and node limits (noting which did not)."""
        if depth >= self.trace.max_depth:
            self.beyond_depth = True
            return False
        if lot_id not in self.lots and len(self.lots) >= self.limits.max_nodes:
            self.trace.truncation = self.trace.truncation or Truncation(
                TruncationReason.NODE_LIMIT,
                self.limits.max_nodes,
                f"the trace reached the limit of {self.limits.max_nodes} lots at depth {depth + 1}",
            )
            return False
        return True


async def walk(
    root: str,
    direction: TraceDirection,
    *,
    edges_into: FetchLevel,
    edges_out_of: FetchLevel,
    limits: Limits,
    clock: Callable[[], float] = time.monotonic,
    on_level: Callable[[list[str]], None] | None = None,
) -> Trace:
    """Walk the genealogy of ``root`` breadth first. Source errors of a fetch propagate: nothing is guessed.

    ``on_level`` hears the lots each level adds (to start loading what they need while the walk goes on): once the
    requests for their own edges are on their way, and the last level's at the end of the walk."""
    if limits.max_depth is not None and limits.max_depth < 0:
        raise InputError(f"maxDepth must be 0 or more, got {limits.max_depth}")
    max_depth, capped = limits.depth()
    started = clock()
    trace = Trace(root, direction, max_depth, nodes=[TraceNode(root, 0, direction)])
    sides = []
    if direction in (TraceDirection.BACKWARD, TraceDirection.BOTH):
        sides.append(_Side(TraceDirection.BACKWARD, edges_into, {root: 0}, [root]))
    if direction in (TraceDirection.FORWARD, TraceDirection.BOTH):
        sides.append(_Side(TraceDirection.FORWARD, edges_out_of, {root: 0}, [root]))
    # Walking both ways, an edge can lead back; one way, only an edge back to a shallower lot can close a cycle.
    state = _Walk(trace, limits, {root}, back_edge=direction is TraceDirection.BOTH)
    heard: list[list[str]] = []

    def tell() -> None:  # after the next level's requests are on their way: the walk's own reads go first
        while heard and on_level is not None:
            on_level(heard.pop(0))

    depth = 0
    while any(side.frontier for side in sides):
        active = [side for side in sides if side.frontier]
        answers = await _level(active, limits.time_budget - (clock() - started), tell)
        if answers is None:
            trace.truncation = Truncation(
                TruncationReason.TIME_BUDGET,
                limits.time_budget,
                f"the time budget of {limits.time_budget:g} s ran out after depth {depth}",
            )
            break
        for side, grouped in zip(active, answers, strict=True):
            following = state.take(side, grouped, depth)
            if following:
                heard.append(following)
        if state.beyond_depth and trace.truncation is None:
            trace.truncation = _depth_truncation(max_depth, capped, limits)
        if trace.truncation is not None:
            break
        depth += 1
    tell()
    trace.edges = list(state.kept.values())
    trace.cycles = find_cycles(trace.edges) if state.back_edge else []
    trace.seconds = clock() - started
    return trace


async def _level(
    active: list[_Side], remaining: float, started: Callable[[], None]
) -> list[Mapping[str, Sequence[GenealogyEdge]]] | None:
    """Every active side's next level, fetched at once; None when the time budget runs out first. ``started`` is
    called once the fetches are scheduled: tasks it starts run after them, so an upstream that serves requests in
    order of arrival answers the walk first."""
    if remaining <= 0:
        started()
        return None
    fetching = asyncio.gather(*(side.fetch(list(side.frontier)) for side in active))
    started()
    try:
        async with asyncio.timeout(remaining):
            return await fetching
    except TimeoutError:
        return None


def _depth_truncation(max_depth: int, capped: bool, limits: Limits) -> Truncation:
    if capped:
        asked = "no maxDepth" if limits.max_depth is None else f"maxDepth {limits.max_depth}"
        return Truncation(
            TruncationReason.SERVER_MAX_DEPTH,
            max_depth,
            f"{asked} was capped at the server's maximum depth of {max_depth}, and the genealogy goes deeper",
        )
    return Truncation(
        TruncationReason.MAX_DEPTH, max_depth, f"the genealogy goes deeper than the requested maxDepth {max_depth}"
    )


def find_cycles(edges: Iterable[GenealogyEdge]) -> list[list[str]]:
    """The cycles among ``edges``: each strongly connected group of lots (or a lot feeding itself), ids sorted.

    Tarjan's algorithm without recursion, so a deep genealogy cannot hit Python's recursion limit.
    """
    following: dict[str, list[str]] = {}
    for edge in edges:
        following.setdefault(edge.input_lot_id, []).append(edge.output_lot_id)
        following.setdefault(edge.output_lot_id, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(following):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            lot_id, child = work.pop()
            if child == 0:
                index[lot_id] = low[lot_id] = len(index)
                stack.append(lot_id)
                on_stack.add(lot_id)
            children = following[lot_id]
            if child < len(children):
                work.append((lot_id, child + 1))
                nxt = children[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[lot_id] = min(low[lot_id], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[lot_id])
            if low[lot_id] == index[lot_id]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == lot_id:
                        break
                if len(group) > 1 or lot_id in following[lot_id]:
                    cycles.append(sorted(group))
    return sorted(cycles)
