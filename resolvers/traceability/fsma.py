"""A trace as the FDA Food Traceability Rule (FSMA 204) asks for it: an electronic sortable spreadsheet with the key
data elements (KDEs) of each critical tracking event (CTE), one row per event and lot.

CTEs from the records: a lot made from inputs is a Transformation (with its input lots and quantities); a raw lot
with a supplier is Receiving, one without is Initial Packing (the lot code was assigned here); each lot on a shipped
delivery is Shipping; and the MES's custody events (``resolvers.traceability.custody_export``) are Shipping and
Receiving rows with the parties they name. Rows come in the trace's order (root first, level by level), then
shipments, then custody; every column is plain text or a number, so a spreadsheet sorts and filters them as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from resolvers.traceability import custody_export
from resolvers.traceability.export_meta import stamp
from resolvers.traceability.trace_records import TraceRecords
from sources.records import Lot, ShipmentStatus

COLUMNS = [
    "Traceability Lot Code",
    "Traceability Lot Code Source",
    "GTIN",
    "Product Description",
    "Quantity",
    "Unit of Measure",
    "Location",
    "Event Date",
    "Event Type",
    "Reference Document Type",
    "Reference Document Number",
    "Input Traceability Lot Codes",
    "Input Quantities",
    "Ship To",
    "Ship From",
]
Row = list[Any]


def _description(records: TraceRecords, lot: Lot) -> str:
    product = records.products.get(lot.product_id)
    return product.name if product else lot.product_id


def lot_row(records: TraceRecords, lot: Lot) -> Row | None:
    edges = records.edges_into.get(lot.id) or []
    when = edges[0].occurred_at if edges and edges[0].occurred_at else lot.produced_at
    if edges:
        kind, document = "Transformation", ("Work Order", lot.work_order_id or edges[0].work_order_id or "")
    elif lot.supplier:
        kind, document = "Receiving", ("Supplier Lot", lot.supplier)
    else:
        kind, document = "Initial Packing", ("", "")
    return [
        lot.id,
        lot.supplier or lot.plant or "",
        lot.gtin or "",
        _description(records, lot),
        lot.quantity,
        lot.uom,
        lot.plant or "",
        stamp(when) if when else "",
        kind,
        *document,
        "; ".join(e.input_lot_id for e in edges),
        "; ".join(f"{e.quantity:g} {e.uom or ''}".strip() if e.quantity is not None else "?" for e in edges),
        "",
        "",
    ]


def rows(records: TraceRecords) -> Iterator[Row]:
    for lot_id in records.trace.lot_ids:
        lot = records.masters.get(lot_id)
        row = lot_row(records, lot) if lot else None
        if row is not None:
            yield row
    ids = set(records.trace.lot_ids)
    for shipment in records.shipments:
        if shipment.status is not ShipmentStatus.SHIPPED:
            continue
        for line in shipment.lines:
            for assignment in line.lots:
                lot = records.masters.get(assignment.lot_id)
                if assignment.lot_id not in ids or lot is None:
                    continue
                yield [
                    lot.id,
                    lot.supplier or lot.plant or "",
                    lot.gtin or "",
                    _description(records, lot),
                    assignment.quantity,
                    line.uom,
                    shipment.warehouse or "",
                    stamp(shipment.shipped_at) if shipment.shipped_at else "",
                    "Shipping",
                    "Delivery",
                    shipment.id,
                    "",
                    "",
                    shipment.customer_id,
                    shipment.warehouse or "",
                ]
    yield from custody_export.fsma_rows(records, lambda lot_id: _description_of(records, lot_id))


def _description_of(records: TraceRecords, lot_id: str) -> str:
    lot = records.masters.get(lot_id)
    return _description(records, lot) if lot else lot_id


def csv_chunks(records: TraceRecords, chunk_rows: int = 1000) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so spreadsheet programs read it as UTF-8), header first, a chunk per
    ``chunk_rows`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield b"\xef\xbb\xbf"
    for count, row in enumerate(rows(records), start=1):
        writer.writerow(row)
        if count % chunk_rows == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
