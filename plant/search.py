"""Searches: filters in a JSON body, keyset pagination in id order, and the total of all matches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plant.db import Database, Row
from plant.http import bad_request, opt_str

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
PAGE_FIELDS = ("limit", "after")


@dataclass
class Page:
    limit: int = DEFAULT_LIMIT
    after: str | None = None


def page_of(body: Mapping[str, Any]) -> Page:
    limit = body.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"'limit' must be an integer from 1 to {MAX_LIMIT}")
    return Page(limit, opt_str(body, "after"))


@dataclass
class Where:
    """A conjunction of SQL conditions and their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


@dataclass
class Found:
    rows: list[Row]
    total: int
    next_after: str | None


def search(db: Database, table: str, key: str, where: Where, page: Page) -> Found:
    """One page of ``table`` rows matching ``where``, ordered by ``key``, after ``page.after``."""
    total_row = db.one(f"SELECT COUNT(*) FROM {table} WHERE {where.sql()}", where.params)
    total = int(total_row[0]) if total_row is not None else 0
    page_where = Where(list(where.clauses), list(where.params))
    if page.after is not None:
        page_where.add(f"{key} > ?", page.after)
    rows = db.query(
        f"SELECT * FROM {table} WHERE {page_where.sql()} ORDER BY {key} LIMIT ?",
        [*page_where.params, page.limit + 1],
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Found(rows, total, str(rows[-1][key]) if more else None)
