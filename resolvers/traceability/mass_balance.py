"""Mass balance of a trace: plain functions over the records of its lots.

Per transformation (a work order, or the making of one lot when there is none): the quantity of its inputs
against the quantity of its outputs, each added up in one base unit per dimension (``sources.units``: mass in kg,
volume in L, count in EA). Quantities in units that cannot be added to the rest (another dimension, an unknown
unit) are not converted and are listed as such; a difference is reported, never hidden (a yield above 100 % is
water or another input the MES does not record; below, a loss).

Per lot: produced (the lot's quantity), consumed downstream (its genealogy edges out), shipped (on shipped ERP
deliveries), in stock (WMS, any status), and unaccounted = produced - consumed - shipped - in stock. A lot whose
unaccounted quantity is not zero (to ``TOLERANCE``, half the resolution the plant records) is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sources import units
from sources.records import GenealogyEdge, Lot, Shipment, ShipmentStatus, Stock

TOLERANCE = 0.0005
PLACES = 6


@dataclass(slots=True)
class Sum:
    """Quantities added up in one base unit; what could not be converted to it is listed apart."""

    uom: str | None = None
    quantity: float = 0.0
    unconverted: list[str] = field(default_factory=list)

    def add(self, quantity: float | None, uom: str | None) -> None:
        if quantity is None:
            self.unconverted.append(f"(no quantity) {uom or ''}".strip())
            return
        value, base = units.to_base(quantity, uom)
        if self.uom is None:
            self.uom = base
        if base != self.uom:
            self.unconverted.append(f"{quantity:g} {uom or ''}".strip())
            return
        self.quantity += value

    @property
    def total(self) -> float:
        return round(self.quantity, PLACES)


@dataclass(frozen=True, slots=True)
class TransformationBalance:
    work_order_id: str | None
    output_lot_ids: list[str]
    input_lot_ids: list[str]
    uom: str | None
    input_quantity: float
    output_quantity: float
    unconverted: list[str]

    @property
    def difference(self) -> float:
        """Output - input, in ``uom``: above zero a gain, below a loss."""
        return round(self.output_quantity - self.input_quantity, PLACES)

    @property
    def yield_percent(self) -> float | None:
        return round(100 * self.output_quantity / self.input_quantity, 3) if self.input_quantity else None


@dataclass(frozen=True, slots=True)
class LotBalance:
    lot_id: str
    uom: str | None
    produced: float
    consumed: float
    shipped: float
    in_stock: float
    unconverted: list[str]

    @property
    def unaccounted(self) -> float:
        return round(self.produced - self.consumed - self.shipped - self.in_stock, PLACES)

    @property
    def balanced(self) -> bool:
        return abs(self.unaccounted) <= TOLERANCE and not self.unconverted


def transformations(
    lot_ids: Sequence[str], masters: Mapping[str, Lot], edges_into: Mapping[str, Sequence[GenealogyEdge]]
) -> list[TransformationBalance]:
    """One balance per work order that made lots of ``lot_ids`` (inputs: the edges into those lots)."""
    groups: dict[str, tuple[list[str], list[GenealogyEdge]]] = {}
    for lot_id in lot_ids:
        edges = edges_into.get(lot_id) or []
        if not edges:
            continue
        master = masters.get(lot_id)
        key = (master.work_order_id if master else None) or edges[0].work_order_id or f"lot:{lot_id}"
        outputs, inputs = groups.setdefault(key, ([], []))
        outputs.append(lot_id)
        inputs.extend(edges)
    found = []
    for key, (outputs, inputs) in groups.items():
        into, out = Sum(), Sum()
        for output in outputs:
            master = masters.get(output)
            out.add(master.quantity if master else None, master.uom if master else None)
        into.uom = out.uom
        for edge in inputs:
            into.add(edge.quantity, edge.uom)
        found.append(
            TransformationBalance(
                work_order_id=None if key.startswith("lot:") else key,
                output_lot_ids=outputs,
                input_lot_ids=list(dict.fromkeys(e.input_lot_id for e in inputs)),
                uom=out.uom or into.uom,
                input_quantity=into.total,
                output_quantity=out.total,
                unconverted=into.unconverted + out.unconverted,
            )
        )
    return found


def lots(
    lot_ids: Sequence[str],
    masters: Mapping[str, Lot],
    edges_out_of: Mapping[str, Sequence[GenealogyEdge]],
    shipments: Iterable[Shipment],
    stock: Mapping[str, Sequence[Stock]],
) -> list[LotBalance]:
    """Where each lot's quantity went. Lots without a master record (unknown to the MES) are left out."""
    shipped: dict[str, list[tuple[float, str]]] = {}
    for shipment in shipments:
        if shipment.status is ShipmentStatus.SHIPPED:
            for line in shipment.lines:
                for assignment in line.lots:
                    shipped.setdefault(assignment.lot_id, []).append((assignment.quantity, line.uom))
    found = []
    for lot_id in lot_ids:
        master = masters.get(lot_id)
        if master is None:
            continue
        produced, consumed, out, held = Sum(), Sum(), Sum(), Sum()
        produced.add(master.quantity, master.uom)
        for s in (consumed, out, held):
            s.uom = produced.uom
        for edge in edges_out_of.get(lot_id) or []:
            consumed.add(edge.quantity, edge.uom)
        for quantity, uom in shipped.get(lot_id, []):
            out.add(quantity, uom)
        for row in stock.get(lot_id) or []:
            held.add(row.quantity, row.uom)
        found.append(
            LotBalance(
                lot_id=lot_id,
                uom=produced.uom,
                produced=produced.total,
                consumed=consumed.total,
                shipped=out.total,
                in_stock=held.total,
                unconverted=consumed.unconverted + out.unconverted + held.unconverted,
            )
        )
    return found
