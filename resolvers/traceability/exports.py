"""Exports of a trace (``lotGenealogy`` or ``recallImpact``): the audit package as files, streamed.

``prepare`` walks the trace and reads what the files need (``resolvers.trace_records``); ``render`` writes the
chosen format in chunks from those records, so a trace of tens of thousands of lots is never a whole file in memory.
Both the gateway's download route and the ``lotgraph export-trace`` command run these two.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from resolvers.context import Context
from resolvers.genealogy import trace as tracing
from resolvers.genealogy.model import TraceDirection
from resolvers.traceability import epcis_export, fsma, trace_records, xlsx
from resolvers.traceability.export_meta import ExportFormat, ExportMeta, ExportRequest, TraceKind, stamp
from resolvers.traceability.trace_records import TraceRecords


async def prepare(ctx: Context, request: ExportRequest, requested_at: datetime) -> tuple[ExportMeta, TraceRecords]:
    direction = TraceDirection.FORWARD if request.trace is TraceKind.RECALL_IMPACT else request.direction
    meta = ExportMeta(request, requested_at, user=ctx.user)
    reads = trace_records.AuditReads(ctx, custody=True)
    trace, refs = await tracing.walk_from(ctx, request.lot_id, direction, request.max_depth, collect=reads.collect)
    records = await reads.records(trace, refs, products=True)
    meta.sources, meta.lots = records.sources, len(trace.lot_ids)
    return meta, records


def render(meta: ExportMeta, records: TraceRecords, company_prefix_length: int) -> Iterator[bytes]:
    if meta.request.format is ExportFormat.EPCIS:
        return epcis_export.document(records, meta, company_prefix_length)
    if meta.request.format is ExportFormat.FSMA_CSV:
        return fsma.csv_chunks(records)

    def about(rows: int) -> list[tuple[str, Any]]:
        finished = datetime.now(UTC)
        pairs = [(key.removeprefix("lotgraph:"), value) for key, value in meta.header().items()]
        return [
            *[(k, ", ".join(v) if isinstance(v, list) else v) for k, v in pairs],
            ("rows", rows),
            ("finishedAt", stamp(finished)),
            ("secondsFromRequest", round((finished - meta.requested_at).total_seconds(), 3)),
        ]

    return xlsx.workbook("FSMA 204", fsma.COLUMNS, fsma.rows(records), about)
