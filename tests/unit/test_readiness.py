"""The readiness rules, table-driven over plain records: one case per blocker, combinations, each source missing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from resolvers.readiness.model import BlockerCode, CheckStatus, ReadinessInputs, ReadinessStatus
from resolvers.readiness.rules import evaluate
from sources import records as r
from sources.errors import SourceProtocolError, SourceUnavailable

TODAY = date(2026, 11, 23)
AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

SHIPMENT = r.Shipment(
    id="DL-1",
    order_id="SO-1",
    customer_id="C1",
    status=r.ShipmentStatus.PLANNED,
    warehouse="W1",
    ship_date=TODAY,
    shipped_at=None,
    lines=(
        r.ShipmentLine(1, 1, "P1", 10.0, "KG", (r.LotAssignment("L1", 6.0), r.LotAssignment("L2", 4.0))),
        r.ShipmentLine(2, 2, "P2", 5.0, "EA", (r.LotAssignment("L3", 5.0),)),
    ),
)
ORDER = r.SalesOrder("SO-1", "C1", r.OrderStatus.RELEASED, TODAY, TODAY, False, None, False, None, None, (), ("DL-1",))
PRODUCTS = {"P1": r.Product("P1", "Resin", "KG", True, 365), "P2": r.Product("P2", "Cap", "EA", False, None)}
CUSTOMER = r.Customer("C1", "Acme", "DE", False)
COA = r.Certificate("COA-1", AT)


def _quality(lot_id: str, **changes: object) -> r.QualityLot:
    q = r.QualityLot(lot_id, "P1", r.Disposition.RELEASED, AT, date(2027, 6, 1), COA)
    return dataclasses.replace(q, **changes)  # type: ignore[arg-type]


def _alloc(line: int, lot: str, qty: float, status: r.StockStatus = r.StockStatus.UNRESTRICTED) -> r.Allocation:
    return r.Allocation(line, lot, "A-01", qty, status)


READY = ReadinessInputs(
    shipment=SHIPMENT,
    order=ORDER,
    products=PRODUCTS,
    customer=CUSTOMER,
    quality={lot: _quality(lot) for lot in ("L1", "L2", "L3")},
    holds={},
    deviations={},
    progress=r.ShipmentProgress(
        "DL-1", r.WarehouseStage.STAGED, AT, (_alloc(1, "L1", 6), _alloc(1, "L2", 4), _alloc(2, "L3", 5))
    ),
    today=TODAY,
)

Change = Callable[[ReadinessInputs], ReadinessInputs]


def _with(**changes: object) -> Change:
    return lambda i: dataclasses.replace(i, **changes)  # type: ignore[arg-type]


def _lot(lot_id: str, **changes: object) -> Change:
    def change(i: ReadinessInputs) -> ReadinessInputs:
        assert isinstance(i.quality, dict)
        return dataclasses.replace(i, quality={**i.quality, lot_id: _quality(lot_id, **changes)})

    return change


def _stage(stage: r.WarehouseStage) -> Change:
    def change(i: ReadinessInputs) -> ReadinessInputs:
        assert isinstance(i.progress, r.ShipmentProgress)
        return dataclasses.replace(i, progress=dataclasses.replace(i.progress, stage=stage))

    return change


HOLD = r.Hold("H-1", "L2", r.HoldStatus.ACTIVE, "OUT_OF_SPEC", None, "alice", AT, None, None, None, None)
OLD_HOLD = dataclasses.replace(HOLD, id="H-0", status=r.HoldStatus.RELEASED)
DEVIATION = r.Deviation("DEV-1", "L3", r.DeviationStatus.OPEN, r.Severity.MAJOR, "Seal leak", AT, None)

CASES: dict[str, tuple[Change, set[BlockerCode]]] = {
    "ready": (lambda i: i, set()),
    "shipped already": (
        _with(shipment=dataclasses.replace(SHIPMENT, status=r.ShipmentStatus.SHIPPED)),
        {BlockerCode.SHIPMENT_NOT_OPEN},
    ),
    "order created": (
        _with(order=dataclasses.replace(ORDER, status=r.OrderStatus.CREATED)),
        {BlockerCode.ORDER_NOT_RELEASED},
    ),
    "order unknown": (_with(order=None), {BlockerCode.ORDER_NOT_RELEASED}),
    "credit block": (
        _with(order=dataclasses.replace(ORDER, credit_block=True, credit_block_since=AT)),
        {BlockerCode.CREDIT_BLOCK},
    ),
    "delivery block": (
        _with(order=dataclasses.replace(ORDER, delivery_block=True, delivery_block_reason="Export")),
        {BlockerCode.DELIVERY_BLOCK},
    ),
    "lots short in the ERP": (
        _with(
            shipment=dataclasses.replace(
                SHIPMENT,
                lines=(dataclasses.replace(SHIPMENT.lines[0], lots=(r.LotAssignment("L1", 6.0),)), SHIPMENT.lines[1]),
            )
        ),
        {BlockerCode.ALLOCATION_INCOMPLETE},
    ),
    "lot pending": (_lot("L1", disposition=r.Disposition.PENDING), {BlockerCode.LOT_NOT_RELEASED}),
    "lot rejected": (_lot("L1", disposition=r.Disposition.REJECTED), {BlockerCode.LOT_NOT_RELEASED}),
    "lot unknown to the QMS": (
        _with(quality={"L1": _quality("L1"), "L2": _quality("L2")}),
        {BlockerCode.LOT_NOT_RELEASED},
    ),
    "lot on hold": (_with(holds={"L2": [HOLD, OLD_HOLD]}), {BlockerCode.LOT_ON_HOLD}),
    "disposition on hold without a hold record": (
        _lot("L2", disposition=r.Disposition.ON_HOLD),
        {BlockerCode.LOT_ON_HOLD},
    ),
    "released hold only": (_with(holds={"L2": [OLD_HOLD]}), set()),
    "open deviation": (_with(deviations={"L3": [DEVIATION]}), {BlockerCode.OPEN_DEVIATION}),
    "closed deviation": (
        _with(deviations={"L3": [dataclasses.replace(DEVIATION, status=r.DeviationStatus.CLOSED)]}),
        set(),
    ),
    "expired by date": (_lot("L3", expiry_date=date(2026, 11, 22)), {BlockerCode.LOT_EXPIRED}),
    "expires today is fine": (_lot("L3", expiry_date=TODAY), set()),
    "expired disposition": (_lot("L3", disposition=r.Disposition.EXPIRED), {BlockerCode.LOT_EXPIRED}),
    "product needs a CoA": (_lot("L1", coa=None), {BlockerCode.COA_MISSING}),
    "no CoA needed": (_lot("L3", coa=None), set()),
    "customer needs a CoA": (
        lambda i: _lot("L3", coa=None)(_with(customer=dataclasses.replace(CUSTOMER, coa_required=True))(i)),
        {BlockerCode.COA_MISSING},
    ),
    "stock blocked": (
        _with(
            progress=dataclasses.replace(
                READY.progress,
                allocations=(  # type: ignore[type-var]
                    _alloc(1, "L1", 6),
                    _alloc(1, "L2", 4, r.StockStatus.BLOCKED),
                    _alloc(2, "L3", 5),
                ),
            )
        ),
        {BlockerCode.STOCK_BLOCKED},
    ),
    "allocation short": (
        _with(progress=dataclasses.replace(READY.progress, allocations=(_alloc(1, "L1", 6), _alloc(2, "L3", 5)))),  # type: ignore[type-var]
        {BlockerCode.ALLOCATION_INCOMPLETE},
    ),
    "not in the WMS": (_with(progress=None), {BlockerCode.ALLOCATION_INCOMPLETE}),
    "picking": (_stage(r.WarehouseStage.PICKING), {BlockerCode.PICKING_INCOMPLETE}),
    "allocated only": (_stage(r.WarehouseStage.ALLOCATED), {BlockerCode.PICKING_INCOMPLETE}),
    "picked": (_stage(r.WarehouseStage.PICKED), {BlockerCode.NOT_STAGED}),
    "loaded is past staged": (_stage(r.WarehouseStage.LOADED), set()),
    "hold, deviation and credit block together": (
        lambda i: _with(
            holds={"L1": [dataclasses.replace(HOLD, lot_id="L1")]},
            deviations={"L3": [DEVIATION]},
            order=dataclasses.replace(ORDER, credit_block=True),
        )(i),
        {BlockerCode.LOT_ON_HOLD, BlockerCode.OPEN_DEVIATION, BlockerCode.CREDIT_BLOCK},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rules(case: str) -> None:
    change, expected = CASES[case]
    decision = evaluate(change(READY))
    assert {b.code for b in decision.blockers} == expected
    assert decision.status is (ReadinessStatus.NOT_READY if expected else ReadinessStatus.READY)
    failed = {c.name for c in decision.checks if c.status is CheckStatus.FAILED}
    assert bool(failed) == bool(expected)
    assert all(c.status is not CheckStatus.NOT_RUN for c in decision.checks)
    assert len(decision.checks) == 13


def test_every_blocker_code_has_a_case() -> None:
    covered = {code for _, codes in CASES.values() for code in codes}
    covered |= {BlockerCode.SOURCE_UNAVAILABLE, BlockerCode.SHIPMENT_NOT_FOUND}  # tested where shipments are fetched
    assert covered == set(BlockerCode)


def test_blockers_name_what_they_concern() -> None:
    decision = evaluate(_with(holds={"L2": [HOLD]})(READY))
    (blocker,) = decision.blockers
    assert (blocker.source, blocker.lot_id, blocker.since) == ("qms", "L2", AT)
    assert "L2" in blocker.message
    assert "OUT_OF_SPEC" in blocker.message


DOWN = {
    "erp": SourceUnavailable("erp", "ERP did not answer in time"),
    "qms": SourceUnavailable("qms", "QMS is unreachable"),
    "wms": SourceProtocolError("wms", "WMS answered invalid JSON"),
}


@pytest.mark.parametrize(
    ("source", "change", "not_run"),
    [
        (
            "erp",
            _with(order=DOWN["erp"], products=DOWN["erp"], customer=DOWN["erp"]),
            {"order_released", "no_credit_block", "no_delivery_block", "certificate_on_file"},
        ),
        (
            "qms",
            _with(quality=DOWN["qms"], holds=DOWN["qms"], deviations=DOWN["qms"]),
            {"lots_released", "no_active_hold", "no_open_deviation", "not_expired", "certificate_on_file"},
        ),
        ("wms", _with(progress=DOWN["wms"]), {"allocation_complete", "stock_unrestricted", "warehouse_stage"}),
    ],
)
def test_a_missing_source_is_unknown_never_ready(source: str, change: Change, not_run: set[str]) -> None:
    decision = evaluate(change(READY))
    assert decision.status is ReadinessStatus.UNKNOWN
    assert {c.name for c in decision.checks if c.status is CheckStatus.NOT_RUN} == not_run
    assert [(b.code, b.source) for b in decision.blockers] == [(BlockerCode.SOURCE_UNAVAILABLE, source)]


def test_answered_sources_are_still_evaluated_when_one_is_down() -> None:
    decision = evaluate(_with(progress=DOWN["wms"], holds={"L2": [HOLD]})(READY))
    assert decision.status is ReadinessStatus.UNKNOWN
    assert {b.code for b in decision.blockers} == {BlockerCode.SOURCE_UNAVAILABLE, BlockerCode.LOT_ON_HOLD}
