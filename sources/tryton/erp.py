"""ERP port over Tryton: sales (``sale.sale``), customer shipments (``stock.shipment.out``), parties, products.

One JSON-RPC ``search_read`` per kind and step, with dotted field paths for the related records. The field map and
state mappings are written down in docs/sources.md ("Connecting Tryton") and ``sources/tryton/mapping.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sources.cache import MasterDataCache
from sources.combined import ExpandedShipment
from sources.errors import SourceRejected
from sources.http import group_by
from sources.records import (
    Customer,
    LotAssignment,
    OrderLine,
    OrderStatus,
    Page,
    Product,
    SalesOrder,
    Shipment,
    ShipmentFilter,
    ShipmentLine,
)
from sources.resilience import Health
from sources.tryton.client import Domain, TrytonRpc
from sources.tryton.mapping import SALE_STATUS, SHIPMENT_STATUS
from sources.tryton.paging import keyset_page
from sources.tryton.rows import SHIPMENT_MOVE_FIELDS, MoveLine, Rows, index, move_lines, rows

SALE_FIELDS = [
    "number",
    "state",
    "party.code",
    "sale_date",
    "shipping_date",
    "write_date",
    "lines.type",
    "lines.sequence",
    "lines.product.code",
    "lines.quantity",
    "lines.unit.symbol",
    "shipments.number",
]
CREDIT_FIELDS = ["party.credit_amount", "party.credit_limit_amount"]
SHIPMENT_FIELDS = [
    "number",
    "state",
    "customer.code",
    "warehouse.code",
    "planned_date",
    "effective_date",
    "outgoing_moves.sale.number",
    *SHIPMENT_MOVE_FIELDS,
]

CUSTOMER_FIELDS = ["code", "name", "addresses.country.code"]
PRODUCT_FIELDS = ["code", "template.name", "default_uom.symbol", "template.shelf_life_time"]


class TrytonErp(MasterDataCache):
    """``ErpPort`` over a Tryton database with the ``sale`` and ``stock_lot`` modules."""

    def __init__(self, rpc: TrytonRpc, *, cache_ttl: float) -> None:
        super().__init__(cache_ttl)
        self.rpc = rpc
        self.name = rpc.name
        self._credit_limit: bool | None = None

    def health(self) -> Health:
        return self.rpc.health()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    # -- master data ---------------------------------------------------------------------------------------------

    async def _fetch_customers(self, ids: list[str]) -> dict[str, Customer]:
        if not ids:
            return {}
        found = await self.rpc.search_read("party.party", [("code", "in", ids)], CUSTOMER_FIELDS)
        return index((_customer(r) for r in rows(self.name, found)), lambda c: c.id)

    async def _fetch_products(self, ids: list[str]) -> dict[str, Product]:
        if not ids:
            return {}
        found = await self.rpc.search_read("product.product", [("code", "in", ids)], PRODUCT_FIELDS)
        return index((_product(r) for r in rows(self.name, found)), lambda p: p.id)

    # -- orders --------------------------------------------------------------------------------------------------

    async def orders(self, ids: Iterable[str]) -> dict[str, SalesOrder]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = await self.rpc.search_read("sale.sale", [("number", "in", wanted)], await self._sale_fields())
        return index((self._order(r) for r in rows(self.name, found)), lambda o: o.id)

    async def search_orders(
        self, *, status: OrderStatus | None, customer_id: str | None, limit: int, after: str | None
    ) -> Page[SalesOrder]:
        domain: Domain = [("number", "!=", None)]
        if status is not None:
            domain.append(("state", "in", [s for s, mapped in SALE_STATUS.items() if mapped is status]))
        if customer_id is not None:
            domain.append(("party.code", "=", customer_id))
        page = await keyset_page(self.rpc, "sale.sale", domain, await self._sale_fields(), limit=limit, after=after)
        return Page([self._order(r) for r in rows(self.name, page.items)], page.total, page.has_more)

    async def _sale_fields(self) -> list[str]:
        """The sale fields to read; the credit fields only when ``sale_credit_limit`` is activated (asked once)."""
        if self._credit_limit is None:
            domain = [("name", "=", "sale_credit_limit"), ("state", "=", "activated")]
            try:
                self._credit_limit = await self.rpc.search_count("ir.module", domain) > 0
            except SourceRejected:  # a user who may not read the module list: no credit block is read
                self._credit_limit = False
        return SALE_FIELDS + CREDIT_FIELDS if self._credit_limit else SALE_FIELDS

    def _order(self, r: Rows) -> SalesOrder:
        limit = r.get("party.credit_limit_amount")
        amount = r.get("party.credit_amount")
        credit_block = isinstance(limit, float | int) and isinstance(amount, float | int) and amount > limit
        lines = [line for line in r.children("lines") if line.get("type") == "line"]
        return SalesOrder(
            id=r.text("number"),
            customer_id=r.text("party.code"),
            status=SALE_STATUS.get(str(r.get("state")), OrderStatus.CREATED),
            order_date=r.opt_date("sale_date"),
            requested_date=r.opt_date("shipping_date"),
            credit_block=credit_block,
            credit_block_since=r.changed_at if credit_block else None,
            delivery_block=False,
            delivery_block_reason=None,
            delivery_block_since=None,
            lines=tuple(
                OrderLine(n, line.text("product.code"), line.number("quantity"), line.text("unit.symbol"))
                for n, line in enumerate(lines, start=1)
            ),
            shipment_ids=tuple(s.text("number") for s in r.children("shipments") if s.get("number")),
        )

    # -- shipments -----------------------------------------------------------------------------------------------

    async def shipments(self, ids: Iterable[str]) -> dict[str, Shipment]:
        return index(await self._shipments([("number", "in", list(dict.fromkeys(ids)))]), lambda s: s.id)

    async def shipments_expanded(self, ids: Iterable[str]) -> dict[str, ExpandedShipment]:
        """One read: the shipments with their customer, and through their outgoing moves their products and sale
        (dotted field paths; Tryton reads the related records in the same call)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        related = [f"customer.{f}" for f in CUSTOMER_FIELDS] + [f"outgoing_moves.product.{f}" for f in PRODUCT_FIELDS]
        related += [f"outgoing_moves.sale.{f}" for f in await self._sale_fields()]
        domain = [("number", "!=", None), ("number", "in", wanted)]
        found = await self.rpc.search_read("stock.shipment.out", domain, SHIPMENT_FIELDS + related)
        return index((self._expanded(r) for r in rows(self.name, found)), lambda x: x.shipment.id)

    def _expanded(self, r: Rows) -> ExpandedShipment:
        shipment = self._shipment(r)
        moves = r.children("outgoing_moves")
        sales = [m.link("sale") for m in moves if m.get("sale.number") == shipment.order_id]
        products = {p.text("code"): p for m in moves if (p := m.link("product")).get("code")}
        return ExpandedShipment(
            shipment,
            self._order(sales[0]) if sales else None,
            _customer(r.link("customer")) if r.get("customer.name") else None,
            tuple(_product(products[p]) for p in dict.fromkeys(x.product_id for x in shipment.lines) if p in products),
        )

    async def shipments_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Shipment]]:
        found = await self._shipments([("moves.sale.number", "in", list(dict.fromkeys(order_ids)))])
        return group_by(found, lambda s: s.order_id)

    async def shipments_by_lot(self, lot_ids: Iterable[str]) -> list[Shipment]:
        return await self._shipments([("moves.lot.number", "in", list(dict.fromkeys(lot_ids)))])

    async def search_shipments(self, where: ShipmentFilter, *, limit: int, after: str | None) -> Page[Shipment]:
        domain = shipment_domain(where)
        page = await keyset_page(self.rpc, "stock.shipment.out", domain, SHIPMENT_FIELDS, limit=limit, after=after)
        return Page([self._shipment(r) for r in rows(self.name, page.items)], page.total, page.has_more)

    async def _shipments(self, domain: Domain) -> list[Shipment]:
        if any(isinstance(c, tuple) and c[1] == "in" and not c[2] for c in domain):
            return []
        found = await self.rpc.search_read("stock.shipment.out", [("number", "!=", None), *domain], SHIPMENT_FIELDS)
        return [self._shipment(r) for r in rows(self.name, found)]

    def _shipment(self, r: Rows) -> Shipment:
        orders = [m.opt_text("sale.number") for m in r.children("outgoing_moves")]
        return Shipment(
            id=r.text("number"),
            order_id=next((o for o in orders if o), ""),
            customer_id=r.text("customer.code"),
            status=SHIPMENT_STATUS[str(r.get("state"))],
            warehouse=r.opt_text("warehouse.code"),
            ship_date=r.opt_date("planned_date"),
            shipped_at=r.opt_datetime("effective_date") if r.get("state") in ("shipped", "done") else None,
            lines=tuple(_line(line) for line in move_lines(r)),
        )


