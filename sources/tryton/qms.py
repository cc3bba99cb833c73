"""QMS port over Tryton's ``quality`` module: dispositions derived from inspections and alerts, holds as alerts.

The derivation is in ``sources/tryton/quality.py``. A hold is a ``quality.inspection`` under the ``lotgraph hold``
control, its ``reference`` the lot's number and its point false, created together with its ``quality.alert`` in one
call (the alert's title the reason code, its description the comment and a line with the gateway's idempotency
key), then processed, which fails it. Releasing writes a release line and resolves the alert. A retry under the same
key finds the alert by its key and carries on from its state, so a hold is never placed twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

from sources.combined import LotQuality, quality_by_reads
from sources.errors import NotFound, SourceRejected
from sources.records import Deviation, DeviationStatus, Disposition, Hold, HoldStatus, Page, QualityLot
from sources.resilience import Health
from sources.tryton.client import TrytonRpc
from sources.tryton.mapping import HOLD_CONTROL, HOLD_POINT, hold_description, hold_title, read_marks, release_line
from sources.tryton.paging import keyset_page
from sources.tryton.quality import INSPECTION_FIELDS, deviations_in, disposition, hold_of, holds_in
from sources.tryton.rows import Rows, rows

LOT_FIELDS = ["number", "product.code", "expiration_date"]
ALERT_FIELDS = ["number", "state", "title", "description", "create_date", "write_date", "origin"]


class TrytonQms:
    """``QmsPort`` over a Tryton database with ``quality`` (and ``stock_lot_sled`` for expiry dates)."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc
        self.name = rpc.name
        self._control: int | None = None
        self._reading: dict[tuple[str, ...], asyncio.Future[dict[str, list[Rows]]]] = {}

    def health(self) -> Health:
        return self.rpc.health()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    # -- reads ---------------------------------------------------------------------------------------------------

    async def inspections(self, numbers: list[str]) -> dict[str, list[Rows]]:
        """Inspections of each lot: of the production that made it, or referring to its number (two calls).

        A readiness decision asks for the lots' dispositions, holds and deviations at once: concurrent asks for the
        same lots share one read (nothing is kept once it is answered)."""
        if not numbers:
            return {}
        key = tuple(sorted(numbers))
        if key in self._reading:
            return await asyncio.shield(self._reading[key])
        task = asyncio.ensure_future(self._read_inspections(numbers))
        self._reading[key] = task
        task.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(task)

    async def _read_inspections(self, numbers: list[str]) -> dict[str, list[Rows]]:
        made = await self.rpc.search_read(
            "stock.move",
            [("lot.number", "in", numbers), ("production_output", "!=", None), ("state", "=", "done")],
            ["lot.number", "production_output"],
        )
        lots_of: dict[str, set[str]] = {}
        for move in made:
            lots_of.setdefault(f"production,{move['production_output']}", set()).add(move["lot."]["number"])
        domain = ["OR", ("reference", "in", numbers), ("origin", "in", sorted(lots_of))]
        found = rows(self.name, await self.rpc.search_read("quality.inspection", domain, INSPECTION_FIELDS))
        by_lot: dict[str, list[Rows]] = {}
        for inspection in found:
            targets = set(lots_of.get(str(inspection.get("origin")), set()))
            if (reference := inspection.opt_text("reference")) in numbers:
                targets.add(str(reference))
            for lot in targets:
                by_lot.setdefault(lot, []).append(inspection)
        return by_lot

    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]:
        numbers = list(dict.fromkeys(ids))
        if not numbers:
            return {}
        found, inspections = await asyncio.gather(
            self.rpc.search_read("stock.lot", [("number", "in", numbers)], LOT_FIELDS), self.inspections(numbers)
        )
        today = datetime.now(UTC).date()
        answer = {}
        for lot in rows(self.name, found):
            number = lot.text("number")
            expiry = lot.opt_date("expiration_date")
            decided, at = disposition(inspections.get(number, []), expiry, today)
            answer[number] = QualityLot(number, lot.opt_text("product.code"), decided, at, expiry, None)
        return answer

    async def search_lots(
        self, *, product_id: str | None, disposition: Disposition | None, limit: int, after: str | None
    ) -> Page[QualityLot]:
        """Dispositions are derived, so Tryton cannot filter on them: with a disposition, the product's lots are
        read and filtered here (a cost that grows with the product's lots; docs/sources.md)."""
        domain = [("product.code", "=", product_id)] if product_id is not None else []
        if disposition is None:
            page = await keyset_page(self.rpc, "stock.lot", domain, [], limit=limit, after=after)
            found = await self.lots(r["number"] for r in page.items)
            return Page([found[r["number"]] for r in page.items if r["number"] in found], page.total, page.has_more)
        numbers = [
            r["number"] for r in await self.rpc.search_read("stock.lot", domain, ["number"], order=[("id", "ASC")])
        ]
        decided = await self.lots(numbers)
        matching = [decided[n] for n in numbers if n in decided and decided[n].disposition is disposition]
        start = next((i + 1 for i, q in enumerate(matching) if q.lot_id == after), 0) if after else 0
        return Page(matching[start : start + limit], len(matching), start + limit < len(matching))

    async def quality_status(self, lot_ids: Iterable[str]) -> dict[str, LotQuality]:
        """The three reads at once; they share one read of the lots' inspections (three calls in all)."""
        return await quality_by_reads(self, lot_ids)

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]:
        numbers = list(dict.fromkeys(lot_ids))
        found = await self.inspections(numbers)
        answer = {
            lot: [h for h in holds_in(lot, ins) if status is None or h.status is status] for lot, ins in found.items()
        }
        return {lot: holds for lot, holds in answer.items() if holds}

    async def holds(self, ids: Iterable[str]) -> dict[str, Hold]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        domain = [("control.name", "=", HOLD_CONTROL), ("alerts.number", "in", wanted)]
        found = rows(self.name, await self.rpc.search_read("quality.inspection", domain, INSPECTION_FIELDS))
        holds = [hold for i in found for hold in holds_in(i.text("reference"), [i])]
        return {h.id: h for h in holds if h.id in wanted}

    async def search_holds(
        self,
        *,
        status: HoldStatus | None,
        lot_id: str | None,
        reason_code: str | None,
        limit: int,
        after: str | None,
    ) -> Page[Hold]:
        domain: list[object] = [("origin.control.name", "=", HOLD_CONTROL, "quality.inspection")]
        if status is not None:
            domain.append(("state", "=" if status is HoldStatus.RELEASED else "!=", "resolved"))
        if lot_id is not None:
            domain.append(("origin.reference", "=", lot_id, "quality.inspection"))
        if reason_code is not None:
            domain.append(("title", "=", reason_code))
        page = await keyset_page(self.rpc, "quality.alert", domain, ALERT_FIELDS, limit=limit, after=after)
        origins = [int(str(r["origin"]).split(",")[1]) for r in page.items if r.get("origin")]
        lots = {r["id"]: r.get("reference") for r in await self.rpc.read("quality.inspection", origins, ["reference"])}
        items = [
            hold_of(str(lots.get(int(str(r["origin"]).split(",")[1])) or ""), Rows(self.name, r)) for r in page.items
        ]
        return Page(items, page.total, page.has_more)

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]:
        found = await self.inspections(list(dict.fromkeys(lot_ids)))
        answer = {
            lot: [d for d in deviations_in(lot, ins) if status is None or d.status is status]
            for lot, ins in found.items()
        }
        return {lot: deviations for lot, deviations in answer.items() if deviations}

    # -- commands ------------------------------------------------------------------------------------------------

    async def place_hold(
        self, lot_id: str, *, reason_code: str, comment: str | None, placed_by: str, idempotency_key: str
    ) -> Hold:
        existing = await self._by_key("hold", idempotency_key)
        if existing is None:
            if not await self.rpc.search_count("stock.lot", [("number", "=", lot_id)]):
                raise NotFound(self.name, f"lot {lot_id} not found in {self.name.upper()}")
            description = hold_description(comment, key=idempotency_key, placed_by=placed_by)
            values = {
                "control": await self._hold_control(),
                "reference": lot_id,
                "points": {HOLD_POINT: False},
                "alerts": [["create", [{"title": hold_title(reason_code), "description": description}]]],
            }
            created = await self.rpc.write_call("quality.inspection", "create", [values])
            await self.rpc.write_call("quality.inspection", "process", created)
        else:
            inspection, _ = existing
            if inspection.get("state") == "pending":  # a retry after the create: finish it
                await self.rpc.write_call("quality.inspection", "process", [inspection.ident()])
        found = await self._by_key("hold", idempotency_key)
        if found is None:
            raise SourceRejected(self.name, "the hold was not recorded", upstream_code="HOLD_MISSING", status=409)
        return hold_of(found[0].text("reference"), found[1])

    async def release_hold(self, hold_id: str, *, released_by: str, comment: str | None, idempotency_key: str) -> Hold:
        domain = [("control.name", "=", HOLD_CONTROL), ("alerts.number", "=", hold_id)]
        found = rows(self.name, await self.rpc.search_read("quality.inspection", domain, INSPECTION_FIELDS))
        pair = next(((i, a) for i in found for a in i.children("alerts") if a.get("number") == hold_id), None)
        if pair is None:
            raise NotFound(self.name, f"hold {hold_id} not found in {self.name.upper()}")
        inspection, alert = pair
        marks = read_marks(alert.opt_text("description"))
        state = alert.get("state")
        if state == "resolved":
            if marks.release_key == idempotency_key:
                return hold_of(inspection.text("reference"), alert)
            raise SourceRejected(
                self.name, f"hold {hold_id} is not active", upstream_code="HOLD_NOT_ACTIVE", status=409
            )
        alert_id = alert.ident()
        if state in ("open", "deferred"):
            await self.rpc.write_call("quality.alert", "process", [alert_id])
        if marks.release_key != idempotency_key:
            line = release_line(key=idempotency_key, released_by=released_by, comment=comment)
            description = (alert.opt_text("description") or "") + line
            await self.rpc.write_call("quality.alert", "write", [alert_id], {"description": description})
        await self.rpc.write_call("quality.alert", "resolve", [alert_id])
        done = await self.holds([hold_id])
        return done[hold_id]

    async def _by_key(self, kind: str, key: str) -> tuple[Rows, Rows] | None:
        domain = [("control.name", "=", HOLD_CONTROL), ("alerts.description", "like", f"%[lotgraph {kind} key={key} %")]
        for inspection in rows(self.name, await self.rpc.search_read("quality.inspection", domain, INSPECTION_FIELDS)):
            for alert in inspection.children("alerts"):
                if read_marks(alert.opt_text("description")).key == key:
                    return inspection, alert
        return None

    async def _hold_control(self) -> int:
        """The ``lotgraph hold`` control, made on first use when the set-up did not."""
        if self._control is None:
            found = await self.rpc.search_read("quality.control", [("name", "=", HOLD_CONTROL)], ["id"], limit=1)
            if found:
                self._control = int(found[0]["id"])
            else:
                point = {"name": HOLD_POINT, "string": "Stock may be used", "type_": "boolean"}
                values = {"name": HOLD_CONTROL, "points": [["create", [point]]]}
                self._control = int((await self.rpc.write_call("quality.control", "create", [values]))[0])
        return self._control
