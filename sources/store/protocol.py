"""The ``Store`` protocol every durable store implements, its errors, and the fence of a write."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sources.errors import SourceUnavailable
from sources.store.records import ActionQuery, ActionRow, Claim, HistoryRow, SagaRow

log = logging.getLogger("lotgraph.store")


class StoreUnavailable(SourceUnavailable):
    """The durable store could not be read or written."""

    def __init__(self, message: str = "the durable store is unavailable") -> None:
        super().__init__("store", message)

    @classmethod
    def because(cls, exc: BaseException) -> StoreUnavailable:
        """The error for a failed store call, logged with its cause (clients see only the message above)."""
        log.warning("store call failed: %s: %s", type(exc).__name__, exc)
        return cls()


@dataclass(frozen=True, slots=True)
class Fence:
    """The idempotency claim a write is made under (``save_saga(..., fence=)``): the write happens only while the
    claim of ``key`` is still held with ``token``, and renews its lease to ``lease_seconds`` from now."""

    key: str
    token: str
    lease_seconds: float


class ClaimLost(Exception):
    """A fenced write found its claim taken over (its lease ran out and another run claimed the key): nothing was
    written. ``result`` is the answer stored under the key if the run that took it over has finished."""

    def __init__(self, key: str, result: str | None) -> None:
        super().__init__(f"the claim of {key!r} was taken over")
        self.key = key
        self.result = result


class Store(Protocol):
    # idempotency
    async def claim(self, key: str, fingerprint: str, *, lease_seconds: float) -> Claim: ...

    async def finish(self, key: str, token: str, result: str) -> bool:
        """Store the answer of a claimed run; False if the claim was lost (taken over after its lease)."""
        ...

    async def abandon(self, key: str, token: str) -> None:
        """Forget a claimed run that changed nothing, so the key may be used again."""
        ...

    # saga records
    async def save_saga(
        self, saga: SagaRow, actions: Sequence[ActionRow] = (), *, lease_seconds: float = 0, fence: Fence | None = None
    ) -> None:
        """Write (or replace) a saga record, and record new ``actions`` leased to the caller, in one transaction.
        With a ``fence``, only if its claim is still held with its token, renewing the claim's lease in the same
        transaction; else nothing is written and ``ClaimLost`` is raised."""
        ...

    async def saga(self, saga_id: str) -> SagaRow | None: ...

    async def due_sagas(self, limit: int) -> list[SagaRow]:
        """RUNNING saga records whose lease has run out, oldest first."""
        ...

    # pending actions
    async def put_actions(self, actions: Sequence[ActionRow], *, lease_seconds: float) -> None:
        """Record new actions, leased to the caller (which tries them now) for ``lease_seconds``; an id already
        recorded is left as it is."""
        ...

    async def save_actions(
        self, actions: Sequence[ActionRow], *, expected: Mapping[str, float] | None = None
    ) -> list[str]:
        """Record the state after an attempt; a PENDING action becomes due at its ``due_at``. With ``expected`` (id
        -> the ``updated_at`` the caller read), an action changed since — closed or retried by a person — is left as
        it is. Returns the ids saved."""
        ...

    async def remove_actions(self, ids: Sequence[str]) -> None: ...

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[ActionRow]:
        """Due PENDING actions, each handed to one caller only until its lease runs out."""
        ...

    async def action_rows(self, ids: Sequence[str]) -> list[ActionRow]:
        """The actions of these ids that exist, in the order given."""
        ...

    async def actions(self, query: ActionQuery) -> list[ActionRow]: ...

    async def count_actions(self, query: ActionQuery) -> int:
        """How many actions match the query's filters (its cursor and limit aside)."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest PENDING action is due (epoch seconds), or None."""
        ...

    # hold history
    async def append_history(self, entries: Sequence[HistoryRow]) -> None: ...

    async def history(
        self, *, lot_id: str | None, hold_id: str | None, after: int | None, limit: int
    ) -> list[HistoryRow]:
        """Entries of a lot or of a hold (one of the two), oldest first, after the entry ``after`` (its seq)."""
        ...

    async def count_history(self, *, lot_id: str | None, hold_id: str | None) -> int: ...

    async def purge(self) -> int:
        """Forget expired idempotency records, DONE actions and finished saga records older than the TTL."""
        ...

    async def aclose(self) -> None: ...
