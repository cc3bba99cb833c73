"""What lotgraph derives from Tryton's quality records: dispositions, holds and deviations. Pure functions.

Tryton keeps no lot-level quality status. The inspections of a lot are those whose ``origin`` is the production
that made it, or whose ``reference`` is the lot's number. Inspections under the control named ``lotgraph hold``
are holds (their alert is the hold); the others are release inspections (their alerts are deviations).

Disposition, first rule that applies:
1. an active hold (a hold alert not ``resolved``) → ON_HOLD;
2. the lot's ``expiration_date`` is past → EXPIRED;
3. an alert of a release inspection still open (``open``, ``processing``, ``deferred``) → ON_HOLD;
4. the latest release inspection: ``pending`` → PENDING, ``failed`` → REJECTED, ``passed`` → RELEASED;
5. no release inspection → RELEASED (Tryton's quality control is opt-in: a lot nobody must inspect is usable).
"""

from __future__ import annotations

from datetime import date, datetime

from sources.records import Deviation, DeviationStatus, Disposition, Hold, HoldStatus, Severity
from sources.tryton.mapping import HOLD_CONTROL, read_marks
from sources.tryton.rows import Rows

INSPECTION_FIELDS = [
    "number",
    "reference",
    "origin",
    "state",
    "control.name",
    "processed_at",
    "write_date",
    "create_date",
    "alerts.number",
    "alerts.state",
    "alerts.title",
    "alerts.description",
    "alerts.create_date",
    "alerts.write_date",
]
OPEN_ALERT = ("open", "processing", "deferred")


def is_hold(inspection: Rows) -> bool:
    return bool(inspection.get("control.name") == HOLD_CONTROL)


def hold_of(lot_id: str, alert: Rows) -> Hold:
    marks = read_marks(alert.opt_text("description"))
    resolved = alert.get("state") == "resolved"
    return Hold(
        id=alert.text("number"),
        lot_id=lot_id,
        status=HoldStatus.RELEASED if resolved else HoldStatus.ACTIVE,
        reason_code=alert.opt_text("title") or "QUALITY_ALERT",
        comment=marks.comment,
        placed_by=marks.placed_by,
        placed_at=alert.opt_datetime("create_date"),
        released_by=marks.released_by if resolved else None,
        released_at=alert.opt_datetime("write_date") if resolved else None,
        release_comment=marks.release_comment if resolved else None,
        correlation_id=None,
    )


def deviation_of(lot_id: str, inspection: Rows, alert: Rows) -> Deviation:
    resolved = alert.get("state") == "resolved"
    return Deviation(
        id=alert.text("number"),
        lot_id=lot_id,
        status=DeviationStatus.CLOSED if resolved else DeviationStatus.OPEN,
        severity=Severity.MAJOR,
        title=alert.opt_text("title") or f"Inspection {inspection.opt_text('number') or ''} failed".strip(),
        opened_at=alert.opt_datetime("create_date"),
        closed_at=alert.opt_datetime("write_date") if resolved else None,
    )


def holds_in(lot_id: str, inspections: list[Rows]) -> list[Hold]:
    return [hold_of(lot_id, a) for i in inspections if is_hold(i) for a in i.children("alerts")]


def deviations_in(lot_id: str, inspections: list[Rows]) -> list[Deviation]:
    return [deviation_of(lot_id, i, a) for i in inspections if not is_hold(i) for a in i.children("alerts")]


def disposition(inspections: list[Rows], expiry: date | None, today: date) -> tuple[Disposition, datetime | None]:
    """The derived disposition of one lot, and when the record that decided it last changed."""
    holds = [a for i in inspections if is_hold(i) for a in i.children("alerts") if a.get("state") != "resolved"]
    if holds:
        return Disposition.ON_HOLD, max((a.changed_at for a in holds if a.changed_at), default=None)
    if expiry is not None and expiry < today:
        return Disposition.EXPIRED, None
    release = sorted((i for i in inspections if not is_hold(i)), key=lambda i: i.ident())
    alerts = [a for i in release for a in i.children("alerts") if a.get("state") in OPEN_ALERT]
    if alerts:
        return Disposition.ON_HOLD, alerts[-1].changed_at
    if not release:
        return Disposition.RELEASED, None
    latest = release[-1]
    state = latest.get("state")
    decided = latest.opt_datetime("processed_at") or latest.changed_at
    if state == "pending":
        return Disposition.PENDING, decided
    return (Disposition.REJECTED if state == "failed" else Disposition.RELEASED), decided
