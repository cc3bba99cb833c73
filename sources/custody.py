"""Plain records of custody and containment: who held a lot where and when, and what it was packed in.

Kept beside ``sources.records`` (same rules: frozen dataclasses, no I/O, no GraphQL); schema/ reaches them through
``resolvers.custody``. Parties and places are the ids the source gives: GS1 party GLNs (``urn:epc:id:pgln:…``) and
location GLNs (``urn:epc:id:sgln:…``) where the source has them, its own URIs otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """A lot changing hands or place: a ``shipping`` or ``receiving`` event naming the lot, or naming a container
    (an SSCC pallet or case) the lot was packed in at the time."""

    lot_id: str
    event_id: str | None
    at: datetime
    biz_step: str
    """``shipping`` or ``receiving`` (CBV short names)."""
    disposition: str | None
    from_party: str | None
    from_location: str | None
    to_party: str | None
    to_location: str | None
    biz_location: str | None
    read_point: str | None
    container: str | None
    """The container the event names, when the lot travelled in it (the event does not name the lot itself)."""
    quantity: float | None
    uom: str | None
    reference_type: str | None
    """The first business transaction's CBV type (``desadv``, ``po``, ``bol`` …)."""
    reference: str | None


@dataclass(frozen=True, slots=True)
class Contained:
    """One child of an aggregation: a lot (its id) or an instance EPC, with the quantity packed when given."""

    id: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True, slots=True)
class Aggregation:
    """An AggregationEvent: children packed into (``ADD``), seen in (``OBSERVE``) or taken out of (``DELETE``) a
    parent container. A ``DELETE`` without children empties the container."""

    event_id: str | None
    at: datetime
    action: str
    biz_step: str | None
    parent_id: str
    children: tuple[Contained, ...]
    biz_location: str | None
    read_point: str | None


@dataclass(frozen=True, slots=True)
class Custody:
    """What a source knows of one lot's custody and containment, oldest first."""

    moves: tuple[CustodyEvent, ...]
    aggregations: tuple[Aggregation, ...]
    """Aggregation events naming the lot as a child or as the parent, and those that emptied a container it was
    in."""
    containers: bool = True
    """False when the source keeps no containers at all: its ``aggregations`` say nothing (not "none")."""


NO_CUSTODY = Custody((), ())
