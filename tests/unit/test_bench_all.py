"""``python -m bench all``: what can be checked without measuring (the load guard, the peer's patched documents,
the tables it writes into the benchmarks page)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import __main__ as bench_all
from bench.peer import arrays_of_ids


def test_refuses_to_measure_on_a_busy_machine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (3.5, 3.0, 2.0))
    assert bench_all.main(["all"]) == 2
    assert "the load average is 3.50 (above 1): not measuring on a busy machine" in capsys.readouterr().err


def test_id_lists_become_arrays_on_the_same_wire() -> None:
    document = {
        "paths": {
            "/stock": {"get": {"parameters": [{"name": "lot_ids", "in": "query", "schema": {"type": "string"}}]}},
            "/lots/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}]}},
        }
    }
    patched = arrays_of_ids(document)
    stock = patched["paths"]["/stock"]["get"]["parameters"][0]
    assert stock == {
        "name": "lot_ids",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": False,
    }
    assert patched["paths"]["/lots/{id}"]["get"]["parameters"][0]["schema"] == {"type": "string"}


def test_tables_replace_the_previous_ones(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nintro\n")
    bench_all.write_tables(page, "first tables")
    bench_all.write_tables(page, "second tables")
    text = page.read_text()
    assert text.count(bench_all.BEGIN) == 1
    assert "second tables" in text
    assert "first tables" not in text
    assert text.startswith("# Benchmarks\n\nintro\n")
