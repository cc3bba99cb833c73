"""Lots another site shipped, received into the Tryton data set as raw material and made into this site's lots.

``lotgraph demo --sites 2 --tryton`` (docs/sites.md) runs site b on Tryton, where some of site a's finished lots
arrive: one supplier shipment (``stock.shipment.in``) from a supplier party whose code is a's supplier code, a
lot under a's lot number on each incoming move, received and done the way a warehouse does it; then productions
consume them (two received lots into one intermediate lot, ``IM-R…``, and the intermediates into one finished lot,
``FG-R0001``), so a trace crosses from a's genealogy into Tryton's. Loaded in the data set's process, after it
(``python -m plant.tryton load --receive``); the manifest gains ``received`` and every lot's product
(``lot_products``, for a QMS beside Tryton).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

RECEIVED_KG = 50.0
"""Kilograms of each received lot; productions take 20 of each, so stock of every received lot stays."""
BASE_CODE = "RM-BASE"
"""The raw material the received lots are at this site (the product this site buys from the other)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """Lots (``lots``: the shipping site's lot numbers) received from the supplier with code ``supplier``."""

    supplier: str
    lots: tuple[str, ...]

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, raw: str) -> Receipt:
        data = json.loads(raw)
        return cls(str(data["supplier"]), tuple(str(lot) for lot in data["lots"]))


def receive(receipt: Receipt) -> dict[str, Any]:
    """Receive and consume the lots (proteus configured, in process); what to add to the manifest."""
    from proteus import Model
    from trytond.modules.company.tests.tools import get_company

    company = get_company()
    kg = Model.get("product.uom").find([("symbol", "=", "kg")])[0]
    Location = Model.get("stock.location")
    supplier_zone, input_zone = Location.find([("code", "=", "SUP")])[0], Location.find([("code", "=", "IN")])[0]
    party = Model.get("party.party")(name=f"Plant {receipt.supplier}", code=receipt.supplier)
    party.save()
    base = _base_product(Model, kg)
    Lot = Model.get("stock.lot")
    lots = [Lot(product=base, number=number) for number in receipt.lots]
    Lot.save(lots)
    shipment = Model.get("stock.shipment.in")(supplier=party)
    for lot in lots:
        move = shipment.incoming_moves.new()
        move.product, move.lot, move.unit, move.quantity = base, lot, kg, RECEIVED_KG
        move.from_location, move.to_location = supplier_zone, input_zone
        move.unit_price, move.currency = Decimal("2"), company.currency
    shipment.save()
    shipment.click("receive")
    shipment.click("do")
    warehouse = Location.find([("code", "=", "WH")])[0]
    pairs = [lots[i : i + 2] for i in range(0, len(lots), 2)]
    intermediate = _produce(Model, (kg, company, warehouse), "IM-DOUGH", "IM-R", pairs)
    finished = _produce(Model, (kg, company, warehouse), "FG-BISCUIT", "FG-R", [intermediate] if intermediate else [])
    products = {lot.number: lot.product.code for lot in Lot.find([])}
    made = [lot.number for lot in intermediate + finished]
    received = {"supplier": receipt.supplier, "lots": list(receipt.lots), "shipment": shipment.number, "made": made}
    return {"received": received, "lot_products": products}


def _base_product(Model: Any, kg: Any) -> Any:
    template = Model.get("product.template")(name="Biscuit base (bought in)", code=BASE_CODE, type="goods")
    template.default_uom, template.list_price = kg, Decimal("3")
    template.producible = template.salable = False
    template.lot_required = ["storage"]
    template.save()
    return template.products[0]


def _produce(
    Model: Any, where: tuple[Any, Any, Any], product_code: str, prefix: str, groups: list[list[Any]]
) -> list[Any]:
    """One production per group of input lots (20 kg of each, 10 of intermediates), each making one lot
    ``<prefix><n>``."""
    kg, company, warehouse = where
    Production, Lot = Model.get("production"), Model.get("stock.lot")
    product = Model.get("product.product").find([("code", "=", product_code)])[0]
    take = 20.0 if prefix == "IM-R" else 10.0
    productions, made = [], []
    for serial, group in enumerate(groups, start=1):
        production = Production(product=product, quantity=take * len(group), unit=kg, warehouse=warehouse)
        for lot in group:
            move = production.inputs.new()
            move.product, move.lot, move.unit, move.quantity = lot.product, lot, kg, take
        lot = Lot(product=product, number=f"{prefix}{serial:04d}")
        lot.save()
        move = production.outputs.new()
        move.product, move.lot, move.unit, move.quantity = product, lot, kg, take * len(group)
        move.unit_price, move.currency = Decimal("1"), company.currency
        productions.append(production)
        made.append(lot)
    if productions:
        Production.save(productions)
        for button in ("wait", "assign_try", "run", "do"):
            Production.click(productions, button)
    return made
