"""What a genealogy trace is: directions, limits, the lots and edges found, and why a walk stopped. Plain data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from sources.records import GenealogyEdge

FetchLevel = Callable[[list[str]], Awaitable[Mapping[str, Sequence[GenealogyEdge]]]]
"""Edges of these lots, one level, grouped by the lot asked for (a lot without edges may be absent)."""


class TraceDirection(Enum):
    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    BOTH = "BOTH"


class TruncationReason(Enum):
    MAX_DEPTH = "MAX_DEPTH"
    SERVER_MAX_DEPTH = "SERVER_MAX_DEPTH"
    NODE_LIMIT = "NODE_LIMIT"
    TIME_BUDGET = "TIME_BUDGET"


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int | None
    """Levels the client asked for; ``None`` means as deep as the server allows."""
    server_max_depth: int
    max_nodes: int
    """Most lots one trace may hold, the root included."""
    time_budget: float
    """Seconds the walk may take; a level still in flight when it runs out is dropped."""

    def depth(self) -> tuple[int, bool]:
        """The depth the walk may reach, and whether that is the server's cap rather than the client's ask."""
        if self.max_depth is None or self.max_depth > self.server_max_depth:
            return self.server_max_depth, True
        return self.max_depth, False


@dataclass(frozen=True, slots=True)
class TraceNode:
    lot_id: str
    depth: int
    direction: TraceDirection
    """BACKWARD or FORWARD; the root carries the direction of the trace."""


@dataclass(frozen=True, slots=True)
class TraceLevel:
    """One round of the walk in one direction: the lots asked about and what came back."""

    direction: TraceDirection
    depth: int
    """Depth of the lots asked about (their edges lead to depth + 1)."""
    lots: int
    edges: int
    new_lots: int


@dataclass(frozen=True, slots=True)
class Truncation:
    reason: TruncationReason
    limit: float
    message: str


@dataclass(slots=True)
class Trace:
    root: str
    direction: TraceDirection
    max_depth: int
    """The depth limit that applied (after the server cap)."""
    nodes: list[TraceNode] = field(default_factory=list)
    edges: list[GenealogyEdge] = field(default_factory=list)
    levels: list[TraceLevel] = field(default_factory=list)
    truncation: Truncation | None = None
    cycles: list[list[str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def lot_ids(self) -> list[str]:
        """Every lot of the trace once, root first, in walk order."""
        return list(dict.fromkeys(node.lot_id for node in self.nodes))

    @property
    def depth(self) -> int:
        return max((node.depth for node in self.nodes), default=0)
