"""Shipment readiness: one fail-closed decision over ERP, QMS and WMS records (DESIGN.md rule 1).

``evaluate`` is a pure function: it takes the records (or the error that stood in for them) and returns every
check, every blocker and the status. A shipment is READY only when every check ran on fresh data and passed; a
check whose source could not answer is NOT_RUN, adds a SOURCE_UNAVAILABLE blocker naming the source, and makes
the status UNKNOWN — never READY. Checks whose sources did answer are still evaluated and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from resolvers.readiness import checks
from resolvers.readiness.model import (
    Blocker,
    BlockerCode,
    Check,
    CheckStatus,
    Decision,
    Fetched,
    ReadinessInputs,
    ReadinessStatus,
)
from sources.errors import SourceError

T = TypeVar("T")


@dataclass
class _Rules:
    """Collects checks and blockers while the rules run."""

    checks: list[Check] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    unavailable: dict[str, SourceError] = field(default_factory=dict)

    def run(self, name: str, source: str, inputs: Iterable[object], rule: Callable[[], list[Blocker]]) -> None:
        errors = [i for i in inputs if isinstance(i, SourceError)]
        if errors:
            self.checks.append(Check(name, source, CheckStatus.NOT_RUN, errors[0].message))
            for error in errors:
                self.unavailable.setdefault(error.source, error)
            return
        found = rule()
        self.blockers.extend(found)
        if found:
            detail = "; ".join(dict.fromkeys(b.message for b in found))
            self.checks.append(Check(name, source, CheckStatus.FAILED, detail))
        else:
            self.checks.append(Check(name, source, CheckStatus.PASSED, "ok"))


def evaluate(i: ReadinessInputs) -> Decision:
    s = i.shipment
    lot_ids = s.lot_ids
    rules = _Rules()

    rules.run("shipment_open", "erp", [], lambda: checks.shipment_open(s))
    rules.run("order_released", "erp", [i.order], lambda: checks.order_released(s, _ok(i.order)))
    rules.run("no_credit_block", "erp", [i.order], lambda: checks.no_credit_block(_ok(i.order)))
    rules.run("no_delivery_block", "erp", [i.order], lambda: checks.no_delivery_block(_ok(i.order)))
    rules.run("lots_assigned", "erp", [], lambda: checks.lots_assigned(s))
    rules.run("lots_released", "qms", [i.quality], lambda: checks.lots_released(lot_ids, _ok(i.quality)))
    rules.run(
        "no_active_hold", "qms", [i.holds, i.quality], lambda: checks.no_hold(lot_ids, _ok(i.holds), _ok(i.quality))
    )
    rules.run("no_open_deviation", "qms", [i.deviations], lambda: checks.no_deviation(lot_ids, _ok(i.deviations)))
    rules.run("not_expired", "qms", [i.quality], lambda: checks.not_expired(lot_ids, _ok(i.quality), i.today))
    rules.run(
        "certificate_on_file",
        "qms",
        [i.quality, i.products, i.customer],
        lambda: checks.certificates(s, _ok(i.quality), _ok(i.products), _ok(i.customer)),
    )
    rules.run("allocation_complete", "wms", [i.progress], lambda: checks.allocation_complete(s, _ok(i.progress)))
    rules.run("stock_unrestricted", "wms", [i.progress], lambda: checks.stock_unrestricted(_ok(i.progress)))
    rules.run("warehouse_stage", "wms", [i.progress], lambda: checks.stage_reached(_ok(i.progress), i.required_stage))

    for source, error in rules.unavailable.items():
        rules.blockers.append(
            Blocker(BlockerCode.SOURCE_UNAVAILABLE, source, f"{error.message}: readiness cannot be decided")
        )
    if rules.unavailable:
        status = ReadinessStatus.UNKNOWN
    elif rules.blockers:
        status = ReadinessStatus.NOT_READY
    else:
        status = ReadinessStatus.READY
    return Decision(status, rules.blockers, rules.checks)


def _ok(value: Fetched[T]) -> T:
    assert not isinstance(value, SourceError)  # the caller checked: rules run only on fetched inputs
    return value
