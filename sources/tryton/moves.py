"""Where Tryton keeps stock, and the internal shipments that block and unblock a lot's stock.

``Places`` knows the warehouses' storage zones and the quarantine location (found by code, created under the first
warehouse when missing) and reads lot quantities in a location. ``StockMover`` blocks a lot by moving its
unreserved storage stock into quarantine with a real internal shipment (``wait``, ``assign_try``, ``do``) whose
``reference`` carries the gateway's idempotency key: a retry under the same key finds that shipment and carries on
from its state, so stock is never moved twice. Unblocking moves the quarantined stock back to storage the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sources.errors import NotFound, SourceRejected
from sources.tryton.client import TrytonRpc
from sources.tryton.mapping import move_reference


@dataclass(frozen=True, slots=True)
class Warehouse:
    id: int
    storage_id: int
    storage_code: str


class Places:
    def __init__(self, rpc: TrytonRpc, quarantine_code: str) -> None:
        self.rpc = rpc
        self.quarantine_code = quarantine_code
        self.warehouses: list[Warehouse] = []
        self.quarantines: dict[int, str] = {}
        self._loaded = False

    async def load(self, *, create: bool = False) -> None:
        """Read the places once (they hardly change); with ``create``, make the quarantine location if missing."""
        if self._loaded and (self.quarantines or not create):
            return
        found = await self.rpc.search_read(
            "stock.location",
            ["OR", ("type", "=", "warehouse"), ("code", "=", self.quarantine_code)],
            ["type", "code", "storage_location", "storage_location.code"],
            order=[("id", "ASC")],
        )
        self.warehouses = [
            Warehouse(r["id"], r["storage_location"], str((r.get("storage_location.") or {}).get("code") or "STO"))
            for r in found
            if r.get("type") == "warehouse" and r.get("storage_location")
        ]
        self.quarantines = {r["id"]: self.quarantine_code for r in found if r.get("code") == self.quarantine_code}
        if create and not self.quarantines and self.warehouses:
            values = {"name": "Quarantine", "code": self.quarantine_code, "type": "storage"}
            created = await self.rpc.write_call(
                "stock.location", "create", [{**values, "parent": self.warehouses[0].id}]
            )
            self.quarantines = {created[0]: self.quarantine_code}
        self._loaded = True

    @property
    def quarantine_id(self) -> int:
        return next(iter(self.quarantines))

    async def quantities(
        self, numbers: Sequence[str], locations: Sequence[int], *, available: bool = False
    ) -> dict[str, tuple[float, str]]:
        """Quantity (and unit) of each lot in these locations and their children; ``available`` leaves out what is
        reserved."""
        if not numbers or not locations:
            return {}
        context: dict[str, Any] = {"locations": list(locations), "with_childs": True}
        if available:
            context["stock_assign"] = True
        found = await self.rpc.search_read(
            "stock.lot",
            [("number", "in", list(numbers))],
            ["number", "quantity", "default_uom.symbol"],
            context=context,
        )
        return {
            str(r["number"]): (float(r.get("quantity") or 0), str((r.get("default_uom.") or {}).get("symbol") or ""))
            for r in found
        }

    async def quarantined(self, numbers: Sequence[str]) -> set[str]:
        await self.load()
        found = await self.quantities(numbers, list(self.quarantines))
        return {number for number, (quantity, _) in found.items() if quantity > 0}


class StockMover:
    def __init__(self, rpc: TrytonRpc, places: Places) -> None:
        self.rpc = rpc
        self.places = places

    async def block(self, lot_number: str, key: str) -> None:
        await self.places.load(create=True)
        lot = await self._lot(lot_number)
        reference = move_reference("block", key)
        if await self._carry_on(reference):
            return
        for warehouse in self.places.warehouses:
            found = await self.places.quantities([lot_number], [warehouse.storage_id], available=True)
            quantity = found.get(lot_number, (0.0, ""))[0]
            if quantity > 0:
                await self._move(lot, quantity, warehouse.storage_id, self.places.quarantine_id, reference)

    async def unblock(self, lot_number: str, key: str) -> None:
        await self.places.load(create=True)
        lot = await self._lot(lot_number)
        reference = move_reference("unblock", key)
        if await self._carry_on(reference):
            return
        found = await self.places.quantities([lot_number], [self.places.quarantine_id], available=True)
        quantity = found.get(lot_number, (0.0, ""))[0]
        if quantity > 0 and self.places.warehouses:
            storage = self.places.warehouses[0].storage_id
            await self._move(lot, quantity, self.places.quarantine_id, storage, reference)

    async def _lot(self, number: str) -> dict[str, Any]:
        found = await self.rpc.search_read("stock.lot", [("number", "=", number)], ["product", "default_uom"], limit=1)
        if not found:
            raise NotFound(self.rpc.name, f"lot {number} not found in {self.rpc.name.upper()}")
        return found[0]

    async def _carry_on(self, reference: str) -> bool:
        """Finish the shipments already made under this key (a retry); True when there were any."""
        found = await self.rpc.search_read("stock.shipment.internal", [("reference", "=", reference)], ["state"])
        for shipment in found:
            await self._advance(shipment["id"], str(shipment.get("state")))
        return bool(found)

    async def _move(self, lot: dict[str, Any], quantity: float, source: int, target: int, reference: str) -> None:
        move = {
            "product": lot["product"],
            "lot": lot["id"],
            "unit": lot["default_uom"],
            "quantity": quantity,
            "from_location": source,
            "to_location": target,
        }
        values = {"from_location": source, "to_location": target, "reference": reference, "moves": [["create", [move]]]}
        created = await self.rpc.write_call("stock.shipment.internal", "create", [values])
        await self._advance(created[0], "draft")

    async def _advance(self, shipment_id: int, state: str) -> None:
        steps = {"draft": ["wait", "assign_try", "do"], "waiting": ["assign_try", "do"], "assigned": ["do"]}
        for step in steps.get(state, []):
            await self.rpc.write_call("stock.shipment.internal", step, [shipment_id])
            if step == "assign_try":
                found = await self.rpc.read("stock.shipment.internal", [shipment_id], ["state"])
                if not found or found[0].get("state") != "assigned":
                    raise SourceRejected(
                        self.rpc.name,
                        "the lot's stock could not be reserved for the move; retry with the same key",
                        upstream_code="STOCK_NOT_AVAILABLE",
                        status=409,
                    )
        if state in ("cancelled",):
            raise SourceRejected(
                self.rpc.name, "the stock move under this key was cancelled", upstream_code="CANCELLED", status=409
            )
