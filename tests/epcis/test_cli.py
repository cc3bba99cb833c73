"""``lotgraph import-epcis`` and ``lotgraph export-trace`` as a user runs them, against a running demo."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import openpyxl

from bench import launch
from bench.launch import LOTGRAPH
from sources.epcis.document import read_document
from tests.epcis.conftest import GDST
from tests.epcis.test_gdst_traces import FF, FM, C, F, H, P


async def lotgraph(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(LOTGRAPH),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_import_then_export_the_audit_package(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonld"
    bad.write_bytes(
        GDST.read_bytes().replace(b'"eventTime": "2022-01-23T11:10:47', b'"eventTime": "2022-13-23T11:10:47')
    )
    async with launch.running(launch.demo, tmp_path / "demo") as demo:
        code, _, err = await lotgraph(
            "import-epcis", str(GDST), str(bad), "--data-dir", str(tmp_path / "demo" / "plant")
        )
        assert code == 1
        assert "event 11 (urn:uuid:3b156702-d58e-4ab1-a4d7-3e29b4ba7e6aU), eventTime" in err
        code, out, _ = await lotgraph("import-epcis", str(GDST), "--data-dir", str(tmp_path / "demo" / "plant"))
        assert code == 0, out
        assert "17 events: " in out
        env = {f"LOTGRAPH_{s.upper()}_URL": f"{demo.plant}/{s}" for s in ("erp", "qms", "mes", "wms")}
        env["LOTGRAPH_DATA_DIR"] = str(tmp_path / "cli")
        target = tmp_path / "cans.jsonld"
        code, out, err = await lotgraph(
            "export-trace", P, "--format", "epcis", "--direction", "backward", "--output", str(target), env=env
        )
        assert code == 0, err
        assert "6 lots from mes, erp, wms" in out
        assert "from request to file" in out
        document = read_document(target.read_bytes())
        made = {e.output_quantities[0].epc_class for e in document.events if e.type == "TransformationEvent"}
        assert made == {FF, C, P}
        added = {e.quantities[0].epc_class for e in document.events if e.type == "ObjectEvent" and e.action == "ADD"}
        assert added == {F, H, FM}
        moved = sorted(e.biz_step or "" for e in document.events if e.action == "OBSERVE")  # the chain's custody
        assert moved == ["receiving", "receiving", "receiving", "shipping", "shipping"]
        sheet = tmp_path / "cans.xlsx"
        code, _, err = await lotgraph(
            "export-trace", P, "--format", "fsma-xlsx", "--direction", "backward", "--output", str(sheet), env=env
        )
        assert code == 0, err
        rows = list(openpyxl.load_workbook(io.BytesIO(sheet.read_bytes()))["FSMA 204"].iter_rows(values_only=True))
        assert {row[0] for row in rows[1:]} == {P, C, FF, FM, F, H}
        code, _, err = await lotgraph("export-trace", "LOT-NOPE", "--format", "epcis", env=env)
        assert code == 1
        assert "no lot 'LOT-NOPE'" in err
