"""Custody and containment the plant's records imply, as EPCIS 2.0 events (served by ``GET /mes/epcis/events``).

- Each shipped delivery travels as one pallet, an SSCC under the plant's company prefix whose serial reference is
  the delivery's number (``DL-800001`` → ``urn:epc:id:sscc:4012345.0000800001``). At the time it shipped, an
  AggregationEvent ``ADD`` (``packing``) puts the delivery's lots on the pallet with the quantities picked, and an
  ObjectEvent ``OBSERVE`` (``shipping``, ``in_transit``) names the pallet alone, as GS1's examples do: from the
  plant (its party GLN, the warehouse's SGLN) to the customer (its party GLN), the delivery as ``desadv``.
- Each raw lot with a supplier: an ObjectEvent ``OBSERVE`` (``receiving``, ``in_progress``) when it was received,
  from the supplier to the plant's site.

GLNs under GS1's example company prefix 4012345: the plant is ``urn:epc:id:pgln:4012345.00000``, its sites and
warehouses ``urn:epc:id:sgln:4012345.00000.<code>``, customer ``C0014`` ``urn:epc:id:pgln:4012345.10014`` (location
reference 1 and the customer's number). Suppliers are known by name only: ``urn:lotgraph:supplier:<name>``.
Event ids are fixed (UUID 5), so the same data always gives the same events.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

from plant import epcis_events as ev
from plant.db import Database, Row, placeholders

PLANT_PARTY = f"urn:epc:id:pgln:{ev.COMPANY_PREFIX}.00000"
_NAMESPACE = uuid.UUID("0c9d3c52-5d0e-4a55-9a43-3c7f6f2b9e20")
_DIGITS = re.compile(r"\d+")


def site(code: str) -> str:
    return code if ":" in code else f"urn:epc:id:sgln:{ev.COMPANY_PREFIX}.00000.{code}"


def customer_party(customer_id: str) -> str:
    digits = "".join(_DIGITS.findall(customer_id))
    if 0 < len(digits) <= 4:
        return f"urn:epc:id:pgln:{ev.COMPANY_PREFIX}.1{digits.zfill(4)}"
    return f"urn:lotgraph:customer:{quote(customer_id, safe='')}"


@functools.lru_cache(maxsize=100_000)
def sscc(shipment_id: str) -> str:
    """The pallet of a delivery: extension digit 0, the delivery's number as serial reference (9 digits)."""
    digits = "".join(_DIGITS.findall(shipment_id))
    if 0 < len(digits) <= 9:
        return f"urn:epc:id:sscc:{ev.COMPANY_PREFIX}.0{digits.zfill(9)}"
    return f"urn:lotgraph:pallet:{quote(shipment_id, safe='')}"


def _event_id(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{key}')}"


def packing(shipment: Row) -> dict[str, Any]:
    children = [
        ev.quantity(ev.epc_class(a["lot_id"], line["product_id"]), a["quantity"], line["uom"])
        for line in json.loads(shipment["lines"])
        for a in line["lots"]
    ]
    return {
        "type": "AggregationEvent",
        "eventID": _event_id("packing", shipment["id"]),
        "eventTime": shipment["shipped_at"],
        "eventTimeZoneOffset": "+00:00",
        "parentID": sscc(shipment["id"]),
        "childQuantityList": children,
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
        "bizLocation": {"id": site(shipment["warehouse"])},
    }


def shipping(shipment: Row) -> dict[str, Any]:
    warehouse = site(shipment["warehouse"])
    return {
        "type": "ObjectEvent",
        "eventID": _event_id("shipping", shipment["id"]),
        "eventTime": shipment["shipped_at"],
        "eventTimeZoneOffset": "+00:00",
        "epcList": [sscc(shipment["id"])],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": warehouse},
        "bizLocation": {"id": warehouse},
        "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:lotgraph:shipment:{shipment['id']}"}],
        "sourceList": [
            {"type": "owning_party", "source": PLANT_PARTY},
            {"type": "location", "source": warehouse},
        ],
        "destinationList": [{"type": "owning_party", "destination": customer_party(shipment["customer_id"])}],
    }


def receiving(lot: Row) -> dict[str, Any]:
    place = site(lot["plant"])
    return {
        "type": "ObjectEvent",
        "eventID": _event_id("receiving", lot["id"]),
        "eventTime": lot["produced_at"],
        "eventTimeZoneOffset": "+00:00",
        "quantityList": [ev.quantity(ev.epc_class(lot["id"], lot["product_id"]), lot["quantity"], lot["uom"])],
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "bizLocation": {"id": place},
        "sourceList": [{"type": "owning_party", "source": f"urn:lotgraph:supplier:{quote(lot['supplier'], safe='')}"}],
        "destinationList": [
            {"type": "owning_party", "destination": PLANT_PARTY},
            {"type": "location", "destination": place},
        ],
    }


class Shipped:
    """The packing and shipping events of shipped deliveries, read from the ERP's database."""

    def __init__(self, erp: Database) -> None:
        self.erp = erp

    def of_lots(self, lot_ids: list[str]) -> list[dict[str, Any]]:
        """The packing of the deliveries that carried these lots (their shipping names only the pallet)."""
        sql = "SELECT DISTINCT shipment_id FROM shipment_lots WHERE lot_id IN"
        ids = list({r[0] for c in _chunks(lot_ids) for r in self.erp.query(f"{sql} ({placeholders(c)})", c)})
        sql = "SELECT * FROM shipments WHERE status = 'SHIPPED' AND shipped_at IS NOT NULL AND id IN"
        return [packing(r) for c in _chunks(ids) for r in self.erp.query(f"{sql} ({placeholders(c)})", c)]

    def of_pallets(self, epcs: list[str]) -> list[dict[str, Any]]:
        wanted = {e for e in epcs if e.startswith(("urn:epc:id:sscc:", "urn:lotgraph:pallet:"))}
        if not wanted:
            return []
        shipped = self.erp.query("SELECT id FROM shipments WHERE status = 'SHIPPED' AND shipped_at IS NOT NULL")
        ids = [r[0] for r in shipped if sscc(r[0]) in wanted]
        sql = "SELECT * FROM shipments WHERE id IN"
        return _events([r for c in _chunks(ids) for r in self.erp.query(f"{sql} ({placeholders(c)})", c)])

    def every_row(self) -> list[Row]:
        return self.erp.query("SELECT * FROM shipments WHERE status = 'SHIPPED' AND shipped_at IS NOT NULL")

    def every(self) -> list[dict[str, Any]]:
        return _events(self.every_row())


def _events(rows: list[Row]) -> list[dict[str, Any]]:
    unique = {r["id"]: r for r in rows}
    return [event for row in unique.values() for event in (packing(row), shipping(row))]


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
