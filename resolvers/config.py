"""Settings the domain rules need, handed to resolvers through the Context (built from api/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sources.records import WarehouseStage


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    readiness_stage: WarehouseStage = WarehouseStage.STAGED
    """The warehouse stage a shipment must have reached to be READY."""
    genealogy_max_depth: int = 30
    """Deepest genealogy trace the server walks, whatever maxDepth a client asks for."""
    genealogy_max_nodes: int = 100_000
    """Most lots one genealogy trace (or recall impact) may hold."""
    genealogy_time_budget: float = 10.0
    """Seconds one genealogy walk may take before it stops, truncated."""
    planner: bool = True
    """Plan the upstream fetches of an operation before executing it (off: every field awaits its loader)."""
