"""A QMS beside Tryton: the reference plant's QMS (``plant/qms.py``) over a database that knows the Tryton data
set's lots, as the first Tryton deployment has it (ERP, MES and WMS on Tryton, the QMS a system that implements the
contract; docs/sources.md)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from plant.tables import QMS


def contract_qms(directory: Path, lots: dict[str, str]) -> Path:
    """``directory/qms.db`` knowing ``lots`` (number to product code), every one RELEASED with a certificate and a
    far expiry; kept as it is when it exists (holds placed in it stay)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "qms.db"
    stamp = "2026-01-01T00:00:00+00:00"
    rows = [(lot, product, "RELEASED", stamp, "2099-12-31", f"COA-{lot}", stamp, None) for lot, product in lots.items()]
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript(QMS)
        db.executemany("INSERT OR IGNORE INTO quality_lots VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return path
