"""Loading EPCIS 2.0 documents into the reference plant (``lotgraph import-epcis FILE…``).

Every document is read and checked first (``sources.epcis.document``); one wrong event refuses them all, and
nothing is written. Then, in one transaction per system:

- MES: each lot an event names becomes a lot (``sources.epcis.genealogy.lots_of``), each TransformationEvent's
  input → output pairs become genealogy edges; custody and containment (ObjectEvents other than ``ADD``,
  AggregationEvents, …) are kept as they came and served back by the plant's EPCIS query interface;
- ERP: the products of those lots, named from the documents' master data where it describes them.

A lot already in the plant is replaced by a document that makes or commissions it, and kept when a document only
mentions it. Loading the same documents twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from plant.db import Database
from plant.tables import ERP, MES
from sources.epcis.document import Document, DocumentError, read_document
from sources.epcis.events import Event
from sources.epcis.genealogy import edges_of, lot_id, lots_of, product_of

GENEALOGY_KEEPS = ("TransformationEvent",)


class ImportRefused(ValueError):
    """A document was refused: which file, and ``DocumentError``'s event, field and reason."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    documents: int
    events: int
    lots: int
    edges: int
    stored_events: int


def read_files(paths: Sequence[Path]) -> list[Document]:
    documents = []
    for path in paths:
        try:
            documents.append(read_document(path.read_bytes()))
        except OSError as exc:
            raise ImportRefused(f"{path}: cannot read it ({exc.strerror})") from None
        except DocumentError as exc:
            raise ImportRefused(f"{path}: refused, nothing imported: {exc}") from None
    return documents


def import_documents(data_dir: Path, documents: Sequence[Document]) -> ImportSummary:
    events = [event for document in documents for event in document.events]
    descriptions = {k: v for document in documents for k, v in document.descriptions.items()}
    ids = list(dict.fromkeys(lot_id(epc) for event in events for epc in event.classes))
    lots = lots_of(events, ids)
    first_seen: dict[str, datetime] = {}
    for event in sorted(events, key=lambda e: e.event_time):
        for epc in event.classes:
            first_seen.setdefault(lot_id(epc), event.event_time)
    edges = list(dict.fromkeys(edge for event in events for edge in edges_of(event)))
    kept = [e for e in events if not _genealogy(e)]
    mes, erp = Database(data_dir / "mes.db", MES), Database(data_dir / "erp.db", ERP)
    try:
        with mes.transaction() as conn:
            for lot in lots.values():
                verb = "INSERT OR IGNORE" if lot.produced_at is None else "INSERT OR REPLACE"
                conn.execute(
                    f"{verb} INTO lots VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        lot.id,
                        lot.product_id,
                        lot.kind.value,
                        lot.quantity,
                        lot.uom,
                        _stamp(lot.produced_at or first_seen[lot.id]),
                        lot.plant or "EPCIS",
                        lot.work_order_id,
                        lot.supplier,
                    ),
                )
            conn.executemany(
                "INSERT OR REPLACE INTO genealogy VALUES (?,?,?,?,?,?)",
                [
                    (e.input_lot_id, e.output_lot_id, e.quantity, e.uom, e.work_order_id, _stamp(e.occurred_at))
                    for e in edges
                ],
            )
            for event in kept:
                _store(conn, event)
        with erp.transaction() as conn:
            products = {lot.product_id: lot.uom for lot in lots.values()}
            conn.executemany(
                "INSERT OR IGNORE INTO products VALUES (?,?,?,0,365)",
                [(p, _description(descriptions, p), uom) for p, uom in products.items()],
            )
    finally:
        mes.close()
        erp.close()
    return ImportSummary(len(documents), len(events), len(lots), len(edges), len(kept))


def _genealogy(event: Event) -> bool:
    """Events the lots and edges hold in full: transformations, and commissioning (``ADD``) of lots."""
    if event.type in GENEALOGY_KEEPS:
        return True
    return event.type == "ObjectEvent" and event.action == "ADD"


def _store(conn: sqlite3.Connection, event: Event) -> None:
    digest = hashlib.sha256(json.dumps(event.raw, sort_keys=True).encode()).hexdigest()
    key = event.event_id or f"ni:///sha-256;{digest}"
    body = dict(event.raw, eventID=key)
    conn.execute(
        "INSERT OR REPLACE INTO epcis_events VALUES (?,?,?)", (key, _stamp(event.event_time), json.dumps(body))
    )
    names = {lot_id(epc) for epc in event.classes} | ({event.parent_id} if event.parent_id else set())
    conn.executemany("INSERT OR IGNORE INTO epcis_event_lots VALUES (?,?)", [(n, key) for n in names])


def _stamp(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _description(descriptions: dict[str, str], product_id: str) -> str:
    return descriptions.get(product_id) or descriptions.get(product_of(product_id)) or product_id
