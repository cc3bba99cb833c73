"""Custody over Tryton: the done stock moves of the lots out to a customer (shipping) or in from a supplier
(receiving), with the shipments they belong to.

One call for the moves of all the lots, then one per shipment kind for the shipments they name (number, customer or
supplier, warehouse). Parties and places are Tryton's codes (``C-004``, ``WH``, ``CUS``): Tryton keeps no GLNs. The
date is the move's effective date (midnight UTC: Tryton keeps no time of day); the event id
``tryton:stock.move,<id>``. Tryton keeps no containers (no SSCC): the answer says so (``containers=False``).
"""

from __future__ import annotations

import asyncio

from sources.custody import Custody, CustodyEvent
from sources.tryton.client import TrytonRpc
from sources.tryton.rows import Rows, reference_id, rows

MOVE_FIELDS = [
    "lot.number",
    "quantity",
    "unit.symbol",
    "effective_date",
    "shipment",
    "from_location.type",
    "from_location.code",
    "to_location.type",
    "to_location.code",
]
OUT, IN = "stock.shipment.out", "stock.shipment.in"
SHIPMENT_FIELDS = {
    OUT: ["number", "customer.code", "warehouse.code"],
    IN: ["number", "supplier.code", "warehouse.code"],
}


async def custody(rpc: TrytonRpc, lot_numbers: list[str]) -> dict[str, Custody]:
    if not lot_numbers:
        return {}
    domain = [
        ("lot.number", "in", lot_numbers),
        ("state", "=", "done"),
        ["OR", ("to_location.type", "=", "customer"), ("from_location.type", "=", "supplier")],
    ]
    moves = rows(rpc.name, await rpc.search_read("stock.move", domain, MOVE_FIELDS, order=[("id", "ASC")]))
    shipments = await _shipments(rpc, moves)
    found: dict[str, list[CustodyEvent]] = {}
    for move in moves:
        event = _event(move, shipments)
        if event is not None:
            found.setdefault(event.lot_id, []).append(event)
    return {  # every lot asked: each answer must say that Tryton keeps no containers
        lot: Custody(tuple(sorted(found.get(lot, []), key=lambda e: e.at)), (), containers=False) for lot in lot_numbers
    }


async def _shipments(rpc: TrytonRpc, moves: list[Rows]) -> dict[tuple[str, int], Rows]:
    wanted = {
        model: sorted({i for m in moves if (i := reference_id(m.get("shipment"), model)) is not None})
        for model in (OUT, IN)
    }
    asked = [(model, ids) for model, ids in wanted.items() if ids]
    answers = await asyncio.gather(
        *(rpc.search_read(model, [("id", "in", ids)], SHIPMENT_FIELDS[model]) for model, ids in asked)
    )
    return {
        (model, r.ident()): r for (model, _), found in zip(asked, answers, strict=True) for r in rows(rpc.name, found)
    }


def _event(move: Rows, shipments: dict[tuple[str, int], Rows]) -> CustodyEvent | None:
    at = move.opt_datetime("effective_date")
    if at is None:
        return None
    shipping = move.get("to_location.type") == "customer"
    model = OUT if shipping else IN
    ident = reference_id(move.get("shipment"), model)
    shipment = shipments.get((model, ident)) if ident is not None else None
    warehouse = shipment.opt_text("warehouse.code") if shipment else None
    party = shipment.opt_text("customer.code" if shipping else "supplier.code") if shipment else None
    return CustodyEvent(
        lot_id=move.text("lot.number"),
        event_id=f"tryton:stock.move,{move.ident()}",
        at=at,
        biz_step="shipping" if shipping else "receiving",
        disposition="in_transit" if shipping else "in_progress",
        from_party=None if shipping else party,
        from_location=(warehouse or move.opt_text("from_location.code")) if shipping else None,
        to_party=party if shipping else None,
        to_location=move.opt_text("to_location.code") if shipping else (warehouse or move.opt_text("to_location.code")),
        biz_location=warehouse,
        read_point=None,
        container=None,
        quantity=move.number("quantity"),
        uom=move.opt_text("unit.symbol"),
        reference_type=("desadv" if shipping else "recadv") if shipment else None,
        reference=shipment.opt_text("number") if shipment else None,
    )
