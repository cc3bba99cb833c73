"""The hold model, table-driven over plain records: the plan of placeHold per lot, when a release may unblock, the
pending action transitions and codec, the saga record and what recovery leaves, and the history entries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from resolvers.holds import events as hold_events
from resolvers.holds.history import HistoryKind, entries_of, entry_of_row, entry_to_row, rows_of, to_csv
from resolvers.holds.idempotency import upstream_key
from resolvers.holds.model import (
    ActionKind,
    ActionStatus,
    NotOpen,
    PendingAction,
    action_id,
    action_of_dict,
    action_of_row,
    action_to_dict,
    action_to_row,
    attempted,
    closed,
    new_action,
    postponed,
    retried,
)
from resolvers.holds.outcomes import HoldErrorCode
from resolvers.holds.plan import plan_place, plan_unblock
from resolvers.holds.saga import (
    PLACE,
    RELEASE,
    Saga,
    SagaLot,
    SagaStatus,
    SagaStep,
    action_ids,
    advanced,
    ended,
    remaining,
    saga_of_row,
    saga_to_row,
)
from sources.bus.envelope import Event
from sources.records import Disposition, Hold, HoldStatus

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _hold(hold_id: str, lot_id: str, reason: str = "OUT_OF_SPEC", status: HoldStatus = HoldStatus.ACTIVE) -> Hold:
    return Hold(hold_id, lot_id, status, reason, None, "qa", AT, None, None, None, "c-1")


# -- plan_place -----------------------------------------------------------------------------------------------------

KNOWN = {"L1": 1, "L2": 1, "L3": 1}


@pytest.mark.parametrize(
    ("case", "given", "scope", "active", "to_place", "found", "error_codes", "refusal_codes"),
    [
        ("one lot, no hold", ["L1"], ["L1"], {}, ["L1"], [], [], []),
        ("on hold for the reason: kept, blocked", ["L1"], ["L1"], {"L1": [_hold("H1", "L1")]}, [], ["L1"],
         ["LOT_ALREADY_ON_HOLD"], []),
        ("on hold for another reason: a new hold", ["L1"], ["L1"], {"L1": [_hold("H1", "L1", "RECALL")]}, ["L1"], [],
         [], []),
        ("a released hold does not count", ["L1"], ["L1"],
         {"L1": [_hold("H1", "L1", status=HoldStatus.RELEASED)]}, ["L1"], [], [], []),
        ("a given lot unknown: nothing at all", ["L1", "LX"], ["L1", "LX"], {}, [], [], [], ["LOT_NOT_FOUND"]),
        ("a propagated lot unknown: an error for it", ["L1"], ["L1", "LX", "L2"], {}, ["L1", "L2"], [],
         ["LOT_NOT_FOUND"], []),
        ("too many lots", ["L1"], ["L1", "L2", "L3"], {}, [], [], [], ["TOO_MANY_LOTS"]),
    ],
)  # fmt: skip
def test_plan_place(
    case: str,
    given: list[str],
    scope: list[str],
    active: dict[str, list[Hold]],
    to_place: list[str],
    found: list[str],
    error_codes: list[str],
    refusal_codes: list[str],
) -> None:
    plan = plan_place(given, scope, KNOWN, active, "OUT_OF_SPEC", max_lots=2 if case == "too many lots" else 100)
    assert [p.code.value for p in plan.refusals] == refusal_codes, case
    if refusal_codes:
        return
    assert list(plan.to_place) == to_place, case
    assert sorted(plan.found) == found, case
    assert [e.code.value for e in plan.errors] == error_codes, case
    assert list(plan.targets) == [lot for lot in scope if lot in to_place or lot in found]
    assert list(plan.propagated) == scope[len(given) :]


def test_an_already_held_lot_names_its_hold() -> None:
    plan = plan_place(["L1"], ["L1"], KNOWN, {"L1": [_hold("H9", "L1")]}, "OUT_OF_SPEC", max_lots=10)
    (error,) = plan.errors
    assert (error.code, error.hold_id, error.lot_id, error.source) == (HoldErrorCode.LOT_ALREADY_ON_HOLD, "H9", "L1",
                                                                        "qms")  # fmt: skip


# -- plan_unblock ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "active", "unblock", "others"),
    [
        (Disposition.RELEASED, [], True, ()),
        (Disposition.RELEASED, [_hold("H2", "L1")], False, ("H2",)),
        (Disposition.ON_HOLD, [], False, ()),
        (Disposition.REJECTED, [], False, ()),
        (None, [], False, ()),
        (Disposition.RELEASED, [_hold("H2", "L1", status=HoldStatus.RELEASED)], True, ()),
    ],
)
def test_plan_unblock(disposition: Disposition | None, active: list[Hold], unblock: bool, others: tuple[str]) -> None:
    plan = plan_unblock(disposition, active)
    assert (plan.unblock, plan.active_hold_ids) == (unblock, others)
    assert plan.unblock or plan.outcome.startswith("stock kept blocked")


# -- pending actions ------------------------------------------------------------------------------------------------

ACTION = new_action(
    ActionKind.BLOCK_STOCK,
    lot_id="L1",
    hold_id="H1",
    operation=PLACE,
    upstream_key="k-block-L1",
    reason="quality hold H1 (OUT_OF_SPEC)",
    requested_by="qa",
    correlation_id="c-1",
    max_attempts=3,
    now=AT,
)
LATER = AT + timedelta(seconds=10)


@pytest.mark.parametrize(
    ("case", "after", "status", "attempts", "next_at"),
    [
        ("done", attempted(ACTION, now=LATER, error=None, retry_in=None, outcome="ok"), ActionStatus.DONE, 1, None),
        ("retried later", attempted(ACTION, now=LATER, error="down", retry_in=5), ActionStatus.PENDING, 1,
         LATER + timedelta(seconds=5)),
        ("given up", attempted(ACTION, now=LATER, error="down", retry_in=None), ActionStatus.FAILED, 1, None),
        ("postponed, not tried", postponed(ACTION, now=LATER, delay=2, reason="WMS down"), ActionStatus.PENDING, 0,
         LATER + timedelta(seconds=2)),
        ("a person retries a failed one", retried(dataclasses.replace(ACTION, status=ActionStatus.FAILED, attempts=3),
                                                  now=LATER, extra_attempts=3), ActionStatus.PENDING, 3, LATER),
        ("a person closes a pending one", closed(ACTION, now=LATER, by="boss", reason="done by hand"),
         ActionStatus.CLOSED, 0, None),
    ],
)  # fmt: skip
def test_action_transitions(
    case: str, after: PendingAction, status: ActionStatus, attempts: int, next_at: datetime | None
) -> None:
    assert (after.status, after.attempts, after.next_attempt_at) == (status, attempts, next_at), case
    assert after.updated_at == LATER
    assert action_of_row(action_to_row(after)) == after


def test_a_retried_action_gets_a_fresh_budget_and_a_closed_one_keeps_who_and_why() -> None:
    failed = dataclasses.replace(ACTION, status=ActionStatus.FAILED, attempts=3)
    assert retried(failed, now=LATER, extra_attempts=3).max_attempts == 6
    shut = closed(failed, now=LATER, by="boss", reason="stock scrapped")
    assert (shut.closed_by, shut.close_reason) == ("boss", "stock scrapped")


@pytest.mark.parametrize("status", [ActionStatus.DONE, ActionStatus.CLOSED])
def test_done_or_closed_actions_are_not_retried_or_closed(status: ActionStatus) -> None:
    finished = dataclasses.replace(ACTION, status=status)
    with pytest.raises(NotOpen):
        retried(finished, now=LATER, extra_attempts=3)
    with pytest.raises(NotOpen):
        closed(finished, now=LATER, by="boss", reason="x")


def test_the_codec_reads_actions_written_before_the_optional_fields() -> None:
    old = action_to_dict(ACTION)
    for name in ("next_key", "hold_reason", "comment", "closed_by", "close_reason", "plant"):
        del old[name]
    assert action_of_dict(old) == ACTION
    row = action_to_row(ACTION)
    assert (row.id, row.status, row.lot_id, row.due_at) == (ACTION.id, "PENDING", "L1", AT.timestamp())


def test_action_ids_derive_from_the_upstream_key() -> None:
    assert ACTION.id == action_id("k-block-L1") != action_id("k-block-L2")


# -- saga records ---------------------------------------------------------------------------------------------------


def _place_saga(*lots: SagaLot) -> Saga:
    return Saga("SG-1", PLACE, "key", "fp", "qa", "c-1", AT, AT, lots, reason_code="OUT_OF_SPEC", comment="why")


L1 = SagaLot("L1", upstream_key("key", "hold", "L1"), upstream_key("key", "block", "L1"), plant="P1")
L2_FOUND = SagaLot("L2", upstream_key("key", "hold", "L2"), upstream_key("key", "block", "L2"), hold_id="H2")
RELEASE_SAGA = Saga("SG-2", RELEASE, "key2", "fp", "qa", "c-2", AT, AT,
                    (SagaLot("L1", "k-release", "k-unblock", hold_id="H1"),))  # fmt: skip


@pytest.mark.parametrize(
    ("case", "saga", "kinds"),
    [
        ("place, nothing recorded: the whole command per lot, the block of a lot found on hold",
         _place_saga(L1, L2_FOUND), [ActionKind.PLACE_HOLD, ActionKind.BLOCK_STOCK]),
        ("place, QMS step recorded: its actions exist already", advanced(_place_saga(L1), {"L1": "H1"}, now=AT), []),
        ("release, nothing recorded", RELEASE_SAGA, [ActionKind.RELEASE_HOLD]),
        ("release, QMS step recorded", advanced(RELEASE_SAGA, {"L1": "H1"}, now=AT), []),
    ],
)  # fmt: skip
def test_what_recovery_leaves(case: str, saga: Saga, kinds: list[ActionKind]) -> None:
    actions = remaining(saga, max_attempts=5, now=LATER)
    assert [a.kind for a in actions] == kinds, case
    assert all(a.status is ActionStatus.PENDING and a.attempts == 0 and a.max_attempts == 5 for a in actions)
    assert all(a.correlation_id == saga.correlation_id and a.requested_by == "qa" for a in actions)
    assert len(action_ids(saga)) == len(saga.lots)
    assert {a.id for a in actions} <= set(action_ids(saga))


def test_recovery_sends_the_keys_the_first_run_recorded() -> None:
    place, block = remaining(_place_saga(L1, L2_FOUND), max_attempts=5, now=LATER)
    assert (place.upstream_key, place.next_key, place.hold_reason, place.comment) == (L1.qms_key, L1.wms_key,
                                                                                      "OUT_OF_SPEC", "why")  # fmt: skip
    assert (block.upstream_key, block.hold_id) == (L2_FOUND.wms_key, "H2")
    (release,) = remaining(RELEASE_SAGA, max_attempts=5, now=LATER)
    assert (release.upstream_key, release.next_key, release.hold_id) == ("k-release", "k-unblock", "H1")


def test_the_qms_step_keeps_the_lots_on_hold_only() -> None:
    saga = advanced(_place_saga(L1, L2_FOUND), {"L2": "H2"}, now=LATER)
    assert (saga.step, [lot.lot_id for lot in saga.lots], saga.updated_at) == (SagaStep.QMS_DONE, ["L2"], LATER)


@pytest.mark.parametrize("status", list(SagaStatus))
def test_saga_codec(status: SagaStatus) -> None:
    saga = ended(advanced(_place_saga(L1, L2_FOUND), {"L1": "H1", "L2": "H2"}, now=LATER), status, now=LATER)
    row = saga_to_row(saga, lease_until=123.0)
    assert (row.id, row.status, row.lease_until) == ("SG-1", status.value, 123.0)
    assert saga_of_row(row) == saga


# -- history --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "event", "kind", "actor", "system"),
    [
        ("placed", hold_events.hold_placed(_hold("H1", "L1"), plant="P1", operation_key="k"), HistoryKind.HOLD_PLACED,
         "qa", "qms"),
        ("released", hold_events.hold_released(dataclasses.replace(_hold("H1", "L1"), released_by="boss"), plant=None,
                                               correlation_id="c-9", operation_key="k"), HistoryKind.HOLD_RELEASED,
         "boss", "qms"),
        ("action pending", hold_events.pending_action_changed(ACTION, plant=None), HistoryKind.ACTION_PENDING, "qa",
         "lotgraph"),
        ("action closed", hold_events.pending_action_changed(closed(ACTION, now=LATER, by="boss", reason="r"),
                                                             plant=None, change="closed", by="boss"),
         HistoryKind.ACTION_CLOSED, "boss", "lotgraph"),
        ("action retried", hold_events.pending_action_changed(ACTION, plant=None, change="retried", by="ops"),
         HistoryKind.ACTION_RETRIED, "ops", "lotgraph"),
    ],
)  # fmt: skip
def test_history_entries_of_events(case: str, event: object, kind: HistoryKind, actor: str, system: str) -> None:
    assert isinstance(event, Event)
    (entry,) = entries_of(event)
    assert (entry.kind, entry.actor, entry.system, entry.lot_id) == (kind, actor, system, "L1"), case
    assert entry.hold_id == "H1"
    assert entry_of_row(entry_to_row(entry, key="k")) == entry
    assert [row.key for row in rows_of(event) + rows_of(event)] == [f"{event.source_event_id}#0"] * 2


def test_history_csv_quotes_formulas() -> None:
    (entry,) = entries_of(hold_events.hold_placed(_hold("H1", "L1"), plant=None, operation_key="k"))
    text = to_csv([dataclasses.replace(entry, actor="=HYPERLINK(1)", detail='a, "b"')])
    header, line, _ = text.split("\r\n")
    assert header == "seq,at,kind,lot_id,hold_id,actor,system,correlation_id,detail"
    assert "'=HYPERLINK(1)" in line
    assert line.endswith('"a, ""b"""')
