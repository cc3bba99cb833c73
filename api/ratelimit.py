"""Per-subject rate limiting: a token bucket per caller, in process or in Redis (shared by replicas).

Every caller (the token's subject, or the client address when there is no token) has a bucket of ``burst``
tokens refilled at ``rate`` per second; a request takes one. An empty bucket answers 429 with ``Retry-After``
and a GraphQL error of code RATE_LIMITED. When Redis cannot be reached the limiter lets requests through and
logs it: losing the limit for a moment is better than refusing every query (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Protocol

import redis.asyncio as aioredis
from cachetools import TTLCache
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("lotgraph.ratelimit")

EXEMPT = ("/healthz", "/readyz", "/metrics", "/dashboard")


class Buckets(Protocol):
    async def take(self, key: str) -> float:
        """Take one token; 0 when allowed, else the seconds until one is available."""
        ...


class MemoryBuckets:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: TTLCache[str, tuple[float, float]] = TTLCache(100_000, ttl=max(60.0, burst / rate * 2))

    async def take(self, key: str) -> float:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


_TAKE = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[2])
local updated = tonumber(redis.call('HGET', KEYS[1], 'u') or ARGV[3])
local now = tonumber(ARGV[3])
tokens = math.min(tonumber(ARGV[2]), tokens + (now - updated) * tonumber(ARGV[1]))
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / tonumber(ARGV[1]) end
redis.call('HSET', KEYS[1], 't', tokens, 'u', now)
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / tonumber(ARGV[1])) + 60)
return tostring(wait)
"""


class RedisBuckets:
    def __init__(self, client: aioredis.Redis, rate: float, burst: int, prefix: str = "lotgraph:rate:") -> None:
        self.rate, self.burst, self.prefix = rate, burst, prefix
        self._client = client
        self._script = client.register_script(_TAKE)

    async def take(self, key: str) -> float:
        try:
            wait = await self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        except (RedisError, OSError) as exc:
            log.warning("rate limiter cannot reach Redis; letting the request through", extra={"error": str(exc)})
            return 0.0
        return float(wait)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, buckets: Buckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        subject = principal.subject if principal is not None and principal.authenticated else None
        client = scope.get("client") or ("unknown", 0)
        wait = await self.buckets.take(f"sub:{subject}" if subject else f"ip:{client[0]}")
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"Rate limit exceeded: try again in {retry_after} s.",
                        "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(retry_after).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
