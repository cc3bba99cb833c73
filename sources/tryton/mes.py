"""MES port over Tryton: lots (``stock.lot``) and genealogy from productions, one batched call per level.

An edge is an input move of a done production (its lot, quantity and unit) towards each output lot of that
production; ``work_order_id`` is the production's number. This is the same walk as Tryton's own
``stock.lot.trace`` (tests/tryton compare them), read one level for many lots at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from sources.cache import RecordCache
from sources.custody import Custody
from sources.errors import SourceRejected
from sources.records import GenealogyEdge, Lot, LotKind, Page
from sources.resilience import Health
from sources.tryton import custody
from sources.tryton.client import Domain, TrytonRpc
from sources.tryton.paging import keyset_page
from sources.tryton.rows import Rows, index, reference_id, rows

LOT_FIELDS = ["number", "product.code", "product.template.producible", "product.template.salable", "create_date"]
ORIGIN_FIELDS = [
    "lot.number",
    "quantity",
    "unit.symbol",
    "effective_date",
    "production_output.number",
    "production_output.warehouse.code",
    "to_location.parent.code",
    "from_location.type",
    "shipment",
]
RECEIPT = "stock.shipment.in"
"""A lot received from a supplier came in on a supplier shipment: its ``supplier`` party's code is the lot's
supplier (docs/sources.md, "Connecting Tryton"; a site's lots received at another site link through it)."""
INTO_FIELDS = [
    "lot.number",
    "production_output.number",
    "production_output.effective_date",
    "production_output.inputs.lot.number",
    "production_output.inputs.quantity",
    "production_output.inputs.unit.symbol",
    "production_output.inputs.state",
]
OUT_OF_FIELDS = [
    "lot.number",
    "quantity",
    "unit.symbol",
    "production_input.number",
    "production_input.effective_date",
    "production_input.outputs.lot.number",
    "production_input.outputs.state",
]
ORIGIN_LOCATIONS = ("production", "supplier", "lost_found")


def lot_kind(r: Rows) -> LotKind:
    """By the product: not producible is RAW, producible and salable FINISHED, producible only INTERMEDIATE."""
    if not r.get("product.template.producible"):
        return LotKind.RAW
    return LotKind.FINISHED if r.get("product.template.salable") else LotKind.INTERMEDIATE


KIND_DOMAIN: dict[LotKind, Domain] = {
    LotKind.RAW: [("product.template.producible", "=", False)],
    LotKind.INTERMEDIATE: [("product.template.producible", "=", True), ("product.template.salable", "=", False)],
    LotKind.FINISHED: [("product.template.producible", "=", True), ("product.template.salable", "=", True)],
}


class TrytonMes:
    """``MesPort`` over a Tryton database with ``stock_lot`` and ``production``."""

    def __init__(self, rpc: TrytonRpc, *, cache_ttl: float = 0.0) -> None:
        self.rpc = rpc
        self.name = rpc.name
        self._lots: RecordCache[Lot] = RecordCache(cache_ttl, maxsize=200_000)

    def health(self) -> Health:
        return self.rpc.health()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def lots(self, ids: Iterable[str]) -> dict[str, Lot]:
        return await self._lots.get_many(ids, self._fetch_lots)

    def invalidate(self, lot_ids: Iterable[str] | None = None) -> None:
        self._lots.invalidate(lot_ids)

    async def _fetch_lots(self, ids: list[str]) -> dict[str, Lot]:
        if not ids:
            return {}
        return index(await self._lots_of(rows(self.name, await self._read_lots([("number", "in", ids)]))), _id)

    async def _read_lots(self, domain: Domain) -> list[dict[str, object]]:
        return await self.rpc.search_read("stock.lot", domain, LOT_FIELDS)

    async def _lots_of(self, found: list[Rows]) -> list[Lot]:
        """Lots with what made or received them: one call for their origin moves (productions, receipts)."""
        numbers = [r.text("number") for r in found]
        domain = [("lot.number", "in", numbers), ("state", "=", "done")]
        domain.append(("from_location.type", "in", list(ORIGIN_LOCATIONS)))
        origins = rows(self.name, await self.rpc.search_read("stock.move", domain, ORIGIN_FIELDS)) if numbers else []
        by_lot: dict[str, list[Rows]] = {}
        for move in origins:
            by_lot.setdefault(move.text("lot.number"), []).append(move)
        suppliers = await self._suppliers(origins)
        return [self._lot(r, by_lot.get(r.text("number"), []), suppliers) for r in found]

    async def _suppliers(self, origins: list[Rows]) -> dict[int, str]:
        """Supplier shipment id → its supplier's code, for the origin moves received from a supplier: one more call,
        and only when some are (a Reference field's target fields cannot be read with the other origins')."""
        ids = {reference_id(m.get("shipment"), RECEIPT) for m in origins if m.get("from_location.type") == "supplier"}
        wanted = sorted(i for i in ids if i is not None)
        found = rows(self.name, await self.rpc.read(RECEIPT, wanted, ["supplier.code"])) if wanted else []
        return {r.ident(): code for r in found if (code := r.opt_text("supplier.code"))}

    def _lot(self, r: Rows, origins: list[Rows], suppliers: dict[int, str]) -> Lot:
        first = min(origins, key=lambda m: m.ident(), default=None)
        received = [reference_id(m.get("shipment"), RECEIPT) for m in origins]
        supplier = next((suppliers[i] for i in received if i is not None and i in suppliers), None)
        return Lot(
            id=r.text("number"),
            product_id=r.text("product.code"),
            kind=lot_kind(r),
            quantity=sum(m.number("quantity") for m in origins),
            uom=first.text("unit.symbol") if first else "",
            produced_at=(first.opt_datetime("effective_date") if first else None) or r.opt_datetime("create_date"),
            plant=_plant(first),
            work_order_id=first.opt_text("production_output.number") if first else None,
            supplier=supplier,
        )

    async def search_lots(
        self, *, product_id: str | None, plant: str | None, kind: LotKind | None, limit: int, after: str | None
    ) -> Page[Lot]:
        if plant is not None:
            raise SourceRejected(
                self.name, "Tryton cannot filter lots by plant", upstream_code="UNSUPPORTED_FILTER", status=400
            )
        domain: Domain = [("product.code", "=", product_id)] if product_id is not None else []
        domain += KIND_DOMAIN[kind] if kind is not None else []
        page = await keyset_page(self.rpc, "stock.lot", domain, LOT_FIELDS, limit=limit, after=after)
        return Page(await self._lots_of(rows(self.name, page.items)), page.total, page.has_more)

    async def edges_into(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """The inputs of the productions that made these lots: one call for the whole level."""
        numbers = list(dict.fromkeys(lot_ids))
        if not numbers:
            return {}
        domain = [("lot.number", "in", numbers), ("production_output", "!=", None), ("state", "=", "done")]
        edges: dict[str, list[GenealogyEdge]] = {}
        for move in rows(self.name, await self.rpc.search_read("stock.move", domain, INTO_FIELDS)):
            output = move.text("lot.number")
            work_order = move.link("production_output")
            for inp in work_order.children("inputs"):
                if inp.get("state") != "done" or not inp.opt_text("lot.number"):
                    continue
                edges.setdefault(output, []).append(
                    GenealogyEdge(
                        input_lot_id=inp.text("lot.number"),
                        output_lot_id=output,
                        quantity=inp.number("quantity"),
                        uom=inp.opt_text("unit.symbol"),
                        work_order_id=work_order.opt_text("number"),
                        occurred_at=work_order.opt_datetime("effective_date"),
                    )
                )
        return edges

    async def edges_out_of(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        """The lots made by the productions that consumed these lots: one call for the whole level."""
        numbers = list(dict.fromkeys(lot_ids))
        if not numbers:
            return {}
        domain = [("lot.number", "in", numbers), ("production_input", "!=", None), ("state", "=", "done")]
        edges: dict[str, list[GenealogyEdge]] = {}
        for move in rows(self.name, await self.rpc.search_read("stock.move", domain, OUT_OF_FIELDS)):
            source = move.text("lot.number")
            work_order = move.link("production_input")
            for out in work_order.children("outputs"):
                if out.get("state") != "done" or not out.opt_text("lot.number"):
                    continue
                edges.setdefault(source, []).append(
                    GenealogyEdge(
                        input_lot_id=source,
                        output_lot_id=out.text("lot.number"),
                        quantity=move.number("quantity"),
                        uom=move.opt_text("unit.symbol"),
                        work_order_id=work_order.opt_text("number"),
                        occurred_at=work_order.opt_datetime("effective_date"),
                    )
                )
        return edges

    async def custody(self, lot_ids: Iterable[str]) -> dict[str, Custody]:
        """Shipping and receiving from the lots' done moves (``sources.tryton.custody``); no containers."""
        return await custody.custody(self.rpc, list(dict.fromkeys(lot_ids)))


def _id(lot: Lot) -> str:
    return lot.id


def _plant(origin: Rows | None) -> str | None:
    """The warehouse the lot came into: its production's, or the parent of the location it was received in."""
    if origin is None:
        return None
    return origin.opt_text("production_output.warehouse.code") or origin.opt_text("to_location.parent.code")
