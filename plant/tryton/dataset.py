"""A realistic data set loaded into Tryton through its own API (proteus, in process), and its manifest.

Raw-material lots are received by an inventory; productions over several levels (raw → intermediate → blend →
finished) consume them lot by lot through Tryton's own workflow (wait, assign, run, do); finished lots are
inspected (passed, pending, failed with an open alert, failed and resolved); sales go through quotation,
confirmation and processing to customer shipments in every state, their lots reserved by ``assign_try``; some lots
are put on hold the way lotgraph's Tryton adapters do it (a hold inspection with its alert, the lot's stock moved to
quarantine by an internal shipment). Same seed and size give the same data.

Run in its own process (``python -m plant.tryton load``): proteus configures trytond globally.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sources.tryton.mapping import (
    HOLD_CONTROL,
    HOLD_POINT,
    QUARANTINE_CODE,
    hold_description,
    hold_title,
    move_reference,
)

KG = "kg"


def hold_control(model: Any) -> Any:
    """The control of lotgraph's hold inspections: one boolean point, false on a hold, so processing fails it."""
    Control = model.get("quality.control")
    control = Control(name=HOLD_CONTROL)
    point = control.points.new()
    point.name, point.string, point.type_ = HOLD_POINT, "Stock may be used", "boolean"
    control.save()
    return control


def load(config_file: str, database: str, *, seed: int = 7, lots: int = 60) -> dict[str, Any]:
    from proteus import config as proteus_config

    proteus_config.set_trytond(database=database, config_file=config_file)
    return _Loader(random.Random(seed), lots).run()


