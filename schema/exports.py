"""``traceExport``: the audit package of a trace as a file — EPCIS 2.0 document or FSMA 204 spreadsheet — to
download from the gateway with the caller's own token (``api/exports.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import strawberry

from resolvers.errors import InputError
from resolvers.genealogy import trace as tracing
from resolvers.traceability.export_meta import ExportFormat, ExportRequest, TraceKind
from schema.genealogy import TraceDirection
from schema.info import Info

EXPORT_PATH = "/exports/trace"

strawberry.enum(
    ExportFormat,
    description="EPCIS: an EPCIS 2.0 EPCISQueryDocument (JSON-LD) with the events behind the trace. FSMA_CSV and "
    "FSMA_XLSX: the FDA's FSMA 204 sortable spreadsheet, one row per critical tracking event and lot.",
)
strawberry.enum(
    TraceKind,
    description="LOT_GENEALOGY: the trace of lotGenealogy in the direction asked. RECALL_IMPACT: the forward trace "
    "of recallImpact, with the shipments that carried its lots.",
)


@strawberry.type(description="Where to download an export, and what was asked.")
class TraceExport:
    url: str = strawberry.field(
        description="Path on this gateway (GET, with the same bearer token): the file is made and streamed then."
    )
    filename: str
    media_type: str
    format: ExportFormat
    requested_at: datetime = strawberry.field(
        description="When the export was asked for; the file records it, and when it was produced, as evidence."
    )


@strawberry.type
class ExportQuery:
    @strawberry.field(
        description="The audit package of a trace as a file: an EPCIS 2.0 document or an FSMA 204 spreadsheet (CSV "
        "or XLSX) of lotGenealogy or recallImpact, to download from `url` with the caller's token. The lot may be "
        "named by plant id, EPC class URN or GS1 Digital Link. An unknown lot is an error (LOT_NOT_FOUND)."
    )
    async def trace_export(
        self,
        info: Info,
        lot_id: strawberry.ID,
        format: ExportFormat,
        trace: TraceKind = TraceKind.LOT_GENEALOGY,
        direction: TraceDirection = TraceDirection.FORWARD,
        max_depth: Annotated[int | None, strawberry.argument(description="As for lotGenealogy.")] = None,
    ) -> TraceExport:
        lot = tracing.check_lot_id(lot_id)
        tracing.limits_for(info.context.config, max_depth)
        if await info.context.loaders.lots.load(lot) is None:
            raise InputError(f"no lot {lot!r} in the MES", code="LOT_NOT_FOUND")
        requested_at = datetime.now(UTC)
        request = ExportRequest(lot, trace, direction, max_depth, format)
        query = {
            "lot": lot,
            "trace": trace.value,
            "direction": direction.value,
            "format": format.value,
            "requestedAt": requested_at.isoformat(),
        }
        if max_depth is not None:
            query["maxDepth"] = str(max_depth)
        return TraceExport(
            url=f"{EXPORT_PATH}?{urlencode(query)}",
            filename=request.filename,
            media_type=format.media_type,
            format=format,
            requested_at=requested_at,
        )
