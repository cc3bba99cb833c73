"""Reference plants of several sites (``lotgraph demo --sites N``): one generated plant per site, each with its own
seed and lot numbers, where some finished lots the first site shipped are raw material the others received.

A received lot keeps the shipping site's lot number in the receiving site's systems (MES, QMS, WMS) and names that
site as its supplier (its supplier code: the site's name): that receipt is what links the two lots
(docs/sites.md#cross-site-genealogy). ``sites.json`` under the data directory lists the sites and the links.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from plant.app import SYSTEMS
from plant.generator import generate

SITE_NAMES = ("a", "b", "c", "d")
LOTS_APART = 500_000
"""Each site's plant numbers its lots from ``LOTS_APART * index + 1``, so no two sites share a lot number but the
received ones."""
RECEIVED = 12
"""Finished lots of the first site each other site receives."""


def ensure_sites(data_dir: Path, count: int, seed: int = 7, lots: int = 2000) -> dict[str, Any]:
    """Generate the plants of ``count`` sites under ``data_dir/<site>/`` unless they are there; their summary."""
    summary_file = data_dir / "sites.json"
    if summary_file.is_file():
        summary: dict[str, Any] = json.loads(summary_file.read_text())
        if summary.get("sites") == list(SITE_NAMES[:count]):
            return summary
    names = SITE_NAMES[:count]
    manifests = {}
    for index, name in enumerate(names):
        site_dir = data_dir / name
        site_dir.mkdir(parents=True, exist_ok=True)
        for system in SYSTEMS:
            (site_dir / f"{system}.db").unlink(missing_ok=True)
        manifests[name] = generate(site_dir, seed=seed + index, lots=lots, first_lot=LOTS_APART * index + 1)
    links = {name: receive(data_dir / names[0], data_dir / name, names[0], RECEIVED) for name in names[1:]}
    summary = {"sites": list(names), "links": links, "demo": {n: m.get("demo", {}) for n, m in manifests.items()}}
    summary_file.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def shipped_finished_lots(shipper: Path) -> list[str]:
    """Finished lots the shipping site has shipped, oldest first."""
    with sqlite3.connect(shipper / "erp.db") as erp:
        shipped = {
            row[0]
            for row in erp.execute(
                "SELECT l.lot_id FROM shipment_lots l JOIN shipments s ON s.id = l.shipment_id WHERE s.status = ?",
                ("SHIPPED",),
            )
        }
    with sqlite3.connect(shipper / "mes.db") as mes:
        finished = [row[0] for row in mes.execute("SELECT id FROM lots WHERE kind = 'FINISHED' ORDER BY id")]
    return [lot for lot in finished if lot in shipped]


def receive(shipper: Path, receiver: Path, supplier: str, count: int) -> list[dict[str, str]]:
    """Make ``count`` raw lots of the receiver (ones it consumed) lots received from the shipper: the shipper's lot
    number, the shipper as supplier. Returns ``[{"lot": shipped lot, "was": the receiver's old number}]``."""
    sent = shipped_finished_lots(shipper)[:count]
    with sqlite3.connect(receiver / "mes.db") as mes:
        raw = [
            row[0]
            for row in mes.execute(
                "SELECT id FROM lots WHERE kind = 'RAW' AND id IN (SELECT input_lot_id FROM genealogy) ORDER BY id"
            )
        ]
    pairs = list(zip(raw[:: max(1, len(raw) // max(1, len(sent)))], sent, strict=False))[: len(sent)]
    renames = {
        "mes": ["UPDATE lots SET id = ?2, supplier = ?3 WHERE id = ?1",
                "UPDATE genealogy SET input_lot_id = ?2 WHERE input_lot_id = ?1",
                "UPDATE genealogy SET output_lot_id = ?2 WHERE output_lot_id = ?1"],
        "qms": ["UPDATE quality_lots SET lot_id = ?2 WHERE lot_id = ?1",
                "UPDATE holds SET lot_id = ?2 WHERE lot_id = ?1",
                "UPDATE deviations SET lot_id = ?2 WHERE lot_id = ?1"],
        "wms": ["UPDATE stock SET lot_id = ?2 WHERE lot_id = ?1",
                "UPDATE allocations SET lot_id = ?2 WHERE lot_id = ?1"],
        "erp": ["UPDATE shipment_lots SET lot_id = ?2 WHERE lot_id = ?1"],
    }  # fmt: skip
    for system, statements in renames.items():
        with sqlite3.connect(receiver / f"{system}.db") as db:
            for old, new in pairs:
                for sql in statements:
                    params = (old, new, supplier) if "?3" in sql else (old, new)
                    db.execute(sql, params)
    return [{"lot": new, "was": old} for old, new in pairs]
