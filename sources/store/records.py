"""What the durable store keeps, as rows: the columns it indexes and a body (JSON) it never reads.

The store knows nothing of holds: the commands encode their records (pending actions, saga records, history
entries) into these rows and decode them back. Three status values have a meaning for the store:

- a pending action with status ``PENDING`` is due at its ``due_at`` (``lease_due`` hands it out);
- a pending action with status ``DONE`` is forgotten after the store's TTL;
- a saga record with status ``RUNNING`` is handed to recovery once its ``lease_until`` has passed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

DUE = "PENDING"
FINISHED = "DONE"
RUNNING = "RUNNING"


class ClaimState(Enum):
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    IN_PROGRESS = "IN_PROGRESS"
    REUSED = "REUSED"


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    token: str = ""
    """For ``CLAIMED``: what ``finish`` and ``abandon`` must show, so a taken-over claim is not overwritten."""
    result: str | None = None
    """For ``DONE``: the answer stored by the first run."""


@dataclass(frozen=True, slots=True)
class ActionRow:
    id: str
    status: str
    lot_id: str
    created_at: float
    updated_at: float
    due_at: float
    """Epoch seconds when a ``PENDING`` action is next due (ignored for the others)."""
    body: str


@dataclass(frozen=True, slots=True)
class ActionQuery:
    """Which actions to list: newest first (by creation time, then id), after a cursor, filtered."""

    statuses: Collection[str] | None = None
    lot_id: str | None = None
    created_before: float | None = None
    """Only actions created before this (epoch seconds): those older than an age."""
    after: tuple[float, str] | None = None
    """The (created_at, id) of the last action of the previous page."""
    limit: int = 100


@dataclass(frozen=True, slots=True)
class SagaRow:
    """The durable intent of one command (a saga record), written before its first upstream command."""

    id: str
    status: str
    lease_until: float
    """Until when the command that writes it is running it; after that, recovery may take it over."""
    updated_at: float
    body: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One entry of the audit trail, found by lot and by hold, in the order appended."""

    key: str
    """Unique per entry: an entry appended again (the same change announced twice) is kept once."""
    lot_id: str
    hold_id: str | None
    at: float
    body: str
    seq: int = 0
    """Given by the store on append; a cursor for paging (increasing)."""
