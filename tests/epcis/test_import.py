"""``lotgraph import-epcis``'s loader: every example document loads; an invalid one is refused whole, naming the
event and the field, and loads nothing."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from plant.epcis_import import ImportRefused, import_documents, read_files
from sources.epcis.document import DocumentError, read_document
from tests.epcis.conftest import GDST, examples_dir


def counts(folder: Path) -> list[int]:
    with closing(sqlite3.connect(folder / "mes.db")) as db:
        return [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("lots", "genealogy", "epcis_events")]


@pytest.mark.parametrize("name", sorted(p.name for p in examples_dir().glob("*.jsonld")))
def test_each_example_document_imports(tmp_path: Path, name: str) -> None:
    document = read_document((examples_dir() / name).read_bytes())
    summary = import_documents(tmp_path, [document])
    assert summary.events == len(document.events) > 0
    lots, _, stored = counts(tmp_path)
    assert lots == summary.lots > 0
    assert stored == summary.stored_events


def test_gdst_chain_imports_lots_edges_and_custody(tmp_path: Path) -> None:
    summary = import_documents(tmp_path, read_files([GDST]))
    assert (summary.events, summary.edges) == (17, 5)
    with closing(sqlite3.connect(tmp_path / "mes.db")) as db:
        rows = db.execute("SELECT input_lot_id, output_lot_id, quantity FROM genealogy").fetchall()
    edges = {(i.rsplit(":", 1)[1], o.rsplit(":", 1)[1], q) for i, o, q in rows}
    with closing(sqlite3.connect(tmp_path / "erp.db")) as db:
        products = dict(db.execute("SELECT id, name FROM products").fetchall())
    assert edges == {
        ("feedmill.1u.ff11252021", "fishfarm.1u.farmed-tuna-01192022", 10000.0),
        ("hatchery.1u.tf12012021", "fishfarm.1u.farmed-tuna-01192022", 1000.0),
        ("fishfarm.1u.farmed-tuna-01192022", "processor.10u.commingle-01232022", 12000.0),
        ("fisherman01.tunau.v1-0122-2022", "processor.10u.commingle-01232022", 10000.0),
        ("processor.10u.commingle-01232022", "processor.2u.v1-0122-2022", 9876.0),
    }
    assert products["urn:gdst:example.org:product:class:processor.2u"] == "Can of Tuna"
    # shipping, receiving, transshipment, landing and the aggregations are kept as they came (custody)
    assert counts(tmp_path)[2] == 17 - 3 - 3  # less the 3 transformations and the 3 ADDs that made lots


@pytest.mark.parametrize(
    "variant",
    [
        lambda d: d,
        lambda d: {**d, "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"},
        lambda d: {**d, "@context": [*d["@context"], {"extra": "urn:example:"}]},
        lambda d: {**d, "schemaVersion": "2.0.0"},
    ],
)
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_byte_order_mark_and_context_variations(tmp_path: Path, variant: object, bom: bytes) -> None:
    body = json.loads(GDST.read_bytes().decode("utf-8-sig"))
    data = bom + json.dumps(variant(body)).encode()  # type: ignore[operator]
    assert len(read_document(data).events) == 17


def broken(change: str) -> bytes:
    body = json.loads(GDST.read_bytes().decode("utf-8-sig"))
    event = body["epcisBody"]["eventList"][11]
    if change == "quantity":
        event["inputQuantityList"][1]["quantity"] = "lots"
    elif change == "time":
        event["eventTime"] = "yesterday"
    elif change == "type":
        event["type"] = "MagicEvent"
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("change", "field"),
    [("quantity", "inputQuantityList[1].quantity"), ("time", "eventTime"), ("type", "type")],
)
def test_an_invalid_document_is_refused_whole_naming_event_and_field(tmp_path: Path, change: str, field: str) -> None:
    with pytest.raises(DocumentError) as refused:
        read_document(broken(change))
    assert refused.value.index == 11
    assert refused.value.event_id == "urn:uuid:3b156702-d58e-4ab1-a4d7-3e29b4ba7e6aU"
    assert refused.value.field == field
    assert "event 11 (urn:uuid:3b156702-d58e-4ab1-a4d7-3e29b4ba7e6aU)" in str(refused.value)
    bad = tmp_path / "bad.jsonld"
    bad.write_bytes(broken(change))
    with pytest.raises(ImportRefused, match="nothing imported"):
        read_files([GDST, bad])  # the good one first: still nothing is loaded
    assert not (tmp_path / "mes.db").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"[]", ""),
        (b'{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": []}}', "@context"),
        (b'{"type": "Other", "@context": "x", "schemaVersion": "2.0"}', "type"),
        (b'{"type": "EPCISDocument", "@context": "x", "schemaVersion": "1.2", "epcisBody": {}}', "schemaVersion"),
        (b"\xff\xfe not utf-8", ""),
    ],
)
def test_documents_of_the_wrong_shape_are_refused(data: bytes, field: str) -> None:
    with pytest.raises((DocumentError, UnicodeDecodeError)) as refused:
        read_document(data)
    if isinstance(refused.value, DocumentError):
        assert refused.value.field == field