def shipment_domain(where: ShipmentFilter) -> Domain:
    domain: Domain = []
    if where.ids is not None:
        domain.append(("number", "in", where.ids))
    if where.statuses:
        domain.append(("state", "in", [s for s, mapped in SHIPMENT_STATUS.items() if mapped in where.statuses]))
    if where.customer_id is not None:
        domain.append(("customer.code", "=", where.customer_id))
    if where.ship_date_from is not None:
        domain.append(("planned_date", ">=", where.ship_date_from))
    if where.ship_date_to is not None:
        domain.append(("planned_date", "<=", where.ship_date_to))
    return domain


def _line(line: MoveLine) -> ShipmentLine:
    move = line.outgoing
    lots: dict[str, float] = {}
    for inventory in line.inventory:
        if number := inventory.opt_text("lot.number"):
            lots[number] = lots.get(number, 0.0) + inventory.number("quantity")
    if not lots and (own := move.opt_text("lot.number")):
        lots[own] = move.number("quantity")
    return ShipmentLine(
        line_no=line.line_no,
        order_line_no=None,
        product_id=move.text("product.code"),
        quantity=move.number("quantity"),
        uom=move.text("unit.symbol"),
        lots=tuple(LotAssignment(lot, quantity) for lot, quantity in lots.items()),
    )


def _customer(r: Rows) -> Customer:
    countries = [a.opt_text("country.code") for a in r.children("addresses")]
    return Customer(
        id=r.text("code"),
        name=r.text("name"),
        country=next((c for c in countries if c), ""),
        coa_required=False,
    )


def _product(r: Rows) -> Product:
    shelf_life = r.get("template.shelf_life_time")
    return Product(
        id=r.text("code"),
        name=r.text("template.name"),
        uom=r.text("default_uom.symbol"),
        coa_required=False,
        shelf_life_days=shelf_life if isinstance(shelf_life, int) and shelf_life > 0 else None,
    )
