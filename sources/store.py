"""The durable local store: idempotency records of commands, and the pending actions of a command's later steps.

Two implementations behind one ``Store`` protocol: ``SqliteStore`` (a file under the data directory, the
embedded default) and ``sources.redis_store.RedisStore`` (shared by replicas).

Idempotency. ``claim(key, fingerprint)`` atomically answers one of

- ``CLAIMED``: the caller runs the command, then ``finish``es it with its answer (kept for the TTL) or
  ``abandon``s it (the command changed nothing: the key may be used again);
- ``DONE``: the same request already ran; its answer is returned;
- ``IN_PROGRESS``: the same request is running now (its lease has not run out);
- ``REUSED``: the key was used with another request.

A claim carries a lease: if the process running it dies, a repeat of the request takes the claim over once the
lease has run out.

Pending actions. A command writes the actions of its later steps before it tries them (leased to itself), removes
those that succeed and saves those that fail with their next attempt time. ``lease_due`` hands due actions to one
retry worker at a time (across replicas) by moving their due time to the end of the lease, so an action whose
worker dies becomes due again.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sources.errors import SourceUnavailable

T = TypeVar("T")


class StoreUnavailable(SourceUnavailable):
    """The durable store could not be read or written."""

    def __init__(self, message: str = "the durable store is unavailable") -> None:
        super().__init__("store", message)


# -- idempotency ------------------------------------------------------------------------------------------------


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


# -- pending actions ----------------------------------------------------------------------------------------------


class ActionKind(Enum):
    BLOCK_STOCK = "BLOCK_STOCK"
    UNBLOCK_STOCK = "UNBLOCK_STOCK"


class ActionStatus(Enum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A later step of a command that must still happen (or that happened after a retry, or was given up on)."""

    id: str
    kind: ActionKind
    lot_id: str
    hold_id: str
    operation: str
    """The command that made it: ``placeHold`` or ``releaseHold``."""
    upstream_key: str
    """The ``Idempotency-Key`` every attempt sends, so the system of record applies it once."""
    reason: str
    """What the WMS records with the block."""
    requested_by: str
    correlation_id: str
    created_at: datetime
    updated_at: datetime
    max_attempts: int
    status: ActionStatus = ActionStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    outcome: str | None = None
    """What the successful attempt did, in words (e.g. "stock blocked at 2 locations")."""
    plant: str | None = None
    """The lot's plant (MES), for the metadata of the events the action publishes."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind.value,
                "lot_id": self.lot_id,
                "hold_id": self.hold_id,
                "operation": self.operation,
                "upstream_key": self.upstream_key,
                "reason": self.reason,
                "requested_by": self.requested_by,
                "correlation_id": self.correlation_id,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "max_attempts": self.max_attempts,
                "status": self.status.value,
                "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "last_error": self.last_error,
                "outcome": self.outcome,
                "plant": self.plant,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingAction:
        d: dict[str, Any] = json.loads(text)
        return cls(
            id=d["id"],
            kind=ActionKind(d["kind"]),
            lot_id=d["lot_id"],
            hold_id=d["hold_id"],
            operation=d["operation"],
            upstream_key=d["upstream_key"],
            reason=d["reason"],
            requested_by=d["requested_by"],
            correlation_id=d["correlation_id"],
            created_at=datetime.fromisoformat(d["created_at"]),
            updated_at=datetime.fromisoformat(d["updated_at"]),
            max_attempts=int(d["max_attempts"]),
            status=ActionStatus(d["status"]),
            attempts=int(d["attempts"]),
            next_attempt_at=datetime.fromisoformat(d["next_attempt_at"]) if d["next_attempt_at"] else None,
            last_error=d["last_error"],
            outcome=d["outcome"],
            plant=d.get("plant"),
        )


def new_action_id() -> str:
    return "PA-" + uuid.uuid4().hex[:20]


def utc_now() -> datetime:
    return datetime.now(UTC)


def due_time(action: PendingAction) -> float:
    """When a worker should next take the action up (epoch seconds)."""
    return (action.next_attempt_at or action.updated_at).timestamp()


class Store(Protocol):
    async def claim(self, key: str, fingerprint: str, *, lease_seconds: float) -> Claim: ...

    async def finish(self, key: str, token: str, result: str) -> bool:
        """Store the answer of a claimed run; False if the claim was lost (taken over after its lease)."""
        ...

    async def abandon(self, key: str, token: str) -> None:
        """Forget a claimed run that changed nothing, so the key may be used again."""
        ...

    async def put_actions(self, actions: Sequence[PendingAction], *, lease_seconds: float) -> None:
        """Record new actions, leased to the caller (which tries them now) for ``lease_seconds``."""
        ...

    async def save_actions(self, actions: Sequence[PendingAction]) -> None:
        """Record the state after an attempt; a PENDING action becomes due at its ``next_attempt_at``."""
        ...

    async def remove_actions(self, ids: Sequence[str]) -> None: ...

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[PendingAction]:
        """Due PENDING actions, each handed to one caller only until its lease runs out."""
        ...

    async def actions(self, statuses: Collection[ActionStatus] | None, limit: int) -> list[PendingAction]:
        """Actions, newest first, optionally of some statuses only."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest PENDING action is due (epoch seconds), or None."""
        ...

    async def purge(self) -> int:
        """Forget expired idempotency records and DONE actions older than the TTL; returns how many."""
        ...

    async def aclose(self) -> None: ...


