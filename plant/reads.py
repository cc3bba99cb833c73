"""Reading records by id: one ``IN (...)`` query per batch, a 404 for a single unknown id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from plant.db import Database, Row, placeholders
from plant.http import PlantError, Record


def rows_by_ids(db: Database, table: str, key: str, ids: Sequence[str]) -> list[Row]:
    if not ids:
        return []
    return db.query(f"SELECT * FROM {table} WHERE {key} IN ({placeholders(ids)})", ids)


@dataclass
class Resource:
    """A kind of record: its table, key column, and how rows become records."""

    db: Database
    table: str
    key: str
    to_records: Callable[[list[Row]], list[Record]]
    not_found: str  # error code, e.g. LOT_NOT_FOUND
    label: str  # for messages, e.g. "lot"

    def by_ids(self, ids: Sequence[str]) -> list[Record]:
        return self.to_records(rows_by_ids(self.db, self.table, self.key, ids))

    def one(self, id_: str) -> Record:
        records = self.by_ids([id_])
        if not records:
            raise PlantError(404, self.not_found, f"{self.label} {id_} not found")
        return records[0]


def each(convert: Callable[[Row], Record]) -> Callable[[list[Row]], list[Record]]:
    """Lift a row converter to a list converter."""

    def convert_all(rows: list[Row]) -> list[Record]:
        return [convert(row) for row in rows]

    return convert_all
