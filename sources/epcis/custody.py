"""EPCIS events as custody and containment of lots (plain functions over ``sources.epcis.events.Event``).

- Containment: an AggregationEvent ``ADD`` (or ``OBSERVE``) with the lot among its children puts the lot in the
  parent (an SSCC pallet or case) from that time; a later ``DELETE`` of that parent that names the lot, or names no
  children (everything out), takes it out.
- Custody: an ObjectEvent or AggregationEvent with bizStep ``shipping`` or ``receiving`` that names the lot, or that
  names a container while the lot was in it (a pallet shipped by its SSCC alone, as GS1 examples do). Parties are
  read from the source and destination lists (``owning_party`` first, then ``possessing_party``), places from
  their ``location`` entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sources.custody import Aggregation, Contained, Custody, CustodyEvent
from sources.epcis.events import Event, Party, Quantity
from sources.epcis.genealogy import lot_id
from sources.units import plain

CUSTODY_STEPS = frozenset({"shipping", "receiving"})
PARTY_TYPES = ("owning_party", "possessing_party")

Stay = tuple[str, datetime, datetime | None]
"""A lot in a container: the parent, from, until (None: not taken out as far as the events tell)."""


def children(event: Event) -> list[Contained]:
    quantities = [Contained(lot_id(q.epc_class), q.quantity, plain(q.uom) if q.uom else None) for q in event.quantities]
    return [*quantities, *(Contained(lot_id(e), None, None) for e in event.epcs)]


def stays(events: Iterable[Event], lot: str) -> list[Stay]:
    """When ``lot`` was in which container, from the aggregation events among ``events``."""
    found: list[Stay] = []
    for event in sorted(events, key=lambda e: e.event_time):
        if event.type != "AggregationEvent" or event.parent_id is None:
            continue
        kids = children(event)
        inside = any(c.id == lot for c in kids)
        open_now = [i for i, s in enumerate(found) if s[0] == event.parent_id and s[2] is None]
        if event.action in ("ADD", "OBSERVE") and inside and not open_now:
            found.append((event.parent_id, event.event_time, None))
        elif event.action == "DELETE" and (inside or not kids):
            for i in open_now:
                found[i] = (found[i][0], found[i][1], event.event_time)
    return found


def containers_of(events: Iterable[Event], lots: Iterable[str]) -> set[str]:
    """The containers any of ``lots`` was put in (aggregation ``ADD`` or ``OBSERVE`` naming it as a child)."""
    wanted = set(lots)
    return {
        e.parent_id
        for e in events
        if e.type == "AggregationEvent"
        and e.parent_id
        and e.action in ("ADD", "OBSERVE")
        and any(c.id in wanted for c in children(e))
    }


def _party(parties: tuple[Party, ...]) -> str | None:
    for kind in PARTY_TYPES:
        for party in parties:
            if party.type == kind:
                return party.id
    return None


def _location(parties: tuple[Party, ...]) -> str | None:
    return next((p.id for p in parties if p.type == "location"), None)


def _quantity(event: Event, lot: str) -> Quantity | None:
    return next((q for q in event.quantities if lot_id(q.epc_class) == lot), None)


def _custody(event: Event, lot: str, container: str | None, packed: Contained | None) -> CustodyEvent:
    own = _quantity(event, lot)
    quantity, uom = (own.quantity, plain(own.uom) if own.uom else None) if own else (None, None)
    if own is None and packed is not None:
        quantity, uom = packed.quantity, packed.uom
    reference = event.biz_transactions[0] if event.biz_transactions else None
    return CustodyEvent(
        lot_id=lot,
        event_id=event.event_id,
        at=event.event_time,
        biz_step=event.biz_step or "",
        disposition=event.disposition,
        from_party=_party(event.sources),
        from_location=_location(event.sources),
        to_party=_party(event.destinations),
        to_location=_location(event.destinations),
        biz_location=event.biz_location,
        read_point=event.read_point,
        container=container,
        quantity=quantity,
        uom=uom,
        reference_type=(reference.type or None) if reference else None,
        reference=reference.id if reference else None,
    )


def _packed(events: list[Event], parent: str, lot: str, since: datetime) -> Contained | None:
    for event in events:
        if event.type == "AggregationEvent" and event.parent_id == parent and event.event_time == since:
            return next((c for c in children(event) if c.id == lot), None)
    return None


def _named(event: Event) -> set[str]:
    """The lot ids (and EPCs) an event names, its parent included."""
    return {lot_id(epc) for epc in event.classes} | ({event.parent_id} if event.parent_id else set())


def moves_of(events: list[Event], lot: str, lot_stays: list[Stay]) -> list[CustodyEvent]:
    """The lot's custody events among ``events`` (sorted by time)."""
    found = []
    for event in events:
        if event.biz_step not in CUSTODY_STEPS or event.type not in ("ObjectEvent", "AggregationEvent"):
            continue
        named = _named(event)
        if lot in named and event.parent_id != lot:
            found.append(_custody(event, lot, None, None))
            continue
        for parent, since, until in lot_stays:
            if parent in named and since <= event.event_time and (until is None or event.event_time <= until):
                found.append(_custody(event, lot, parent, _packed(events, parent, lot, since)))
                break
    return found


def aggregation(event: Event) -> Aggregation:
    assert event.parent_id is not None
    return Aggregation(
        event_id=event.event_id,
        at=event.event_time,
        action=event.action or "",
        biz_step=event.biz_step,
        parent_id=event.parent_id,
        children=tuple(children(event)),
        biz_location=event.biz_location,
        read_point=event.read_point,
    )


def aggregations_of(events: list[Event], lot: str, parents: set[str]) -> list[Aggregation]:
    """The lot's aggregation events among ``events`` (sorted by time): naming it as a child or as the parent, and
    those that emptied one of the containers it was in (``parents``)."""
    found = []
    for event in events:
        if event.type != "AggregationEvent" or event.parent_id is None:
            continue
        kids = children(event)
        if event.parent_id == lot or any(c.id == lot for c in kids) or (event.parent_id in parents and not kids):
            found.append(aggregation(event))
    return found


def custody_of(events: Iterable[Event], lots: Iterable[str]) -> dict[str, Custody]:
    """Each lot's custody and containment, oldest first (a lot the events say nothing of is absent). Each lot looks
    only at the events that name it and at those that name a container it was put in."""
    by_name: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: (e.event_time, e.event_id or "")):
        for name in _named(event):
            by_name.setdefault(name, []).append(event)
    found = {}
    for lot in dict.fromkeys(lots):
        own = by_name.get(lot, [])
        parents = {stay[0] for stay in stays(own, lot)}
        related = _merged([own, *(by_name.get(p, []) for p in sorted(parents))])
        lot_stays = stays(related, lot)
        custody = Custody(tuple(moves_of(related, lot, lot_stays)), tuple(aggregations_of(related, lot, parents)))
        if custody.moves or custody.aggregations:
            found[lot] = custody
    return found


def _merged(groups: list[list[Event]]) -> list[Event]:
    unique = {id(e): e for group in groups for e in group}
    return sorted(unique.values(), key=lambda e: (e.event_time, e.event_id or ""))
