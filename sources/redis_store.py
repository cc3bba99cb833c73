"""The durable store in Redis, shared by every gateway replica (``LOTGRAPH_STORE=redis``).

Keys, all under one prefix:

- ``idem:<key>``: the idempotency record, JSON ``{fp, state, token, lease_until, result}``. A run claims it with
  ``SET NX EX ttl``; finishing and abandoning check the claim's token in one Lua step, and so does taking over
  a claim whose lease ran out.
- ``action:<id>``: a pending action (JSON); a DONE one expires after the TTL.
- ``actions:due``: sorted set of PENDING action ids by due time. Leasing due actions moves their due time to the
  end of the lease in one Lua step, so each goes to one worker at a time and comes back if that worker dies.
- ``actions:index``: sorted set of every action id by creation time, for listing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

from sources.store import ActionStatus, Claim, ClaimState, PendingAction, StoreUnavailable, due_time

T = TypeVar("T")

_TAKE_OVER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""

_FINISH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record['token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return 1
end
local done = {fp = record['fp'], state = 'done', result = ARGV[2]}
redis.call('SET', KEYS[1], cjson.encode(done), 'EX', ARGV[3])
return 1
"""

_LEASE_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
"""


class RedisStore:
    def __init__(
        self, url: str, *, ttl_seconds: float, prefix: str = "lotgraph:", clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl_seconds
        self.prefix = prefix
        self.clock = clock
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self._take_over = self.redis.register_script(_TAKE_OVER)
        self._finish = self.redis.register_script(_FINISH)
        self._lease = self.redis.register_script(_LEASE_DUE)

    async def open(self) -> None:
        await self._call(lambda: self.redis.ping())

    async def aclose(self) -> None:
        await self.redis.aclose()

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable() from exc

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
            if await self.redis.set(name, running, nx=True, ex=max(1, int(self.ttl))):
                return Claim(ClaimState.CLAIMED, token)
            raw = await self.redis.get(name)
            if raw is None:
                continue  # expired in between: claim again
            record = json.loads(raw)
            if record["fp"] != fingerprint:
                return Claim(ClaimState.REUSED)
            if record["state"] == "done":
                return Claim(ClaimState.DONE, result=record["result"])
            if record["lease"] > self.clock():
                return Claim(ClaimState.IN_PROGRESS)
            if await self._take_over(keys=[name], args=[raw, running]):
                return Claim(ClaimState.CLAIMED, token)
        return Claim(ClaimState.IN_PROGRESS)

    async def finish(self, key: str, token: str, result: str) -> bool:
        name = self._key("idem", key)
        return bool(await self._call(lambda: self._finish(keys=[name], args=[token, result, max(1, int(self.ttl))])))

    async def abandon(self, key: str, token: str) -> None:
        await self._call(lambda: self._finish(keys=[self._key("idem", key)], args=[token, "", 0]))

    # pending actions

    async def put_actions(self, actions: Sequence[PendingAction], *, lease_seconds: float) -> None:
        if not actions:
            return
        due = self.clock() + lease_seconds

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                for action in actions:
                    pipe.set(self._key("action", action.id), action.to_json())
                    pipe.zadd(self._key("actions", "index"), {action.id: action.created_at.timestamp()})
                    pipe.zadd(self._key("actions", "due"), {action.id: due})
                await pipe.execute()

        await self._call(run)

    async def save_actions(self, actions: Sequence[PendingAction]) -> None:
        if not actions:
            return

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                for action in actions:
                    name = self._key("action", action.id)
                    if action.status is ActionStatus.DONE:
                        pipe.set(name, action.to_json(), ex=max(1, int(self.ttl)))
                        pipe.zrem(self._key("actions", "due"), action.id)
                    elif action.status is ActionStatus.FAILED:
                        pipe.set(name, action.to_json())
                        pipe.zrem(self._key("actions", "due"), action.id)
                    else:
                        pipe.set(name, action.to_json())
                        pipe.zadd(self._key("actions", "due"), {action.id: due_time(action)})
                await pipe.execute()

        await self._call(run)

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

    async def lease_due(self, *, limit: int, lease_seconds: float) -> list[PendingAction]:
        async def run() -> list[PendingAction]:
            now = self.clock()
            ids: list[str] = await self._lease(
                keys=[self._key("actions", "due")], args=[now, now + lease_seconds, limit]
            )
            found = await self._load(ids)
            stale = [i for i in ids if i not in found or found[i].status is not ActionStatus.PENDING]
            if stale:
                await self.redis.zrem(self._key("actions", "due"), *stale)
            return [found[i] for i in ids if i not in stale]

        return await self._call(run)

    async def _load(self, ids: Sequence[str]) -> dict[str, PendingAction]:
        if not ids:
            return {}
        bodies = await self.redis.mget([self._key("action", i) for i in ids])
        return {i: PendingAction.from_json(body) for i, body in zip(ids, bodies, strict=True) if body is not None}

    async def actions(self, statuses: Collection[ActionStatus] | None, limit: int) -> list[PendingAction]:
        async def run() -> list[PendingAction]:
            index = self._key("actions", "index")
            wanted = None if statuses is None else set(statuses)
            found: list[PendingAction] = []
            start, chunk = 0, 500
            while len(found) < limit:
                ids = [str(i) for i in await self.redis.zrevrange(index, start, start + chunk - 1)]
                if not ids:
                    break
                loaded = await self._load(ids)
                gone = [i for i in ids if i not in loaded]
                if gone:  # DONE actions whose record expired
                    await self.redis.zrem(index, *gone)
                    start -= len(gone)
                found += [loaded[i] for i in ids if i in loaded and (wanted is None or loaded[i].status in wanted)]
                start += chunk
            return found[:limit]

        return await self._call(run)

    async def next_due(self) -> float | None:
        async def run() -> float | None:
            first: Any = await self.redis.zrange(self._key("actions", "due"), 0, 0, withscores=True)
            return float(first[0][1]) if first else None

        return await self._call(run)

    async def purge(self) -> int:
        """Idempotency records and DONE actions expire by themselves in Redis; nothing to do."""
        return 0


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
