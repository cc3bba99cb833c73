"""``lotgraph import-epcis`` and ``lotgraph export-trace``: EPCIS documents into the reference plant, and the audit
package of a trace out of the systems the gateway's settings name."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from api.settings import Settings, load_settings
from resolvers.errors import InputError
from resolvers.genealogy.model import TraceDirection
from resolvers.traceability.export_meta import ExportFormat, ExportRequest, TraceKind
from sources.errors import SourceError

FORMATS = {"epcis": ExportFormat.EPCIS, "fsma-csv": ExportFormat.FSMA_CSV, "fsma-xlsx": ExportFormat.FSMA_XLSX}
TRACES = {"genealogy": TraceKind.LOT_GENEALOGY, "recall": TraceKind.RECALL_IMPACT}


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Adds the two commands; returns what runs each."""
    loader = commands.add_parser("import-epcis", help="load EPCIS 2.0 documents into the reference plant's data")
    loader.add_argument("files", nargs="+", type=Path, metavar="FILE", help="EPCISDocument or EPCISQueryDocument")
    loader.add_argument("--data-dir", type=Path, default=Path("data/demo/plant"), help="the plant's data directory")

    export = commands.add_parser("export-trace", help="a trace as an EPCIS 2.0 document or an FSMA 204 spreadsheet")
    export.add_argument("lot", help="the lot: plant id, EPC class URN or GS1 Digital Link")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--direction", choices=[d.value.lower() for d in TraceDirection], default="forward")
    export.add_argument("--trace", choices=TRACES, default="genealogy", help="recall: the forward trace of a recall")
    export.add_argument("--max-depth", type=int, help="levels to walk (the server's maximum by default)")
    export.add_argument("--output", type=Path, help="file to write (default: named after the lot, here)")
    export.add_argument("--config", type=Path, help="TOML settings file (or LOTGRAPH_CONFIG)")
    return {"import-epcis": import_epcis, "export-trace": export_trace}


def import_epcis(args: argparse.Namespace) -> int:
    from plant.epcis_import import ImportRefused, import_documents, read_files

    try:
        summary = import_documents(args.data_dir, read_files(args.files))
    except ImportRefused as exc:
        print(f"lotgraph: {exc}", file=sys.stderr)
        return 1
    print(
        f"imported {summary.documents} document(s), {summary.events} events: {summary.lots} lots, "
        f"{summary.edges} genealogy edges, {summary.stored_events} custody and containment events into {args.data_dir}"
    )
    return 0


def export_trace(args: argparse.Namespace) -> int:
    # the command reads the systems itself, as their operator: no bearer tokens to check
    settings = load_settings(os.environ, args.config, **{"auth.mode": "none"})
    request = ExportRequest(
        lot_id=args.lot,
        trace=TRACES[args.trace],
        direction=TraceDirection(args.direction.upper()),
        max_depth=args.max_depth,
        format=FORMATS[args.format],
    )
    try:
        return asyncio.run(_export(settings, request, args.output))
    except InputError as exc:
        print(f"lotgraph: {exc.message}", file=sys.stderr)
        return 1
    except SourceError as exc:
        print(f"lotgraph: {exc.source.upper()} could not answer: {exc.message}", file=sys.stderr)
        return 1


async def _export(settings: Settings, request: ExportRequest, output: Path | None) -> int:
    from api.adapters import open_sources
    from resolvers.context import Context, ReadingServices
    from resolvers.genealogy import trace as tracing
    from resolvers.traceability import exports

    requested_at, started = datetime.now(UTC), time.perf_counter()
    request = dataclasses.replace(request, lot_id=tracing.check_lot_id(request.lot_id))
    config = settings.resolvers
    sources = open_sources(settings)
    try:
        ctx = Context(ReadingServices(sources, config), "cli", user="cli")
        meta, records = await exports.prepare(ctx, request, requested_at)
    finally:
        await sources.aclose()
    path = output or Path(request.filename)
    with path.open("wb") as out:
        for chunk in exports.render(meta, records, config.gs1_company_prefix_length):
            out.write(chunk)
    seconds = time.perf_counter() - started
    print(f"wrote {path}: {meta.lots} lots from {', '.join(meta.sources)}, {seconds:.2f} s from request to file")
    return 0
