"""What a hold command does for each lot, decided from what the systems of record said — pure, no I/O.

- ``plan_place``: for a placeHold over ``scope`` (the given lots, then those reached by propagation), which lots
  get a new QMS hold, which are already on hold for the reason (kept, and blocked anyway so a hold always blocks),
  which cannot be held; and whether the request is refused as a whole (a given lot unknown, too many lots).
- ``plan_unblock``: after a release, whether the lot's stock may be unblocked: only when no other hold is active
  and the QMS disposition is RELEASED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from resolvers.holds.outcomes import HoldErrorCode, HoldProblem
from sources.records import Disposition, Hold, HoldStatus


@dataclass(frozen=True, slots=True)
class PlacePlan:
    scope: tuple[str, ...]
    propagated: tuple[str, ...] = ()
    to_place: tuple[str, ...] = ()
    """Lots that get a new hold in the QMS."""
    found: Mapping[str, Hold] = field(default_factory=dict)
    """Lots already on hold for the reason, with that hold: no new one, but blocked."""
    errors: tuple[HoldProblem, ...] = ()
    """Per lot: not in the QMS (reached by propagation), or already on hold."""
    refusals: tuple[HoldProblem, ...] = ()
    """When set, nothing is done at all."""

    @property
    def targets(self) -> tuple[str, ...]:
        """Every lot the command will hold and block, in scope order."""
        return tuple(lot_id for lot_id in self.scope if lot_id in self.found or lot_id in self.to_place)


def hold_for(reason: str, holds: Sequence[Hold]) -> Hold | None:
    """The active hold of a lot for ``reason``, if it has one: a new hold for the same reason is not placed."""
    return next((h for h in holds if h.status is HoldStatus.ACTIVE and h.reason_code == reason), None)


def plan_place(
    given: Sequence[str],
    scope: Sequence[str],
    known: Mapping[str, object],
    active: Mapping[str, Sequence[Hold]],
    reason: str,
    *,
    max_lots: int,
) -> PlacePlan:
    """``known``: the lots the QMS knows (any value); ``active``: their active holds."""
    if len(scope) > max_lots:
        too_many = HoldProblem(HoldErrorCode.TOO_MANY_LOTS, f"at most {max_lots} lots per hold request")
        return PlacePlan(tuple(scope), refusals=(too_many,))
    unknown = [lot_id for lot_id in given if lot_id not in known]
    if unknown:
        return PlacePlan(
            tuple(scope),
            refusals=tuple(
                HoldProblem(HoldErrorCode.LOT_NOT_FOUND, f"no lot {lot_id!r} in the QMS", lot_id=lot_id, source="qms")
                for lot_id in unknown
            ),
        )
    errors: list[HoldProblem] = []
    found: dict[str, Hold] = {}
    to_place: list[str] = []
    for lot_id in scope:
        if lot_id not in known:
            message = f"lot {lot_id!r}, made from a held lot, is not in the QMS: it is not on hold"
            errors.append(HoldProblem(HoldErrorCode.LOT_NOT_FOUND, message, lot_id=lot_id, source="qms"))
        elif (hold := hold_for(reason, active.get(lot_id, ()))) is not None:
            found[lot_id] = hold
            message = f"lot {lot_id} is already on hold for {reason} (hold {hold.id})"
            errors.append(
                HoldProblem(HoldErrorCode.LOT_ALREADY_ON_HOLD, message, lot_id=lot_id, hold_id=hold.id, source="qms")
            )
        else:
            to_place.append(lot_id)
    return PlacePlan(
        tuple(scope),
        propagated=tuple(scope[len(given) :]),
        to_place=tuple(to_place),
        found=found,
        errors=tuple(errors),
    )


@dataclass(frozen=True, slots=True)
class UnblockPlan:
    unblock: bool
    outcome: str
    """Why the stock is kept blocked, when it is."""
    active_hold_ids: tuple[str, ...] = ()


def plan_unblock(disposition: Disposition | None, active: Sequence[Hold]) -> UnblockPlan:
    others = tuple(h.id for h in active if h.status is HoldStatus.ACTIVE)
    if others:
        return UnblockPlan(False, f"stock kept blocked: hold {', '.join(others)} still active", others)
    if disposition is not Disposition.RELEASED:
        shown = disposition.value if disposition else "unknown"
        return UnblockPlan(False, f"stock kept blocked: the QMS disposition of the lot is {shown}, not RELEASED")
    return UnblockPlan(True, "")
