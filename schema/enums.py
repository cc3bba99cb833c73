"""GraphQL enums: the domain vocabulary of DESIGN.md, one definition shared with the source records.

``strawberry.enum`` registers the records' own enums (it returns the same class), so resolvers and types share
one set of values; the aliases below are the names the schema code uses.
"""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from sources import records

strawberry.enum(records.OrderStatus, description="Status of a sales order in the ERP.")
strawberry.enum(records.ShipmentStatus, description="Status of a shipment (outbound delivery) in the ERP.")
strawberry.enum(
    records.Disposition,
    name="LotDisposition",
    description="Usage decision of a lot in the QMS. CBV: PENDING→in_progress, RELEASED→conformant, "
    "ON_HOLD→non_sellable_other, REJECTED→non_conformant, RECALLED→recalled, EXPIRED→expired.",
)
strawberry.enum(records.HoldStatus, description="Status of a quality hold.")
strawberry.enum(records.DeviationStatus, description="Status of a quality deviation.")
strawberry.enum(records.Severity, description="Severity of a quality deviation.")
strawberry.enum(
    records.LotKind, description="RAW: received raw material; INTERMEDIATE: made and used again; FINISHED: sold."
)
strawberry.enum(records.StockStatus, description="Stock status; only UNRESTRICTED stock may be allocated or shipped.")
strawberry.enum(
    records.WarehouseStage, description="How far the warehouse has got with a shipment (CBV business steps)."
)

OrderStatus: TypeAlias = records.OrderStatus
ShipmentStatus: TypeAlias = records.ShipmentStatus
LotDisposition: TypeAlias = records.Disposition
HoldStatus: TypeAlias = records.HoldStatus
DeviationStatus: TypeAlias = records.DeviationStatus
Severity: TypeAlias = records.Severity
LotKind: TypeAlias = records.LotKind
StockStatus: TypeAlias = records.StockStatus
WarehouseStage: TypeAlias = records.WarehouseStage
