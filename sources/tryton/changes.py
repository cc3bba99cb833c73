"""The change feed of one Tryton database: records written or created since a watermark, as business keys.

Tryton sends no webhooks (``ir.trigger`` has no actions with these modules), so lotgraph polls. Each model lotgraph
maps is read with ``['OR', ('write_date', '>=', w), ('create_date', '>=', w)]`` where ``w`` is the stored watermark
less an overlap (Tryton stamps a record with its transaction's start, so a long transaction may commit a stamp older
than one already seen): sales give orders, customer shipments give shipments, inspections, alerts and internal
shipments give lots. One call per model and poll; two more turn inspections and alerts into lots.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sources.changes import ChangeBatch, Memory
from sources.tryton.client import TrytonRpc
from sources.tryton.rows import reference_id

OVERLAP = timedelta(seconds=60)
WATCHED: dict[str, list[str]] = {
    "sale.sale": ["number"],
    "stock.shipment.out": ["number"],
    "quality.inspection": ["reference", "origin"],
    "quality.alert": ["origin"],
    "stock.shipment.internal": ["moves.lot.number"],
}


class TrytonChangeFeed:
    """``ChangeFeed`` of one Tryton database, its watermark kept in ``memory`` under ``tryton:<name>``."""

    def __init__(self, rpc: TrytonRpc, memory: Memory, *, name: str = "tryton") -> None:
        self.rpc = rpc
        self.memory = memory
        self.name = name

    async def changes(self) -> ChangeBatch:
        stored = await self.memory.get(f"{self.name}:watermark")
        since = datetime.fromisoformat(stored) - OVERLAP if isinstance(stored, str) else None
        found = await asyncio.gather(*(self._changed(model, fields, since) for model, fields in WATCHED.items()))
        by_model = dict(zip(WATCHED, found, strict=True))
        stamps: dict[str, str] = {}
        newest = since + OVERLAP if since else None
        for records in by_model.values():
            for record in records:
                stamp = _stamp(record)
                if stamp is not None and (newest is None or stamp > newest):
                    newest = stamp
        orders = _keys(by_model["sale.sale"], "number", "order", stamps)
        shipments = _keys(by_model["stock.shipment.out"], "number", "shipment", stamps)
        lots = await self._lots(by_model, stamps)
        return ChangeBatch(frozenset(orders), frozenset(shipments), frozenset(lots), newest, stamps)

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def commit(self, batch: ChangeBatch) -> None:
        if batch.watermark is not None:
            await self.memory.put_many({f"{self.name}:watermark": batch.watermark.isoformat()})

    async def _changed(self, model: str, fields: list[str], since: datetime | None) -> list[dict[str, Any]]:
        domain: list[Any] = []
        if since is not None:
            domain = ["OR", ("write_date", ">=", since), ("create_date", ">=", since)]
        return await self.rpc.search_read(model, domain, [*fields, "write_date", "create_date"])

    async def _lots(self, by_model: dict[str, list[dict[str, Any]]], stamps: dict[str, str]) -> set[str]:
        """Lots named by changed inspections (their reference, or the outputs of their production), by the
        inspections of changed alerts, and by the moves of changed internal shipments."""
        lots: set[str] = set()
        for shipment in by_model["stock.shipment.internal"]:
            for move in shipment.get("moves.") or []:
                if number := (move.get("lot.") or {}).get("number"):
                    lots.add(number)
                    _mark(stamps, f"lot:{number}", shipment)
        inspections = list(by_model["quality.inspection"])
        alert_origins: dict[int, dict[str, Any]] = {}
        for alert in by_model["quality.alert"]:
            if (origin := reference_id(alert.get("origin"), "quality.inspection")) is not None:
                alert_origins[origin] = alert
        known = {i["id"] for i in inspections}
        missing = sorted(set(alert_origins) - known)
        if missing:
            more = await self.rpc.read(
                "quality.inspection", missing, ["reference", "origin", "write_date", "create_date"]
            )
            for inspection in more:
                inspection["write_date"] = alert_origins[inspection["id"]].get("write_date")
            inspections += more
        productions: dict[int, dict[str, Any]] = {}
        for inspection in inspections:
            if number := inspection.get("reference"):
                lots.add(number)
                _mark(stamps, f"lot:{number}", inspection)
            if (made_by := reference_id(inspection.get("origin"), "production")) is not None:
                productions[made_by] = inspection
        if productions:
            made = await self.rpc.read("production", sorted(productions), ["outputs.lot.number"])
            for record in made:
                for move in record.get("outputs.") or []:
                    if number := (move.get("lot.") or {}).get("number"):
                        lots.add(number)
                        _mark(stamps, f"lot:{number}", productions[record["id"]])
        return lots


def _stamp(record: dict[str, Any]) -> datetime | None:
    stamps = [s for s in (record.get("write_date"), record.get("create_date")) if isinstance(s, datetime)]
    return max(stamps, default=None)


def _mark(stamps: dict[str, str], key: str, record: dict[str, Any]) -> None:
    stamp = _stamp(record)
    if stamp is not None and stamps.get(key, "") < stamp.isoformat():
        stamps[key] = stamp.isoformat()


def _keys(records: list[dict[str, Any]], field: str, kind: str, stamps: dict[str, str]) -> set[str]:
    keys = set()
    for record in records:
        if value := record.get(field):
            keys.add(str(value))
            _mark(stamps, f"{kind}:{value}", record)
    return keys
