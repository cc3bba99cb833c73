"""The MES's EPCIS 2.0 query interface: ``GET /epcis/events`` over its lots and genealogy, the custody and
containment its raw lots and the ERP's shipped deliveries imply (``plant.epcis_custody``), and the events loaded
from EPCIS documents (``plant.epcis_import``).

Query parameters (EPCIS 2.0 REST binding; values comma-separated): ``eventType``, ``MATCH_inputEPCClass``,
``MATCH_outputEPCClass``, ``MATCH_anyEPCClass``, ``MATCH_epcClass``, ``MATCH_epc``, ``MATCH_anyEPC``, ``EQ_bizStep``,
``GE_eventTime``, ``LT_eventTime``, ``EQ_ILMD_cbvmda:lotNumber``, ``perPage``, ``nextPageToken``. Several
conditions must all hold. EPC classes may be spelled as URN, Digital Link or the plant's lot id (the MES contract
reads custody so). The next page is announced in a ``Link: <…>; rel="next"`` header, as the binding says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plant import epcis_events as ev
from plant.db import Database, Row, placeholders
from plant.epcis_custody import Shipped, receiving
from plant.http import bad_request
from sources.epcis.events import short_cbv
from sources.gs1 import IdentifierError, lot_id_of

MATCH = (
    "MATCH_inputEPCClass",
    "MATCH_outputEPCClass",
    "MATCH_anyEPCClass",
    "MATCH_epcClass",
    "MATCH_epc",
    "MATCH_anyEPC",
)
LOT_NUMBER = "EQ_ILMD_cbvmda:lotNumber"
KNOWN = {*MATCH, LOT_NUMBER, "eventType", "EQ_bizStep", "GE_eventTime", "LT_eventTime", "perPage", "nextPageToken"}
MAX_PER_PAGE = 10_000


class EpcisQuery:
    def __init__(self, db: Database, erp: Database) -> None:
        self.db = db
        self.shipped = Shipped(erp)

    async def events(self, request: Request) -> Response:
        params = dict(request.query_params)
        unknown = sorted(set(params) - KNOWN)
        if unknown:
            raise bad_request(f"unknown query parameter {unknown[0]}", "QueryParameterException")
        per_page = _integer(params.get("perPage", "1000"), "perPage", 1, MAX_PER_PAGE)
        offset = _integer(params.get("nextPageToken", "0"), "nextPageToken", 0, None)
        events = sorted(self._matching(params), key=lambda e: (e["eventTime"], e["eventID"]))
        page = events[offset : offset + per_page]
        headers = {}
        if offset + per_page < len(events):
            following = request.url.include_query_params(nextPageToken=str(offset + per_page))
            headers["Link"] = f'<{following}>; rel="next"'
        document = ev.query_document(page, datetime.now(UTC).isoformat().replace("+00:00", "Z"))
        return JSONResponse(document, headers=headers, media_type="application/ld+json")

    def _matching(self, params: dict[str, str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] | None = None
        kinds = set(params["eventType"].split(",")) if "eventType" in params else None
        for name in (*MATCH, LOT_NUMBER):
            if name in params:
                ids = _lot_ids(params[name])
                hits = {e["eventID"]: e for e in self._by(name, ids, kinds)}
                found = hits if found is None else {k: v for k, v in found.items() if k in hits}
        if found is None:
            found = {e["eventID"]: e for e in self._all()}
        steps = set(params["EQ_bizStep"].split(",")) if "EQ_bizStep" in params else None
        short_steps = {short_cbv(s) for s in steps} if steps is not None else None
        since, until = _time(params.get("GE_eventTime")), _time(params.get("LT_eventTime"))
        return [
            e
            for e in found.values()
            if (kinds is None or e["type"] in kinds)
            and (short_steps is None or short_cbv(e.get("bizStep")) in short_steps)
            and _within(e["eventTime"], since, until)
        ]

    def _by(self, name: str, ids: list[str], kinds: set[str] | None) -> list[dict[str, Any]]:
        if name == "MATCH_inputEPCClass":
            outputs = self._column("SELECT output_lot_id FROM genealogy WHERE input_lot_id IN", ids)
            return self._made(outputs)
        if name == "MATCH_outputEPCClass":
            return self._made(ids)
        if name == LOT_NUMBER:
            return self._made(ids) + self._added(ids)
        implied = self._received(ids) + self.shipped.of_lots(ids) + self.shipped.of_pallets(ids)
        if kinds is not None and "TransformationEvent" not in kinds:  # custody asks: no need to build these
            return self._added(ids) + implied + self._stored(ids)
        outputs = self._column("SELECT output_lot_id FROM genealogy WHERE input_lot_id IN", ids)
        return self._made([*ids, *outputs]) + self._added(ids) + implied + self._stored(ids)

    def _column(self, sql: str, ids: list[str]) -> list[str]:
        return [row[0] for chunk in _chunks(ids) for row in self.db.query(f"{sql} ({placeholders(chunk)})", chunk)]

    def _lots(self, ids: list[str]) -> dict[str, Row]:
        rows = (
            r for c in _chunks(ids) for r in self.db.query(f"SELECT * FROM lots WHERE id IN ({placeholders(c)})", c)
        )
        return {row["id"]: row for row in rows}

    def _made(self, lot_ids: Iterable[str]) -> list[dict[str, Any]]:
        """TransformationEvents of the lots among ``lot_ids`` that were made from inputs."""
        ids = list(dict.fromkeys(lot_ids))
        edges: dict[str, list[Row]] = {}
        for chunk in _chunks(ids):
            sql = f"SELECT * FROM genealogy WHERE output_lot_id IN ({placeholders(chunk)}) ORDER BY input_lot_id"
            for row in self.db.query(sql, chunk):
                edges.setdefault(row["output_lot_id"], []).append(row)
        lots = self._lots([*edges, *(r["input_lot_id"] for rows in edges.values() for r in rows)])
        events = []
        for lot_id, rows in edges.items():
            if lot_id not in lots:
                continue
            inputs = [(r, _class_of(r["input_lot_id"], lots)) for r in rows]
            events.append(ev.transformation(lots[lot_id], inputs))
        return events

    def _added(self, lot_ids: list[str]) -> list[dict[str, Any]]:
        """ObjectEvents ADD of the lots among ``lot_ids`` that no genealogy made."""
        made = set(self._column("SELECT output_lot_id FROM genealogy WHERE output_lot_id IN", lot_ids))
        return [ev.commissioning(row) for lot_id, row in self._lots(lot_ids).items() if lot_id not in made]

    def _received(self, lot_ids: list[str]) -> list[dict[str, Any]]:
        """ObjectEvents ``receiving`` of the raw lots among ``lot_ids`` that came from a supplier."""
        return [receiving(row) for row in self._lots(lot_ids).values() if row["supplier"] and row["kind"] == "RAW"]

    def _stored(self, ids: list[str]) -> list[dict[str, Any]]:
        sql = "SELECT DISTINCT e.body FROM epcis_events e JOIN epcis_event_lots l ON l.event_id = e.event_id WHERE"
        return [
            json.loads(row[0])
            for c in _chunks(ids)
            for row in self.db.query(f"{sql} l.lot_id IN ({placeholders(c)})", c)
        ]

    def _all(self) -> list[dict[str, Any]]:
        lot_ids = [row[0] for row in self.db.query("SELECT id FROM lots")]
        stored = [json.loads(row[0]) for row in self.db.query("SELECT body FROM epcis_events")]
        return self._made(lot_ids) + self._added(lot_ids) + self._received(lot_ids) + self.shipped.every() + stored

    def routes(self) -> list[Route]:
        return [Route("/epcis/events", self.events, methods=["GET"])]


def _class_of(lot_id: str, lots: dict[str, Row]) -> str:
    row = lots.get(lot_id)
    return ev.epc_class(lot_id, row["product_id"]) if row is not None else lot_id


def _lot_ids(value: str) -> list[str]:
    try:
        return [lot_id_of(v) for v in value.split(",") if v.strip()]
    except IdentifierError as exc:
        raise bad_request(str(exc), "QueryParameterException") from None


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _integer(value: str, name: str, low: int, high: int | None) -> int:
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        raise bad_request(f"{name} must be a whole number from {low}" + (f" to {high}" if high else ""))
    return int(value)


def _within(event_time: str, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    stamp = _time(event_time)
    assert stamp is not None
    return (since is None or stamp >= since) and (until is None or stamp < until)


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value.replace(" ", "+")))
    except ValueError:
        raise bad_request(f"not a date-time: {value[:40]!r}", "QueryParameterException") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
