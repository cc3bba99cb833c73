"""``python -m bench all``: what can be checked without measuring (the load guard, the peer's patched documents,
the tables it writes into the benchmarks page)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import __main__ as bench_all
from bench import targets
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


def _figures(**changes: object) -> targets.Figures:
    title = "50 shipments"
    figures = targets.Figures(
        peer_ratio={(0, "one lot"): 1.6, (0, title): 2.1},
        list_title=title,
        list_cpu_ms={0: 8.0},
        readiness_cpu_ms={0: 0.9},
        readiness_overhead_p50_ms=4.0,
        trace_seconds=0.9,
        trace_lots=30_000,
        fanout_p99_ms=110.0,
        ceiling_p99_ms=100.0,
        subscribers=1000,
        burst=10,
        one_connection={"one lot": (1.0, 2.9)},
        upstream={"one lot": (1, 1)},
    )
    for name, value in changes.items():
        setattr(figures, name, value)
    return figures


def test_every_target_met_at_its_bound() -> None:
    found = targets.verdicts(_figures())
    assert [v.met for v in found] == [True] * 9
    assert "30,000-lot forward trace" in targets.table(found)


def test_each_target_missed_says_so_with_its_figure() -> None:
    missed = {
        "peer_ratio": {(0, "one lot"): 1.49, (0, "50 shipments"): 1.9},
        "list_cpu_ms": {0: 9.5},
        "readiness_cpu_ms": {0: 1.2},
        "readiness_overhead_p50_ms": 5.5,
        "trace_seconds": 2.75,
        "fanout_p99_ms": 130.0,
        "one_connection": {"one lot": (1.0, 3.1)},
        "upstream": {"one lot": (2, 1)},
    }
    found = targets.verdicts(_figures(**missed))
    assert [v.met for v in found] == [False] * 9
    figures = [v.figure for v in found]
    assert figures[:2] == ["1.90x", "1.49x"]  # the list's bound is 2x, the others' 1.5x
    assert "2.75 s" in figures
    assert "130 / 100 ms = 1.30x" in figures
    assert "2 / 1" in figures
    with_rest = targets.verdicts(_figures(rest_ratio={(0, "one lot"): 1.02}))
    assert "1.60x (REST client 1.02x)" in [v.figure for v in with_rest]
    assert "**not met**" in targets.table(found)


def test_what_was_not_measured_is_not_judged() -> None:
    found = targets.verdicts(_figures(trace_seconds=None, fanout_p99_ms=None, readiness_overhead_p50_ms=None))
    assert [v.word for v in found if v.met is None] == ["not measured"] * 3


def test_upstream_cells_are_counted_per_workload() -> None:
    assert targets.upstream_total("erp 4 qms 3 wms 1") == 8
    assert targets.upstream_total("none") == 0
    cells = {
        ("lotgraph", "lot"): "mes 1",
        ("REST client", "lot"): "mes 1",
        ("lotgraph", "x"): "erp 2",
        ("Hive", "x"): None,
    }
    assert targets.upstream_pairs(cells, "lotgraph", "REST client") == {"lot": (1, 1)}