class _Loader:
    def __init__(self, rng: random.Random, lots: int) -> None:
        self.rng = rng
        self.size = max(lots, 40)
        self.today = dt.date.today()
        self.manifest: dict[str, Any] = {"demo": {}, "lots": {}, "shipments": {}, "orders": {}}

    def run(self) -> dict[str, Any]:
        from proteus import Model

        self.company = self._company()
        self.Model = Model
        self._numbering()
        self.kg = Model.get("product.uom").find([("symbol", "=", KG)])[0]
        Location = Model.get("stock.location")
        self.warehouse = Location.find([("code", "=", "WH")])[0]
        self.storage = Location.find([("code", "=", "STO")])[0]
        self.quarantine = self._quarantine()
        self.customers = self._customers()
        self.products = self._products()
        raw = self._receive_raw()
        levels = self._produce(raw)
        self._inspect(levels[-1])
        self._sales(levels[-1])
        self._holds()
        counts = self.manifest.setdefault("counts", {})
        counts["lots"] = len(raw) + sum(len(level) for level in levels)
        counts["levels"] = len(levels)
        self._demo(raw, levels)
        return self.manifest

    def _demo(self, raw: list[Any], levels: list[list[Any]]) -> None:
        """Ids to try, as the reference plant's manifest names them."""
        shipments, lots = self.manifest["shipments"], self.manifest["lots"]
        self.manifest["demo"] = {
            "order": self.manifest["orders"]["packed"][0],
            "shipment_ready": shipments["packed"][0],
            "shipment_blocked": shipments["packed-hold"][0],
            "lot_backward": levels[-1][0].number,
            "lot_forward": raw[0].number,
            "lot_recall": raw[1].number,
            "hold_shipment": shipments["packed"][-1],
            "hold_lot": self.manifest["shipment_lots"][shipments["packed"][-1]],
        }
        self.manifest["counts"].update(
            orders=sum(len(v) for v in self.manifest["orders"].values()),
            shipments=sum(len(v) for v in shipments.values()),
            quarantined=len(lots.get("quarantined", [])),
        )

    # -- master data ------------------------------------------------------------------------------------------

    def _company(self) -> Any:
        from proteus import Model
        from trytond.modules.account.tests.tools import create_chart
        from trytond.modules.company.tests.tools import create_company, get_company

        party = Model.get("party.party")(name="Lotgraph Demo Foods")
        party.save()
        create_company(party=party, currency="EUR")
        company = get_company()
        create_chart(company)
        employee = Model.get("company.employee")(party=party, company=company)
        employee.save()
        (user,) = Model.get("res.user").find([("login", "=", "admin")])  # id 1 on SQLite, not on PostgreSQL
        user.employees.append(employee)
        user.employee = employee
        user.save()
        return company

    def _numbering(self) -> None:
        """Numbers people can tell apart: SO-00001 for sales, DL- for customer shipments, MO- for productions,
        QI- and QA- for inspections and alerts."""
        prefixes = {
            ("sale.configuration", "sale_sequence"): "SO-",
            ("stock.configuration", "shipment_out_sequence"): "DL-",
            ("production.configuration", "production_sequence"): "MO-",
            ("quality.configuration", "inspection_sequence"): "QI-",
            ("quality.configuration", "alert_sequence"): "QA-",
        }
        for (model, field), prefix in prefixes.items():
            sequence = getattr(self.Model.get(model)(1), field)
            sequence.prefix, sequence.padding = prefix, 5
            sequence.save()

    def _quarantine(self) -> Any:
        Location = self.Model.get("stock.location")
        location = Location(name="Quarantine", code=QUARANTINE_CODE, type="storage", parent=self.warehouse)
        location.save()
        return location

    def _customers(self) -> list[Any]:
        Party = self.Model.get("party.party")
        names = ["Alpine Bakeries", "Baltic Foods", "Cerro Distribución", "Delta Retail", "Elbe Markt"]
        parties = [Party(name=name, code=f"C-{i + 1:03d}") for i, name in enumerate(names)]
        Party.save(parties)
        return parties

    def _products(self) -> dict[str, list[Any]]:
        Template = self.Model.get("product.template")
        Category = self.Model.get("product.category")
        accounts = Category(name="Goods", accounting=True)
        accounts.save()
        specs = {
            "raw": [("RM-FLOUR", "Wheat flour"), ("RM-SUGAR", "Cane sugar"), ("RM-COCOA", "Cocoa powder")],
            "mix": [("IM-DOUGH", "Dough base"), ("IM-CREAM", "Cocoa cream")],
            "blend": [("IM-FILL", "Filled dough")],
            "finished": [("FG-BISCUIT", "Cocoa biscuits"), ("FG-WAFER", "Cocoa wafers")],
        }
        products: dict[str, list[Any]] = {}
        for level, items in specs.items():
            templates = []
            for code, name in items:
                template = Template(name=name, code=code, type="goods", default_uom=self.kg)
                template.list_price = Decimal("4")
                template.producible = level != "raw"
                template.salable = level == "finished"
                template.lot_required = ["storage"]
                template.shelf_life_state = "optional"
                templates.append(template)
            Template.save(templates)
            products[level] = [t.products[0] for t in templates]
        return products

    # -- lots and productions -----------------------------------------------------------------------------------

    def _lot(self, product: Any, number: str) -> Any:
        lot = self.Model.get("stock.lot")(product=product, number=number)
        return lot

    def _receive_raw(self) -> list[Any]:
        Lot = self.Model.get("stock.lot")
        count = max(self.size // 4, 8)
        lots = [self._lot(self.products["raw"][i % 3], f"RM-{i + 1:04d}") for i in range(count)]
        Lot.save(lots)
        Inventory = self.Model.get("stock.inventory")
        inventory = Inventory(location=self.storage, date=self.today - dt.timedelta(days=30))
        for lot in lots:
            line = inventory.lines.new()
            line.product = lot.product
            line.lot = lot
            line.quantity = 100.0
        inventory.click("confirm")
        self.stock = {lot.number: 100.0 for lot in lots}
        return lots

    def _produce(self, raw: list[Any]) -> list[list[Any]]:
        """Three production levels; each production takes two or three input lots and makes one or two lots."""
        rest = self.size - len(raw)
        plan = [("mix", "IM", rest * 3 // 10, 20.0), ("blend", "BL", rest // 6, 10.0), ("finished", "FG", 0, 5.0)]
        plan[2] = ("finished", "FG", rest - plan[0][2] - plan[1][2], 5.0)
        levels: list[list[Any]] = []
        inputs = raw
        for index, (kind, prefix, count, take) in enumerate(plan):
            outputs = self._productions(kind, prefix, count, inputs, take, days_ago=20 - index * 6)
            levels.append(outputs)
            inputs = outputs
        self.manifest["lots"].update(
            raw=[lot.number for lot in raw[:3]],
            finished=[lot.number for lot in levels[-1][:3]],
        )
        return levels

    def _productions(
        self, kind: str, prefix: str, count: int, inputs: list[Any], take: float, *, days_ago: int
    ) -> list[Any]:
        Production, Lot = self.Model.get("production"), self.Model.get("stock.lot")
        productions, made = [], []
        serial = 0
        while serial < count:
            product = self.rng.choice(self.products[kind])
            pool = [lot for lot in inputs if self.stock[lot.number] >= take]
            if len(pool) < 2:
                break  # the level below is used up: fewer lots at this level
            chosen = self.rng.sample(pool, min(len(pool), self.rng.choice((2, 2, 3))))
            outs = min(count - serial, 2 if self.rng.random() < 0.2 else 1)
            production = Production(
                product=product, quantity=take * len(chosen), unit=self.kg, warehouse=self.warehouse
            )
            production.planned_date = production.planned_start_date = self.today - dt.timedelta(days=days_ago)
            for lot in chosen:
                move = production.inputs.new()
                move.product, move.lot, move.unit, move.quantity = lot.product, lot, self.kg, take
                self.stock[lot.number] -= take
            lots = [self._lot(product, f"{prefix}-{serial + i + 1:04d}") for i in range(outs)]
            Lot.save(lots)
            for lot in lots:
                move = production.outputs.new()
                move.product, move.lot, move.unit = product, lot, self.kg
                move.quantity = take * len(chosen) / outs
                move.unit_price, move.currency = Decimal("1"), self.company.currency
                self.stock[lot.number] = move.quantity
            serial += outs
            productions.append(production)
            made.extend(lots)
        Production.save(productions)
        for button in ("wait", "assign_try", "run", "do"):
            Production.click(productions, button)
        self.productions = getattr(self, "productions", {})
        for production in productions:
            for move in production.outputs:
                self.productions[move.lot.number] = production
        return made

    def _inspect(self, finished: list[Any]) -> None:
        """A release inspection (a pH point) per finished lot's production: passed, except one pending, one failed
        with an open alert (the lot is ON_HOLD, with an open deviation) and one failed and resolved (REJECTED)."""
        Control, Inspection = self.Model.get("quality.control"), self.Model.get("quality.inspection")
        control = Control(name="Release test", company=self.company)
        point = control.points.new()
        point.name, point.string, point.type_ = "ph", "pH", "float"
        point.tolerance_lower, point.tolerance_upper = 6.5, 7.5
        control.save()
        self.hold_control = hold_control(self.Model)
        done: dict[int, Any] = {}
        for lot in finished:
            production = self.productions[lot.number]
            if production.id not in done:
                done[production.id] = Inspection(control=control, origin=production, points={"ph": 7.0})
        inspections = list(done.values())
        special = {"pending": inspections[0], "alert": inspections[1], "rejected": inspections[2]}
        special["alert"].points = special["rejected"].points = {"ph": 8.2}
        Inspection.save(inspections)
        Inspection.click([i for i in inspections if i is not special["pending"]], "process")
        Alert = self.Model.get("quality.alert")
        for name in ("alert", "rejected"):
            special[name].reload()
            alert = special[name].alerts[0]
            alert.title = "pH out of tolerance"
            alert.save()
        rejected = special["rejected"].alerts[0]
        Alert.click([rejected], "process")
        Alert.click([rejected], "resolve")
        self.manifest["lots"].update(
            {name: [m.lot.number for m in inspection.origin.outputs] for name, inspection in special.items()}
        )
        self.special_lots = {n for numbers in self.manifest["lots"].values() for n in numbers}

    # -- sales and shipments ----------------------------------------------------------------------------------

    def _sales(self, finished: list[Any]) -> None:
        Sale = self.Model.get("sale.sale")
        free = [lot for lot in finished if lot.number not in self.special_lots and self.stock[lot.number] >= 2]
        plan = ["quotation", "cancelled", "confirmed-waiting", "assigned", "picked", "packed", "packed", "packed"]
        plan += ["packed-hold", "packed-hold2", "packed-pending", "packed-alert", "shipped", "done", "done"]
        plan += ["assigned"] * 4 + ["waiting"] * 2
        own_lot = ("quotation", "cancelled", "packed-pending", "packed-alert")
        spare = len(free) - sum(1 for step in plan if step not in own_lot)
        plan += ["packed", "assigned", "picked", "done"] * min(max(0, spare // 4), 6)  # sales cost time: a few more
        plan = plan[: len(own_lot) + len(free)]  # a small data set keeps the first steps, one free lot each
        sales = []
        for index, step in enumerate(plan):
            sale = Sale(party=self.customers[index % len(self.customers)], invoice_method="manual")
            sale.shipment_method = "order"
            sale.sale_date = self.today - dt.timedelta(days=5)
            line = sale.lines.new()
            line.product = self.rng.choice(self.products["finished"])
            line.quantity = 2.0
            sale.shipping_date = self.today + dt.timedelta(days=index % 4)
            sales.append((step, sale))
        Sale.save([s for _, s in sales])
        Sale.click([s for _, s in sales], "quote")
        Sale.click([s for step, s in sales if step == "cancelled"], "cancel")
        Sale.click([s for step, s in sales if step not in ("quotation", "cancelled")], "confirm")
        lots = {
            "packed-pending": self.manifest["lots"]["pending"][0],
            "packed-alert": self.manifest["lots"]["alert"][0],
        }
        for step, sale in sales:
            sale.reload()
            self.manifest["orders"].setdefault(step, []).append(sale.number)
            if not sale.shipments:
                continue
            number = lots.get(step) or free.pop(0).number
            self._ship(sale.shipments[0], number, step)

    def _ship(self, shipment: Any, lot_number: str, step: str) -> None:
        Lot = self.Model.get("stock.lot")
        lot = Lot.find([("number", "=", lot_number)])[0]
        self.manifest["shipments"].setdefault(step, []).append(shipment.number)
        self.manifest.setdefault("shipment_lots", {})[shipment.number] = lot_number
        if step in ("confirmed-waiting", "waiting"):
            return
        for move in shipment.inventory_moves:
            move.lot = lot
            move.product = lot.product  # the line's product may differ: keep shipment and lot consistent
        for move in shipment.outgoing_moves:
            move.product = lot.product
        shipment.save()
        shipment.click("assign_try")
        for button, states in (("pick", "picked packed shipped done"), ("pack", "packed shipped done")):
            if step.split("-")[0] in states.split():
                shipment.click(button)
        if step in ("shipped", "done"):
            shipment.click("ship")
        if step == "done":
            shipment.click("do")
        if step.startswith("packed-hold"):
            self.to_hold = [*getattr(self, "to_hold", []), lot_number]

    # -- holds --------------------------------------------------------------------------------------------------

    def _holds(self) -> None:
        """Holds as lotgraph places them: a failed hold inspection with its alert, and the lot's unreserved
        storage stock moved to quarantine by a done internal shipment."""
        from proteus.config import get_config

        Inspection = self.Model.get("quality.inspection")
        Shipment, Lot = self.Model.get("stock.shipment.internal"), self.Model.get("stock.lot")
        held = getattr(self, "to_hold", [])
        for index, number in enumerate(held):
            key = f"seed-hold-{index}"
            inspection = Inspection(control=self.hold_control, reference=number, points={HOLD_POINT: False})
            alert = inspection.alerts.new()
            alert.title = hold_title("SUSPECTED_CONTAMINATION")
            alert.description = hold_description("supplier notice", key=key, placed_by="qa.lead")
            inspection.save()
            inspection.click("process")
            lot = Lot.find([("number", "=", number)])[0]
            with get_config().set_context(locations=[self.storage.id], stock_assign=True):
                available = Lot(lot.id).quantity
            if available <= 0:
                continue
            shipment = Shipment(from_location=self.storage, to_location=self.quarantine)
            shipment.reference = move_reference("block", key)
            move = shipment.moves.new()
            move.product, move.lot, move.unit, move.quantity = lot.product, lot, self.kg, available
            move.from_location, move.to_location = self.storage, self.quarantine
            shipment.save()
            for button in ("wait", "assign_try", "do"):
                shipment.click(button)
        self.manifest["lots"]["quarantined"] = held
