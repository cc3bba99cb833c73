"""What lotgraph derives from Tryton's quality records, as pure functions (no server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from sources.records import Disposition
from sources.tryton.mapping import HOLD_CONTROL, hold_description, read_marks, release_line
from sources.tryton.quality import disposition
from sources.tryton.rows import Rows

TODAY = date(2026, 11, 30)
STAMP = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def inspection(id_: int, state: str, *alerts: str, control: str = "Release test") -> Rows:
    row: dict[str, Any] = {"id": id_, "state": state, "control.": {"name": control}, "write_date": STAMP}
    row["alerts."] = [
        {"id": 100 + i, "state": a, "number": f"QA-{i}", "write_date": STAMP} for i, a in enumerate(alerts)
    ]
    return Rows("qms", row)


@pytest.mark.parametrize(
    ("inspections", "expiry", "expected"),
    [
        ([], None, Disposition.RELEASED),
        ([inspection(1, "passed")], None, Disposition.RELEASED),
        ([inspection(1, "pending")], None, Disposition.PENDING),
        ([inspection(1, "failed", "resolved")], None, Disposition.REJECTED),
        ([inspection(1, "failed", "open")], None, Disposition.ON_HOLD),
        ([inspection(1, "failed", "deferred")], None, Disposition.ON_HOLD),
        ([inspection(1, "failed", "resolved"), inspection(2, "passed")], None, Disposition.RELEASED),
        ([inspection(1, "passed")], date(2026, 11, 1), Disposition.EXPIRED),
        ([inspection(1, "passed"), inspection(9, "failed", "open", control=HOLD_CONTROL)], None, Disposition.ON_HOLD),
        ([inspection(9, "failed", "open", control=HOLD_CONTROL)], date(2026, 11, 1), Disposition.ON_HOLD),
        (
            [inspection(1, "passed"), inspection(9, "failed", "resolved", control=HOLD_CONTROL)],
            None,
            Disposition.RELEASED,
        ),
    ],
)
def test_disposition_rules(inspections: list[Rows], expiry: date | None, expected: Disposition) -> None:
    assert disposition(inspections, expiry, TODAY)[0] is expected


def test_hold_marks_round_trip() -> None:
    text = hold_description("supplier notice\nline two", key="k1", placed_by="alice")
    text += release_line(key="k2", released_by="bob", comment="cleared")
    marks = read_marks(text)
    assert (marks.comment, marks.key, marks.placed_by) == ("supplier notice\nline two", "k1", "alice")
    assert (marks.release_key, marks.released_by, marks.release_comment) == ("k2", "bob", "cleared")
    assert read_marks(None).key is None
    assert read_marks(hold_description(None, key="k", placed_by="a b")).placed_by == "a b"