# -- SQLite ---------------------------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    token TEXT,
    lease_until REAL NOT NULL,
    result TEXT,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_actions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    due_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_actions_due ON pending_actions (status, due_at);
CREATE INDEX IF NOT EXISTS pending_actions_created ON pending_actions (created_at);
"""


class SqliteStore:
    """The store in one SQLite file (WAL). All SQLite work runs on one thread that owns the connection, so the
    event loop never waits on the disk and every statement of one call runs in one transaction."""

    def __init__(self, path: Path, *, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self.clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotgraph-store")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._run(self._open)

    async def aclose(self) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            raise StoreUnavailable() from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise sqlite3.OperationalError("the store is not open")
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # idempotency

    async def claim(self, key: str, fingerprint: str, *, lease_seconds: float) -> Claim:
        return await self._run(self._claim, key, fingerprint, lease_seconds)

    def _claim(self, key: str, fingerprint: str, lease_seconds: float) -> Claim:
        now = self.clock()
        token = uuid.uuid4().hex
        with self._tx() as conn:
            row = conn.execute(
                "SELECT fingerprint, state, lease_until, result FROM idempotency WHERE key = ? AND expires_at > ?",
                (key, now),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency (key, fingerprint, state, token, lease_until, result,"
                    " expires_at) VALUES (?, ?, 'running', ?, ?, NULL, ?)",
                    (key, fingerprint, token, now + lease_seconds, now + self.ttl),
                )
                return Claim(ClaimState.CLAIMED, token)
            if row["fingerprint"] != fingerprint:
                return Claim(ClaimState.REUSED)
            if row["state"] == "done":
                return Claim(ClaimState.DONE, result=row["result"])
            if row["lease_until"] > now:
                return Claim(ClaimState.IN_PROGRESS)
            conn.execute(
                "UPDATE idempotency SET token = ?, lease_until = ? WHERE key = ?", (token, now + lease_seconds, key)
            )
            return Claim(ClaimState.CLAIMED, token)

    async def finish(self, key: str, token: str, result: str) -> bool:
        return await self._run(self._finish, key, token, result)

    def _finish(self, key: str, token: str, result: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE idempotency SET state = 'done', token = NULL, result = ?, expires_at = ?"
                " WHERE key = ? AND token = ?",
                (result, self.clock() + self.ttl, key, token),
            )
            return cursor.rowcount == 1

    async def abandon(self, key: str, token: str) -> None:
        await self._run(self._abandon, key, token)

    def _abandon(self, key: str, token: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ? AND token = ?", (key, token))

    # pending actions

    async def put_actions(self, actions: Sequence[PendingAction], *, lease_seconds: float) -> None:
        if actions:
            await self._run(self._put_actions, list(actions), lease_seconds)

    def _put_actions(self, actions: list[PendingAction], lease_seconds: float) -> None:
        due = self.clock() + lease_seconds
        rows = [
            (a.id, a.status.value, due, a.created_at.timestamp(), a.updated_at.timestamp(), a.to_json())
            for a in actions
        ]
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO pending_actions (id, status, due_at, created_at, updated_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    async def save_actions(self, actions: Sequence[PendingAction]) -> None:
        if actions:
            await self._run(self._save_actions, list(actions))

    def _save_actions(self, actions: list[PendingAction]) -> None:
        rows = [(a.status.value, due_time(a), a.updated_at.timestamp(), a.to_json(), a.id) for a in actions]
        with self._tx() as conn:
            conn.executemany(
                "UPDATE pending_actions SET status = ?, due_at = ?, updated_at = ?, body = ? WHERE id = ?", rows
            )

    async def remove_actions(self, ids: Sequence[str]) -> None:
        if ids:
            await self._run(self._remove_actions, list(ids))

    def _remove_actions(self, ids: list[str]) -> None:
        with self._tx() as conn:
            conn.executemany("DELETE FROM pending_actions WHERE id = ?", [(i,) for i in ids])

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[PendingAction]:
        return await self._run(self._lease_due, limit, lease_seconds)

    def _lease_due(self, limit: int, lease_seconds: float) -> list[PendingAction]:
        now = self.clock()
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE pending_actions SET due_at = ? WHERE id IN (SELECT id FROM pending_actions"
                " WHERE status = 'PENDING' AND due_at <= ? ORDER BY due_at LIMIT ?) RETURNING body",
                (now + lease_seconds, now, limit),
            ).fetchall()
        return [PendingAction.from_json(row["body"]) for row in rows]

    async def actions(self, statuses: Collection[ActionStatus] | None, limit: int) -> list[PendingAction]:
        return await self._run(self._actions, None if statuses is None else [s.value for s in statuses], limit)

    def _actions(self, statuses: list[str] | None, limit: int) -> list[PendingAction]:
        if self._conn is None:
            raise sqlite3.OperationalError("the store is not open")
        params: list[Any] = [limit]
        if statuses is None:
            sql = "SELECT body FROM pending_actions ORDER BY created_at DESC, id LIMIT ?"
        else:
            marks = ",".join("?" * len(statuses))
            sql = f"SELECT body FROM pending_actions WHERE status IN ({marks}) ORDER BY created_at DESC, id LIMIT ?"
            params = [*statuses, limit]
        return [PendingAction.from_json(row["body"]) for row in self._conn.execute(sql, params)]

    async def next_due(self) -> float | None:
        return await self._run(self._next_due)

    def _next_due(self) -> float | None:
        if self._conn is None:
            raise sqlite3.OperationalError("the store is not open")
        row = self._conn.execute("SELECT MIN(due_at) FROM pending_actions WHERE status = 'PENDING'").fetchone()
        return None if row[0] is None else float(row[0])

    async def purge(self) -> int:
        return await self._run(self._purge)

    def _purge(self) -> int:
        now = self.clock()
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (now,)).rowcount
            gone += conn.execute(
                "DELETE FROM pending_actions WHERE status = 'DONE' AND updated_at <= ?", (now - self.ttl,)
            ).rowcount
        return gone


def attempted(
    action: PendingAction,
    *,
    now: datetime,
    error: str | None,
    retry_in: float | None,
    outcome: str | None = None,
) -> PendingAction:
    """The action after one attempt: DONE when ``error`` is None; else PENDING again in ``retry_in`` seconds, or
    FAILED when ``retry_in`` is None (given up)."""
    attempts = action.attempts + 1
    if error is None:
        return replace(
            action, status=ActionStatus.DONE, attempts=attempts, updated_at=now, next_attempt_at=None, outcome=outcome
        )
    if retry_in is None:
        return replace(
            action,
            status=ActionStatus.FAILED,
            attempts=attempts,
            updated_at=now,
            next_attempt_at=None,
            last_error=error,
        )
    return replace(
        action,
        attempts=attempts,
        updated_at=now,
        last_error=error,
        next_attempt_at=datetime.fromtimestamp(now.timestamp() + retry_in, UTC),
    )
