"""The durable store: idempotency records of commands, their saga records, the pending actions of their later
steps, and the hold history (audit trail).

One ``Store`` protocol, two implementations: ``SqliteStore`` (a file under the data directory, the embedded
default; one process) and ``sources.store.redis.RedisStore`` (shared by replicas). Both pass the same tests.

Idempotency. ``claim(key, fingerprint)`` atomically answers one of

- ``CLAIMED``: the caller runs the command, then ``finish``es it with its answer (kept for the TTL) or
  ``abandon``s it (the command changed nothing: the key may be used again);
- ``DONE``: the same request already ran; its answer is returned;
- ``IN_PROGRESS``: the same request is running now (its lease has not run out);
- ``REUSED``: the key was used with another request.

A claim carries a lease: if the process running it dies, a repeat of the request (or recovery) takes the claim
over once the lease has run out — atomically, so only one does. The run that was taken over may still be going
(slow, not dead): its writes are fenced by its claim's token (``save_saga(..., fence=)``), so once the claim is
taken over they write nothing and raise ``ClaimLost``, and the run stops; each fenced write renews the lease.

Saga records. A command writes its intent (``save_saga``) before its first upstream command and advances it per
step, together with the pending actions a step leaves (one transaction). ``due_sagas`` lists the RUNNING ones
whose lease has run out: their process died.

Pending actions. A command writes the actions of its later steps before it tries them (leased to itself), removes
those that succeed and saves those that fail with their next attempt time. ``lease_due`` hands due actions to one
retry worker at a time (across replicas) by moving their due time to the end of the lease, so an action whose
worker dies becomes due again.
"""

from __future__ import annotations

from sources.store.protocol import ClaimLost, Fence, Store, StoreUnavailable
from sources.store.records import DUE, FINISHED, RUNNING, ActionQuery, ActionRow, Claim, ClaimState, HistoryRow, SagaRow
from sources.store.sqlite import SqliteStore

__all__ = [
    "DUE",
    "FINISHED",
    "RUNNING",
    "ActionQuery",
    "ActionRow",
    "Claim",
    "ClaimLost",
    "ClaimState",
    "Fence",
    "HistoryRow",
    "SagaRow",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
]
