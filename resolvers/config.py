"""Settings the domain rules need, handed to resolvers through the Context (built from api/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sources.records import WarehouseStage


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    readiness_stage: WarehouseStage = WarehouseStage.STAGED
    """The warehouse stage a shipment must have reached to be READY."""
