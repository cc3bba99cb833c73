"""The MES's lots and genealogy as EPCIS 2.0 events, and lot names in their GS1 spellings.

- A lot made from inputs is one TransformationEvent: its inputs with the quantities consumed, the lot as output
  with its quantity, the work order as a ``prodorder`` business transaction, the lot number in ILMD.
- A lot made from nothing (raw material received, or a lot known only as an input) is an ObjectEvent ``ADD``.
- Event ids are fixed per lot (UUID 5), so the same data always gives the same events.

GS1: the plant's products have GTINs under the company prefix 4012345 (GS1's example prefix), item reference the
number of the product id (``P0001`` → 0 4012345 00001 6). A product whose id is a GTIN (imported from EPCIS) keeps it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from plant.db import Row
from sources import gs1, units

COMPANY_PREFIX = "4012345"
GLN = gs1.gtin_of(COMPANY_PREFIX, "00000")[1:]
"""The plant's party GLN (13 digits), which names its business transactions."""
CONTEXT: list[Any] = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
_PRODUCT = re.compile(r"P(\d{1,5})")
_NAMESPACE = uuid.UUID("5b0c2f5e-8b51-4a4f-9a2e-0d9f6f1c7a11")


def gtin_of_product(product_id: str) -> str | None:
    found = _PRODUCT.fullmatch(product_id)
    if found:
        return gs1.gtin_of(COMPANY_PREFIX, found.group(1).zfill(5))
    return product_id if re.fullmatch(r"\d{14}", product_id) else None


def epc_class(lot_id: str, product_id: str) -> str:
    """How events name a lot: the LGTIN URN of a plant product (Digital Link for other GTINs, whose company
    prefix length the plant does not know); the id itself for a lot that is not a GS1 lot."""
    gtin = gtin_of_product(product_id)
    if gtin is None or ":" in lot_id:
        return lot_id
    try:
        code = gs1.GS1Lot(gtin, gs1.check_lot_number(lot_id))
        return code.epc_class(len(COMPANY_PREFIX)) if gtin[1:8] == COMPANY_PREFIX else code.digital_link()
    except gs1.IdentifierError:
        return lot_id


def _event_id(kind: str, lot_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{lot_id}')}"


def _place(plant: str) -> dict[str, str]:
    return {"id": plant if ":" in plant else f"urn:lotgraph:plant:{plant}"}


def _ilmd(lot_id: str) -> dict[str, Any]:
    return {} if ":" in lot_id else {"ilmd": {"cbvmda:lotNumber": lot_id}}


def quantity(epc: str, amount: float | None, uom: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": epc}
    if amount is not None:
        element["quantity"] = amount
        if uom:
            element["uom"] = units.code_of(uom)
    return element


def transformation(lot: Row, inputs: list[tuple[Row, str]]) -> dict[str, Any]:
    """The event that made ``lot`` from ``inputs`` (each a genealogy row and the input lot's EPC class)."""
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventID": _event_id("transformation", lot["id"]),
        "eventTime": inputs[0][0]["occurred_at"],
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [quantity(epc, row["quantity"], row["uom"]) for row, epc in inputs],
        "outputQuantityList": [quantity(epc_class(lot["id"], lot["product_id"]), lot["quantity"], lot["uom"])],
        "bizStep": "commissioning",
        "disposition": "active",
        "bizLocation": _place(lot["plant"]),
        **_ilmd(lot["id"]),
    }
    order = lot["work_order_id"] or inputs[0][0]["work_order_id"]
    if order:
        event["bizTransactionList"] = [{"type": "prodorder", "bizTransaction": f"urn:epcglobal:cbv:bt:{GLN}:{order}"}]
    return event


def commissioning(lot: Row) -> dict[str, Any]:
    """The event that brought a lot made from nothing into being (received raw material, a lot seen only as input)."""
    return {
        "type": "ObjectEvent",
        "eventID": _event_id("object", lot["id"]),
        "eventTime": lot["produced_at"],
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "quantityList": [quantity(epc_class(lot["id"], lot["product_id"]), lot["quantity"], lot["uom"])],
        "bizStep": "commissioning",
        "disposition": "active",
        "bizLocation": _place(lot["plant"]),
        **_ilmd(lot["id"]),
    }


def query_document(events: list[dict[str, Any]], created: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}},
    }
