"""The store in PostgreSQL (``LOTGRAPH_STORE=postgres``), shared by every gateway replica: the production choice.

Over asyncpg with a pool (``postgres.pool_size`` connections per process). The tables are created and changed by
the numbered migrations of ``postgres_schema``, applied at start-up (``open``) or by ``lotgraph migrate``.

Every call that writes more than one row runs in one transaction: a saga record and the actions its step leaves
commit together. A claim locks its idempotency row (``SELECT … FOR UPDATE``), so two replicas never both claim a
key or both take over an expired claim. A fenced write (``save_saga(..., fence=)``) renews the claim's lease in its
transaction with an ``UPDATE … WHERE token = …``, which locks that row too: a take-over waits for it (and then
finds the lease renewed), and once the claim is taken over the write matches no row and commits nothing.
``lease_due`` picks due actions with ``FOR UPDATE SKIP LOCKED`` and moves their due time to the end of the lease in
the same statement: replicas polling together get disjoint actions, and none waits on another. ``due_sagas`` skips
locked rows too; the claim of the saga's key then decides which replica recovers it.

A connection that fails (PostgreSQL down, restarting, unreachable) raises ``StoreUnavailable``; a transaction that
did not commit changed nothing, so a command refused then may be repeated with the same key once it is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from sources.store.claims import decide_claim
from sources.store.postgres_schema import migrate
from sources.store.postgres_sql import (
    ACTION_COLUMNS,
    CLAIM_NEW,
    CLAIM_READ,
    CLAIM_REPLACE,
    FENCE,
    FENCE_LOST,
    LEASE_DUE,
)
from sources.store.protocol import ClaimLost, Fence, StoreUnavailable
from sources.store.records import DUE, FINISHED, RUNNING, ActionQuery, ActionRow, Claim, ClaimState, HistoryRow, SagaRow

if TYPE_CHECKING:
    from sources.store.postgres_schema import Conn

T = TypeVar("T")

CUT = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # the server shutting down or starting
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection left mid-operation when the server went away
    OSError,
    TimeoutError,
)
"""What a call raises when its connection is gone (a restart, a shutdown, the network)."""
FAILURES = (asyncpg.PostgresError, *CUT)
"""What a call raises when PostgreSQL cannot serve it: a connection gone, or an error of the server."""


class PostgresStore:
    def __init__(
        self, url: str, *, ttl_seconds: float, pool_size: int = 10, clock: Callable[[], float] = time.time
    ) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self.pool_size = pool_size
        self.clock = clock
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, timeout=5, command_timeout=10
            )
            async with self._pool.acquire() as conn:
                await migrate(conn)
        except FAILURES as exc:
            await self.aclose()
            raise StoreUnavailable.because(exc) from exc

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def run(self, work: Callable[[Conn], Awaitable[T]], *, tx: bool = False) -> T:
        """``work`` on a connection of the pool (in one transaction with ``tx``); a failure is ``StoreUnavailable``."""
        pool = self._pool
        if pool is None:
            raise StoreUnavailable("the durable store is not open")
        try:
            async with pool.acquire(timeout=5) as conn:
                if not tx:
                    return await work(conn)
                async with conn.transaction():
                    return await work(conn)
        except FAILURES as exc:
            if isinstance(exc, CUT):
                await pool.expire_connections()  # the others are likely cut too: each reconnects on its next use
            raise StoreUnavailable.because(exc) from exc

    # idempotency

    async def claim(self, key: str, fingerprint: str, *, lease_seconds: float) -> Claim:
        async def claim(conn: Conn) -> Claim | None:
            now, token = self.clock(), uuid.uuid4().hex
            values = (key, fingerprint, token, now + lease_seconds, now + self.ttl)
            row = await conn.fetchrow(CLAIM_READ, key)
            if row is None:  # new: insert it (if another replica just did, None: the caller reads it again)
                return Claim(ClaimState.CLAIMED, token) if await conn.fetchval(CLAIM_NEW, *values) else None
            if row["expires_at"] <= now:
                await conn.execute(CLAIM_REPLACE, *values)
                return Claim(ClaimState.CLAIMED, token)
            found = (row["fingerprint"], row["state"], row["lease_until"], row["result"])
            decided = decide_claim(found, fingerprint, now)
            if decided is not None:
                return decided
            await conn.execute(
                "UPDATE idempotency SET token = $2, lease_until = $3 WHERE key = $1", key, token, now + lease_seconds
            )
            return Claim(ClaimState.CLAIMED, token)

        for _ in range(5):
            claimed = await self.run(claim, tx=True)
            if claimed is not None:
                return claimed
        raise StoreUnavailable("the idempotency record kept changing under the claim")

    async def finish(self, key: str, token: str, result: str) -> bool:
        sql = (
            "UPDATE idempotency SET state = 'done', token = NULL, result = $3, expires_at = $4"
            " WHERE key = $1 AND token = $2"
        )
        status = await self.run(lambda conn: conn.execute(sql, key, token, result, self.clock() + self.ttl))
        return bool(status == "UPDATE 1")

    async def abandon(self, key: str, token: str) -> None:
        sql = "DELETE FROM idempotency WHERE key = $1 AND token = $2"
        await self.run(lambda conn: conn.execute(sql, key, token))

    # saga records

    async def save_saga(
        self, saga: SagaRow, actions: Sequence[ActionRow] = (), *, lease_seconds: float = 0, fence: Fence | None = None
    ) -> None:
        async def save(conn: Conn) -> None:
            if fence is not None:  # the UPDATE locks the claim's row: a take-over waits for this transaction
                held = await conn.execute(FENCE, fence.key, fence.token, self.clock() + fence.lease_seconds)
                if held != "UPDATE 1":
                    raise ClaimLost(fence.key, await conn.fetchval(FENCE_LOST, fence.key))
            await conn.execute(
                "INSERT INTO sagas (id, status, lease_until, updated_at, body) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (id) DO UPDATE SET status = excluded.status, lease_until = excluded.lease_until,"
                " updated_at = excluded.updated_at, body = excluded.body",
                saga.id, saga.status, saga.lease_until, saga.updated_at, saga.body,
            )  # fmt: skip
            await self._insert_actions(conn, actions, lease_seconds)

        await self.run(save, tx=True)

    async def saga(self, saga_id: str) -> SagaRow | None:
        row = await self.run(lambda conn: conn.fetchrow("SELECT * FROM sagas WHERE id = $1", saga_id))
        return None if row is None else SagaRow(**dict(row))

    async def due_sagas(self, limit: int) -> list[SagaRow]:
        sql = (
            "SELECT * FROM sagas WHERE status = $1 AND lease_until <= $2 ORDER BY lease_until LIMIT $3"
            " FOR UPDATE SKIP LOCKED"
        )
        rows = await self.run(lambda conn: conn.fetch(sql, RUNNING, self.clock(), limit), tx=True)
        return [SagaRow(**dict(row)) for row in rows]

    # pending actions

    async def put_actions(self, actions: Sequence[ActionRow], *, lease_seconds: float) -> None:
        if actions:
            await self.run(lambda conn: self._insert_actions(conn, actions, lease_seconds), tx=True)

    async def _insert_actions(self, conn: Conn, actions: Sequence[ActionRow], lease: float) -> None:
        if actions:
            due = self.clock() + lease
            await conn.executemany(
                f"INSERT INTO pending_actions ({ACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                " ON CONFLICT (id) DO NOTHING",
                [(a.id, a.status, a.lot_id, a.created_at, a.updated_at, due, a.body) for a in actions],
            )

    async def save_actions(
        self, actions: Sequence[ActionRow], *, expected: Mapping[str, float] | None = None
    ) -> list[str]:
        sql = "UPDATE pending_actions SET status = $1, due_at = $2, updated_at = $3, body = $4 WHERE id = $5"
        checks = expected or {}

        async def save(conn: Conn) -> list[str]:
            saved = []
            for a in actions:
                check = (checks[a.id],) if a.id in checks else ()
                values = (a.status, a.due_at, a.updated_at, a.body, a.id, *check)
                if await conn.execute(sql + (" AND updated_at = $6" if check else ""), *values) == "UPDATE 1":
                    saved.append(a.id)
            return saved

        return await self.run(save, tx=True) if actions else []

    async def remove_actions(self, ids: Sequence[str]) -> None:
        if ids:
            await self.run(lambda conn: conn.execute("DELETE FROM pending_actions WHERE id = ANY($1)", list(ids)))

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[ActionRow]:
        now = self.clock()
        rows = await self.run(lambda conn: conn.fetch(LEASE_DUE, now + lease_seconds, DUE, now, limit))
        return sorted((ActionRow(**dict(row)) for row in rows), key=lambda a: a.created_at)

    async def action_rows(self, ids: Sequence[str]) -> list[ActionRow]:
        sql = f"SELECT {ACTION_COLUMNS} FROM pending_actions WHERE id = ANY($1)"
        rows = await self.run(lambda conn: conn.fetch(sql, list(ids)))
        found = {row["id"]: ActionRow(**dict(row)) for row in rows}
        return [found[i] for i in ids if i in found]

    async def actions(self, query: ActionQuery) -> list[ActionRow]:
        where, params = _where(query)
        if query.after is not None:
            n = len(params)
            where += f" AND (created_at < ${n + 1} OR (created_at = ${n + 1} AND id > ${n + 2}))"
            params += [query.after[0], query.after[1]]
        sql = (
            f"SELECT {ACTION_COLUMNS} FROM pending_actions WHERE {where}"
            f" ORDER BY created_at DESC, id LIMIT ${len(params) + 1}"
        )
        rows = await self.run(lambda conn: conn.fetch(sql, *params, query.limit))
        return [ActionRow(**dict(row)) for row in rows]

    async def count_actions(self, query: ActionQuery) -> int:
        where, params = _where(query)
        sql = f"SELECT COUNT(*) FROM pending_actions WHERE {where}"
        return int(await self.run(lambda conn: conn.fetchval(sql, *params)))

    async def next_due(self) -> float | None:
        sql = "SELECT MIN(due_at) FROM pending_actions WHERE status = $1"
        value = await self.run(lambda conn: conn.fetchval(sql, DUE))
        return None if value is None else float(value)

    # hold history

    async def append_history(self, entries: Sequence[HistoryRow]) -> None:
        sql = (
            "INSERT INTO hold_history (key, lot_id, hold_id, at, body) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (key) DO NOTHING"
        )
        rows = [(e.key, e.lot_id, e.hold_id, e.at, e.body) for e in entries]
        if rows:
            await self.run(lambda conn: conn.executemany(sql, rows), tx=True)

    async def history(
        self, *, lot_id: str | None, hold_id: str | None, after: int | None, limit: int
    ) -> list[HistoryRow]:
        column, value = ("lot_id", lot_id) if lot_id is not None else ("hold_id", hold_id)
        sql = f"SELECT * FROM hold_history WHERE {column} = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        rows = await self.run(lambda conn: conn.fetch(sql, value, after or 0, limit))
        return [HistoryRow(**dict(row)) for row in rows]

    async def count_history(self, *, lot_id: str | None, hold_id: str | None) -> int:
        column, value = ("lot_id", lot_id) if lot_id is not None else ("hold_id", hold_id)
        sql = f"SELECT COUNT(*) FROM hold_history WHERE {column} = $1"
        return int(await self.run(lambda conn: conn.fetchval(sql, value)))

    async def purge(self) -> int:
        async def purge(conn: Conn) -> int:
            now = self.clock()
            statuses = [
                await conn.execute("DELETE FROM idempotency WHERE expires_at <= $1", now),
                await conn.execute(
                    "DELETE FROM pending_actions WHERE status = $1 AND updated_at <= $2", FINISHED, now - self.ttl
                ),
                await conn.execute(
                    "DELETE FROM sagas WHERE status != $1 AND updated_at <= $2", RUNNING, now - self.ttl
                ),
            ]
            return sum(int(status.split()[-1]) for status in statuses)

        return await self.run(purge, tx=True)


def _where(query: ActionQuery) -> tuple[str, list[Any]]:
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if query.statuses is not None:
        params.append(list(query.statuses))
        where.append(f"status = ANY(${len(params)})")
    if query.lot_id is not None:
        params.append(query.lot_id)
        where.append(f"lot_id = ${len(params)}")
    if query.created_before is not None:
        params.append(query.created_before)
        where.append(f"created_at < ${len(params)}")
    return " AND ".join(where), params
