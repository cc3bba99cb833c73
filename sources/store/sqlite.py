"""The store in one SQLite file (WAL), the embedded default: one gateway process owns it.

All SQLite work runs on one thread that owns the connection, so the event loop never waits on the disk and every
statement of one call runs in one transaction (``BEGIN IMMEDIATE``: claims and leases are atomic).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sources.sqlite_thread import SqliteThread
from sources.store.claims import decide_claim
from sources.store.protocol import ClaimLost, Fence, StoreUnavailable
from sources.store.records import DUE, FINISHED, RUNNING, ActionQuery, ActionRow, Claim, ClaimState, HistoryRow, SagaRow
from sources.store.sqlite_schema import connect

T = TypeVar("T")

ACTION_COLUMNS = "id, status, lot_id, created_at, updated_at, due_at, body"


class SqliteStore:
    def __init__(self, path: Path, *, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self.clock = clock
        self._thread = SqliteThread("lotgraph-store")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._conn = await self._run(connect, self.path)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._run(conn.close)
        self._thread.shutdown()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self._thread.run(fn, *args)
        except sqlite3.Error as exc:
            raise StoreUnavailable.because(exc) from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.OperationalError("the store is not open")
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._db()
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
            found = None if row is None else (row["fingerprint"], row["state"], row["lease_until"], row["result"])
            decided = decide_claim(found, fingerprint, now)
            if decided is not None:
                return decided
            if row is None:
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency (key, fingerprint, state, token, lease_until, result,"
                    " expires_at) VALUES (?, ?, 'running', ?, ?, NULL, ?)",
                    (key, fingerprint, token, now + lease_seconds, now + self.ttl),
                )
            else:
                conn.execute(
                    "UPDATE idempotency SET token = ?, lease_until = ? WHERE key = ?", (token, now + lease_seconds, key)
                )
            return Claim(ClaimState.CLAIMED, token)

    async def finish(self, key: str, token: str, result: str) -> bool:
        return await self._run(self._finish, key, token, result)

    def _finish(self, key: str, token: str, result: str) -> bool:
        sql = "UPDATE idempotency SET state = 'done', token = NULL, result = ?, expires_at = ? WHERE key=? AND token=?"
        with self._tx() as conn:
            return conn.execute(sql, (result, self.clock() + self.ttl, key, token)).rowcount == 1

    async def abandon(self, key: str, token: str) -> None:
        await self._run(self._in_tx, _execute, "DELETE FROM idempotency WHERE key = ? AND token = ?", (key, token))

    # saga records

    async def save_saga(
        self, saga: SagaRow, actions: Sequence[ActionRow] = (), *, lease_seconds: float = 0, fence: Fence | None = None
    ) -> None:
        await self._run(self._save_saga, saga, list(actions), lease_seconds, fence)

    def _save_saga(self, saga: SagaRow, actions: list[ActionRow], lease_seconds: float, fence: Fence | None) -> None:
        with self._tx() as conn:
            if (
                fence is not None
                and not conn.execute(
                    "UPDATE idempotency SET lease_until = ? WHERE key = ? AND token = ?",
                    (self.clock() + fence.lease_seconds, fence.key, fence.token),
                ).rowcount
            ):
                row = conn.execute("SELECT result FROM idempotency WHERE key = ?", (fence.key,)).fetchone()
                raise ClaimLost(fence.key, None if row is None else row["result"])
            conn.execute(
                "INSERT OR REPLACE INTO sagas (id, status, lease_until, updated_at, body) VALUES (?, ?, ?, ?, ?)",
                (saga.id, saga.status, saga.lease_until, saga.updated_at, saga.body),
            )
            self._insert_actions(conn, actions, lease_seconds)

    async def saga(self, saga_id: str) -> SagaRow | None:
        return await self._run(self._saga, saga_id)

    def _saga(self, saga_id: str) -> SagaRow | None:
        row = self._db().execute("SELECT * FROM sagas WHERE id = ?", (saga_id,)).fetchone()
        return None if row is None else SagaRow(**dict(row))

    async def due_sagas(self, limit: int) -> list[SagaRow]:
        return await self._run(self._due_sagas, limit)

    def _due_sagas(self, limit: int) -> list[SagaRow]:
        rows = self._db().execute(
            "SELECT * FROM sagas WHERE status = ? AND lease_until <= ? ORDER BY lease_until LIMIT ?",
            (RUNNING, self.clock(), limit),
        )
        return [SagaRow(**dict(row)) for row in rows]

    # pending actions

    async def put_actions(self, actions: Sequence[ActionRow], *, lease_seconds: float) -> None:
        if actions:
            await self._run(self._in_tx, self._insert_actions, list(actions), lease_seconds)

    def _in_tx(self, fn: Callable[..., T], *args: Any) -> T:
        with self._tx() as conn:
            return fn(conn, *args)

    def _insert_actions(self, conn: sqlite3.Connection, actions: list[ActionRow], lease_seconds: float) -> None:
        due = self.clock() + lease_seconds
        conn.executemany(
            f"INSERT OR IGNORE INTO pending_actions ({ACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(a.id, a.status, a.lot_id, a.created_at, a.updated_at, due, a.body) for a in actions],
        )

    async def save_actions(
        self, actions: Sequence[ActionRow], *, expected: Mapping[str, float] | None = None
    ) -> list[str]:
        return await self._run(self._save_actions, list(actions), expected or {}) if actions else []

    def _save_actions(self, actions: list[ActionRow], expected: Mapping[str, float]) -> list[str]:
        sql = "UPDATE pending_actions SET status = ?, due_at = ?, updated_at = ?, body = ? WHERE id = ?"
        saved = []
        with self._tx() as conn:
            for a in actions:
                check = (expected[a.id],) if a.id in expected else ()
                values = (a.status, a.due_at, a.updated_at, a.body, a.id, *check)
                if conn.execute(sql + (" AND updated_at = ?" if check else ""), values).rowcount:
                    saved.append(a.id)
        return saved

    async def remove_actions(self, ids: Sequence[str]) -> None:
        marks = ",".join("?" * len(ids))
        if ids:
            await self._run(self._in_tx, _execute, f"DELETE FROM pending_actions WHERE id IN ({marks})", list(ids))

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[ActionRow]:
        return await self._run(self._lease_due, limit, lease_seconds)

    def _lease_due(self, limit: int, lease_seconds: float) -> list[ActionRow]:
        now = self.clock()
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE pending_actions SET due_at = ? WHERE id IN (SELECT id FROM pending_actions"
                f" WHERE status = ? AND due_at <= ? ORDER BY due_at LIMIT ?) RETURNING {ACTION_COLUMNS}",
                (now + lease_seconds, DUE, now, limit),
            ).fetchall()
        return sorted((ActionRow(**dict(row)) for row in rows), key=lambda a: a.created_at)

    async def action_rows(self, ids: Sequence[str]) -> list[ActionRow]:
        return await self._run(self._action_rows, list(ids))

    def _action_rows(self, ids: list[str]) -> list[ActionRow]:
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(f"SELECT {ACTION_COLUMNS} FROM pending_actions WHERE id IN ({marks})", ids)
        found = {row["id"]: ActionRow(**dict(row)) for row in rows}
        return [found[i] for i in ids if i in found]

    async def actions(self, query: ActionQuery) -> list[ActionRow]:
        return await self._run(self._actions, query)

    def _actions(self, query: ActionQuery) -> list[ActionRow]:
        where, params = self._where(query)
        if query.after is not None:
            where += " AND (created_at < ? OR (created_at = ? AND id > ?))"
            params += [query.after[0], query.after[0], query.after[1]]
        sql = f"SELECT {ACTION_COLUMNS} FROM pending_actions WHERE {where} ORDER BY created_at DESC, id LIMIT ?"
        return [ActionRow(**dict(row)) for row in self._db().execute(sql, [*params, query.limit])]

    async def count_actions(self, query: ActionQuery) -> int:
        return await self._run(self._count_actions, query)

    def _count_actions(self, query: ActionQuery) -> int:
        where, params = self._where(query)
        return int(self._db().execute(f"SELECT COUNT(*) FROM pending_actions WHERE {where}", params).fetchone()[0])

    @staticmethod
    def _where(query: ActionQuery) -> tuple[str, list[Any]]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if query.statuses is not None:
            where.append(f"status IN ({','.join('?' * len(query.statuses))})")
            params += list(query.statuses)
        if query.lot_id is not None:
            where.append("lot_id = ?")
            params.append(query.lot_id)
        if query.created_before is not None:
            where.append("created_at < ?")
            params.append(query.created_before)
        return " AND ".join(where), params

    async def next_due(self) -> float | None:
        return await self._run(self._next_due)

    def _next_due(self) -> float | None:
        row = self._db().execute("SELECT MIN(due_at) FROM pending_actions WHERE status = ?", (DUE,)).fetchone()
        return None if row[0] is None else float(row[0])

    # hold history

    async def append_history(self, entries: Sequence[HistoryRow]) -> None:
        if entries:
            await self._run(self._append_history, list(entries))

    def _append_history(self, entries: list[HistoryRow]) -> None:
        with self._tx() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO hold_history (key, lot_id, hold_id, at, body) VALUES (?, ?, ?, ?, ?)",
                [(e.key, e.lot_id, e.hold_id, e.at, e.body) for e in entries],
            )

    async def history(
        self, *, lot_id: str | None, hold_id: str | None, after: int | None, limit: int
    ) -> list[HistoryRow]:
        return await self._run(self._history, lot_id, hold_id, after or 0, limit)

    def _history(self, lot_id: str | None, hold_id: str | None, after: int, limit: int) -> list[HistoryRow]:
        column, value = ("lot_id", lot_id) if lot_id is not None else ("hold_id", hold_id)
        rows = self._db().execute(
            f"SELECT * FROM hold_history WHERE {column} = ? AND seq > ? ORDER BY seq LIMIT ?", (value, after, limit)
        )
        return [HistoryRow(**dict(row)) for row in rows]

    async def count_history(self, *, lot_id: str | None, hold_id: str | None) -> int:
        return await self._run(self._count_history, lot_id, hold_id)

    def _count_history(self, lot_id: str | None, hold_id: str | None) -> int:
        column, value = ("lot_id", lot_id) if lot_id is not None else ("hold_id", hold_id)
        return int(self._db().execute(f"SELECT COUNT(*) FROM hold_history WHERE {column} = ?", (value,)).fetchone()[0])

    async def purge(self) -> int:
        return await self._run(self._purge)

    def _purge(self) -> int:
        now = self.clock()
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (now,)).rowcount
            gone += conn.execute(
                "DELETE FROM pending_actions WHERE status = ? AND updated_at <= ?", (FINISHED, now - self.ttl)
            ).rowcount
            gone += conn.execute(
                "DELETE FROM sagas WHERE status != ? AND updated_at <= ?", (RUNNING, now - self.ttl)
            ).rowcount
        return gone


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> None:
    conn.execute(sql, params)
