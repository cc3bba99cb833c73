"""The durable store in Redis, shared by every gateway replica (``LOTGRAPH_STORE=redis``).

Keys, all under one prefix:

- ``idem:<key>``: the idempotency record, JSON ``{fp, state, token, lease, result}``. A run claims it with
  ``SET NX EX ttl``; finishing and abandoning check the claim's token in one Lua step, and so does taking over
  a claim whose lease ran out — so two replicas never both take over one. A saga record is written (with its new
  actions) in one Lua step too, which first checks a fence's token and renews the claim's lease.
- ``action:<id>``: a pending action row (JSON); a DONE one expires after the TTL. ``actions:due``: sorted set of
  PENDING ids by due time (leasing moves the due time in one Lua step); ``actions:index``: every id by creation.
- ``saga:<id>``: a saga record row (JSON); ``sagas:due``: RUNNING ones by the end of their lease. A finished one
  expires after the TTL.
- ``history:lot:<lot>`` and ``history:hold:<hold>``: sorted sets of history rows (JSON) by sequence number, taken
  from the counter ``history:seq``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any, TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

from sources.store.claims import decide_claim
from sources.store.protocol import ClaimLost, Fence, StoreUnavailable
from sources.store.records import DUE, RUNNING, ActionQuery, ActionRow, Claim, ClaimState, HistoryRow, SagaRow
from sources.store.redis_scripts import APPEND, FINISH, LEASE_DUE, PUT, SAVE, SAVE_SAGA, TAKE_OVER

T = TypeVar("T")


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


class RedisStore:
    def __init__(
        self, url: str, *, ttl_seconds: float, prefix: str = "lotgraph:", clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl_seconds
        self.prefix = prefix
        self.clock = clock
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self._take_over = self.redis.register_script(TAKE_OVER)
        self._finish = self.redis.register_script(FINISH)
        self._lease = self.redis.register_script(LEASE_DUE)
        self._put = self.redis.register_script(PUT)
        self._save = self.redis.register_script(SAVE)
        self._append = self.redis.register_script(APPEND)
        self._save_saga = self.redis.register_script(SAVE_SAGA)

    async def open(self) -> None:
        await self._call(lambda: self.redis.ping())

    async def aclose(self) -> None:
        await self.redis.aclose()

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _ex(self) -> int:
        return max(1, int(self.ttl))

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable.because(exc) from exc

    # idempotency

    async def claim(self, key: str, fingerprint: str, *, lease_seconds: float) -> Claim:
        return await self._call(lambda: self._claim(key, fingerprint, lease_seconds))

    async def _claim(self, key: str, fingerprint: str, lease_seconds: float) -> Claim:
        name = self._key("idem", key)
        for _ in range(5):
            token = uuid.uuid4().hex
            running = _dumps(
                {"fp": fingerprint, "state": "running", "token": token, "lease": self.clock() + lease_seconds}
            )
            if await self.redis.set(name, running, nx=True, ex=self._ex()):
                return Claim(ClaimState.CLAIMED, token)
            raw = await self.redis.get(name)
            if raw is None:
                continue  # expired in between: claim again
            record = json.loads(raw)
            found = (record["fp"], record["state"], record.get("lease", 0.0), record.get("result"))
            decided = decide_claim(found, fingerprint, self.clock())
            if decided is not None:
                return decided
            if await self._take_over(keys=[name], args=[raw, running]):
                return Claim(ClaimState.CLAIMED, token)
        return Claim(ClaimState.IN_PROGRESS)

    async def finish(self, key: str, token: str, result: str) -> bool:
        name = self._key("idem", key)
        return bool(await self._call(lambda: self._finish(keys=[name], args=[token, result, self._ex()])))

    async def abandon(self, key: str, token: str) -> None:
        await self._call(lambda: self._finish(keys=[self._key("idem", key)], args=[token, "", 0]))

    # saga records

    async def save_saga(
        self, saga: SagaRow, actions: Sequence[ActionRow] = (), *, lease_seconds: float = 0, fence: Fence | None = None
    ) -> None:
        """One Lua step: the claim checked and its lease renewed (with a fence), the record, its new actions."""
        names = [self._key("idem", fence.key if fence else ""), self._key("saga", saga.id), self._key("sagas", "due")]
        names += [self._key("actions", "due"), self._key("actions", "index")]
        now = self.clock()
        args: list[Any] = [fence.token if fence else "", now + (fence.lease_seconds if fence else 0), saga.id]
        args += [_dumps(asdict(saga)), "1" if saga.status == RUNNING else "", saga.lease_until, self._ex()]
        args.append(self._key("action", ""))
        for action in actions:
            args += [action.id, now + lease_seconds, _dumps(asdict(replace(action, due_at=now + lease_seconds)))]
        written = await self._call(lambda: self._save_saga(keys=names, args=args))
        if written != 1 and fence is not None:
            record = json.loads(written) if written else {}
            raise ClaimLost(fence.key, record.get("result") if record.get("state") == "done" else None)

    async def saga(self, saga_id: str) -> SagaRow | None:
        raw = await self._call(lambda: self.redis.get(self._key("saga", saga_id)))
        return None if raw is None else SagaRow(**json.loads(raw))

    async def due_sagas(self, limit: int) -> list[SagaRow]:
        async def run() -> list[SagaRow]:
            due = await self.redis.zrangebyscore(self._key("sagas", "due"), "-inf", self.clock(), start=0, num=limit)
            ids = [str(i) for i in due]
            raws = await self.redis.mget([self._key("saga", i) for i in ids]) if ids else []
            rows = [SagaRow(**json.loads(raw)) for raw in raws if raw is not None]
            return [row for row in rows if row.status == RUNNING]

        return await self._call(run)

    # pending actions

    async def put_actions(self, actions: Sequence[ActionRow], *, lease_seconds: float) -> None:
        await self._call(lambda: self._put_rows(actions, lease_seconds))

    async def _put_rows(self, actions: Sequence[ActionRow], lease_seconds: float) -> None:
        if not actions:
            return
        due = self.clock() + lease_seconds
        args: list[Any] = [self._key("action", "")]
        for action in actions:
            args += [action.id, due, _dumps(asdict(replace(action, due_at=due)))]
        await self._put(keys=[self._key("actions", "due"), self._key("actions", "index")], args=args)

    async def save_actions(
        self, actions: Sequence[ActionRow], *, expected: Mapping[str, float] | None = None
    ) -> list[str]:
        if not actions:
            return []
        expected = expected or {}
        args: list[Any] = [self._key("action", ""), self._ex()]
        for a in actions:
            known = repr(expected[a.id]) if a.id in expected else ""
            args += [a.id, known, _dumps(asdict(a)), a.status, a.due_at]
        saved = await self._call(lambda: self._save(keys=[self._key("actions", "due")], args=args))
        return [str(i) for i in saved]

    async def remove_actions(self, ids: Sequence[str]) -> None:
        if not ids:
            return

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(*(self._key("action", i) for i in ids))
                pipe.zrem(self._key("actions", "index"), *ids)
                pipe.zrem(self._key("actions", "due"), *ids)
                await pipe.execute()

        await self._call(run)

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[ActionRow]:
        async def run() -> list[ActionRow]:
            now = self.clock()
            due = self._key("actions", "due")
            ids: list[str] = await self._lease(keys=[due], args=[now, now + lease_seconds, limit])
            found = await self._load(ids)
            stale = [i for i in ids if i not in found or found[i].status != DUE]
            if stale:
                await self.redis.zrem(due, *stale)
            return sorted((found[i] for i in ids if i not in stale), key=lambda a: a.created_at)

        return await self._call(run)

    async def _load(self, ids: Sequence[str]) -> dict[str, ActionRow]:
        if not ids:
            return {}
        bodies = await self.redis.mget([self._key("action", i) for i in ids])
        return {i: ActionRow(**json.loads(body)) for i, body in zip(ids, bodies, strict=True) if body is not None}

    async def action_rows(self, ids: Sequence[str]) -> list[ActionRow]:
        found = await self._call(lambda: self._load(ids))
        return [found[i] for i in ids if i in found]

    async def actions(self, query: ActionQuery) -> list[ActionRow]:
        return await self._call(lambda: self._actions(query))

    async def _actions(self, query: ActionQuery) -> list[ActionRow]:
        index = self._key("actions", "index")
        bounds = [b for b in (query.created_before, query.after[0] if query.after else None) if b is not None]
        top: float | str = min(bounds) if bounds else "+inf"  # inclusive: ``_matches`` applies the exact bounds
        found: list[ActionRow] = []
        start, chunk = 0, 500
        while len(found) < query.limit:
            ids = [str(i) for i in await self.redis.zrevrangebyscore(index, top, "-inf", start=start, num=chunk)]
            if not ids:
                break
            loaded = await self._load(ids)
            gone = [i for i in ids if i not in loaded]
            if gone:  # DONE actions whose record expired
                await self.redis.zrem(index, *gone)
                start -= len(gone)
            rows = sorted(loaded.values(), key=lambda a: (-a.created_at, a.id))
            found += [row for row in rows if _matches(row, query)]
            start += chunk
        return sorted(found, key=lambda a: (-a.created_at, a.id))[: query.limit]

    async def count_actions(self, query: ActionQuery) -> int:
        everything = ActionQuery(query.statuses, query.lot_id, query.created_before, limit=1_000_000_000)
        return len(await self._call(lambda: self._actions(everything)))

    async def next_due(self) -> float | None:
        async def run() -> float | None:
            first: Any = await self.redis.zrange(self._key("actions", "due"), 0, 0, withscores=True)
            return float(first[0][1]) if first else None

        return await self._call(run)

    # hold history

    async def append_history(self, entries: Sequence[HistoryRow]) -> None:
        if not entries:
            return

        args: list[Any] = [self._key("history", "")]
        for e in entries:
            hold = self._key("history", "hold", e.hold_id) if e.hold_id is not None else ""
            args += [e.key, self._key("history", "lot", e.lot_id), hold, _dumps(asdict(e))]
        await self._call(lambda: self._append(keys=[self._key("history", "seq")], args=args))

    async def history(
        self, *, lot_id: str | None, hold_id: str | None, after: int | None, limit: int
    ) -> list[HistoryRow]:
        name = self._history_key(lot_id, hold_id)
        found: list[Any] = await self._call(
            lambda: self.redis.zrangebyscore(name, f"({after or 0}", "+inf", start=0, num=limit, withscores=True)
        )
        return [replace(HistoryRow(**json.loads(raw)), seq=int(score)) for raw, score in found]

    async def count_history(self, *, lot_id: str | None, hold_id: str | None) -> int:
        return int(await self._call(lambda: self.redis.zcard(self._history_key(lot_id, hold_id))))

    def _history_key(self, lot_id: str | None, hold_id: str | None) -> str:
        return (
            self._key("history", "lot", lot_id) if lot_id is not None else self._key("history", "hold", hold_id or "")
        )

    async def purge(self) -> int:
        """Idempotency records, DONE actions and finished saga records expire by themselves in Redis."""
        return 0


def _matches(row: ActionRow, query: ActionQuery) -> bool:
    if query.statuses is not None and row.status not in query.statuses:
        return False
    if query.lot_id is not None and row.lot_id != query.lot_id:
        return False
    if query.created_before is not None and row.created_at >= query.created_before:
        return False
    return not (
        query.after is not None
        and (row.created_at > query.after[0] or (row.created_at == query.after[0] and row.id <= query.after[1]))
    )
