"""Mass balance of a trace (``lotGenealogy.massBalance``, ``recallImpact.massBalance``): plain types built from
``resolvers.mass_balance``."""

from __future__ import annotations

import strawberry
from strawberry.types.nodes import SelectedField

from resolvers.context import Context
from resolvers.genealogy.model import Trace
from resolvers.lots import LotRef
from resolvers.traceability import mass_balance, trace_records
from schema.info import Info

CONVERSIONS = (
    "mass to kg: KGM/kg, GRM/g, MGM/mg, TNE/t, LBR/lb, ONZ/oz; volume to L: LTR/L, MLT/mL, MTQ/m3; "
    "count to EA: EA, H87, C62, pc. No conversion across dimensions."
)


@strawberry.type(description="One transformation (a work order): what went in against what came out, in one unit.")
class TransformationBalance:
    work_order: str | None = strawberry.field(description="Null when the MES names no work order.")
    output_lot_ids: list[strawberry.ID]
    input_lot_ids: list[strawberry.ID]
    uom: str | None = strawberry.field(description="The unit both sides are added up in (kg, L or EA, or as given).")
    input_quantity: float
    output_quantity: float
    difference: float = strawberry.field(description="Output - input: above zero a gain, below a loss.")
    yield_percent: float | None
    unconverted: list[str] = strawberry.field(description="Quantities that could not be converted to `uom`.")

    @classmethod
    def of(cls, t: mass_balance.TransformationBalance) -> TransformationBalance:
        return cls(
            work_order=t.work_order_id,
            output_lot_ids=[strawberry.ID(i) for i in t.output_lot_ids],
            input_lot_ids=[strawberry.ID(i) for i in t.input_lot_ids],
            uom=t.uom,
            input_quantity=t.input_quantity,
            output_quantity=t.output_quantity,
            difference=t.difference,
            yield_percent=t.yield_percent,
            unconverted=t.unconverted,
        )


@strawberry.type(
    description="Where a lot's quantity went: produced = consumed downstream + shipped + in stock + unaccounted."
)
class LotBalance:
    lot_id: strawberry.ID
    uom: str | None
    produced: float = strawberry.field(description="The lot's quantity (MES).")
    consumed: float = strawberry.field(description="Consumed into other lots (MES genealogy).")
    shipped: float = strawberry.field(description="On shipped deliveries (ERP).")
    in_stock: float = strawberry.field(description="In stock, any status (WMS).")
    unaccounted: float = strawberry.field(description="What is left: zero when the lot balances.")
    balanced: bool = strawberry.field(description="False (flagged) when something is unaccounted or unconverted.")
    unconverted: list[str]

    @classmethod
    def of(cls, b: mass_balance.LotBalance) -> LotBalance:
        return cls(
            lot_id=strawberry.ID(b.lot_id),
            uom=b.uom,
            produced=b.produced,
            consumed=b.consumed,
            shipped=b.shipped,
            in_stock=b.in_stock,
            unaccounted=b.unaccounted,
            balanced=b.balanced,
            unconverted=b.unconverted,
        )


@strawberry.type(description="Mass balance over every lot of a trace and every transformation that made one.")
class MassBalance:
    balanced: bool = strawberry.field(description="Every lot balances.")
    flagged_lots: int = strawberry.field(description="Lots that do not balance.")
    transformations: list[TransformationBalance]
    lots: list[LotBalance]
    conversions: str = strawberry.field(description="The unit conversions known.")
    sources: list[str] = strawberry.field(description="The systems read for it.")

    @classmethod
    def of(cls, records: trace_records.TraceRecords) -> MassBalance:
        lots = records.lot_balances()
        flagged = sum(1 for lot in lots if not lot.balanced)
        return cls(
            balanced=flagged == 0,
            flagged_lots=flagged,
            transformations=[TransformationBalance.of(t) for t in records.transformations()],
            lots=[LotBalance.of(b) for b in lots],
            conversions=CONVERSIONS,
            sources=records.sources,
        )


async def mass_balance_of(
    ctx: Context, trace: Trace, refs: list[LotRef], audit: trace_records.AuditReads | None
) -> MassBalance:
    """From what ``audit`` read during the walk, or read now when the walk did not."""
    if audit is not None:
        return MassBalance.of(await audit.records(trace, refs))
    return MassBalance.of(await trace_records.read(ctx, trace, refs))


def wants_mass_balance(info: Info) -> trace_records.AuditReads | None:
    """Reads for the mass balance, to run along the walk, when the query asks for it."""
    asked = {s.name for field in info.selected_fields for s in field.selections if isinstance(s, SelectedField)}
    return trace_records.AuditReads(info.context) if "massBalance" in asked else None
