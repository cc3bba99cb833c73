"""What an export says about itself: what was asked, by whom, when it was asked for and produced, and from which
systems — evidence of the FSMA 204 24-hour rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from resolvers.genealogy.model import TraceDirection


class ExportFormat(Enum):
    EPCIS = "EPCIS"
    FSMA_CSV = "FSMA_CSV"
    FSMA_XLSX = "FSMA_XLSX"

    @property
    def media_type(self) -> str:
        return {
            "EPCIS": "application/ld+json",
            "FSMA_CSV": "text/csv; charset=utf-8",
            "FSMA_XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[self.value]

    @property
    def extension(self) -> str:
        return {"EPCIS": "jsonld", "FSMA_CSV": "csv", "FSMA_XLSX": "xlsx"}[self.value]


class TraceKind(Enum):
    LOT_GENEALOGY = "LOT_GENEALOGY"
    RECALL_IMPACT = "RECALL_IMPACT"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    lot_id: str
    trace: TraceKind
    direction: TraceDirection
    max_depth: int | None
    format: ExportFormat

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.lot_id)[:80]
        return f"trace-{safe}-{self.direction.value.lower()}.{self.format.extension}"


@dataclass(slots=True)
class ExportMeta:
    request: ExportRequest
    requested_at: datetime
    """When the export was asked for (the GraphQL field, or the command)."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the gateway started reading for it."""
    sources: list[str] = field(default_factory=list)
    user: str = "anonymous"
    lots: int = 0

    def header(self) -> dict[str, Any]:
        return {
            "lotgraph:lot": self.request.lot_id,
            "lotgraph:trace": self.request.trace.value,
            "lotgraph:direction": self.request.direction.value,
            "lotgraph:lots": self.lots,
            "lotgraph:requestedAt": stamp(self.requested_at),
            "lotgraph:producedAt": stamp(self.started_at),
            "lotgraph:sources": self.sources,
            "lotgraph:requestedBy": self.user,
        }


def stamp(moment: datetime) -> str:
    """UTC, milliseconds, ``Z``: how every export writes a time."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
