"""The one HTTP client base every source adapter stands on.

Policy lives here, once: the overall deadline of a call, the correlation and W3C trace context headers,
chunking of batch reads at the upstream's limit, and the mapping of every transport or protocol failure into the
error tree of ``sources.errors``. Adapters only say which path to call and how to read the records.

I/O goes through a small ``Transport`` (sources/transport.py): aiohttp's client by default, the fastest measured
here; any httpx transport (``httpx.ASGITransport``, ``httpx.MockTransport``) in tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import httpx
import orjson

from sources.correlation import upstream_headers
from sources.errors import NotFound, SourceError, SourceProtocolError, SourceRejected, SourceUnavailable
from sources.resilience import CircuitBreaker, Health, ResiliencePolicy, backoff, now
from sources.transport import AiohttpTransport, HttpxTransport, Transport

log = logging.getLogger("lotgraph.sources")
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next\b')

BATCH_LIMIT = 500
"""Most ids one batch read may carry (the source contract's limit)."""

T = TypeVar("T")
Json = Any


@dataclass(frozen=True, slots=True)
class CallStats:
    """What one upstream call cost; kept by the client for observations and metrics."""

    source: str
    route: str
    started_at: float
    seconds: float
    outcome: str


class SourceClient:
    """HTTP access to one upstream system, with the deadline and error mapping every adapter needs."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        batch_limit: int = BATCH_LIMIT,
        on_call: Callable[[CallStats], None] | None = None,
        policy: ResiliencePolicy | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.batch_limit = batch_limit
        self._on_call = on_call
        self.policy = policy or ResiliencePolicy()
        self.breaker = CircuitBreaker(self.policy)
        self._bulkhead = asyncio.Semaphore(self.policy.max_concurrency)
        self._in_flight = 0
        self.last_latency_ms: float | None = None
        self.last_success_at: datetime | None = None
        self.last_failure_at: datetime | None = None
        self.last_error: str | None = None
        self._transport: Transport = (
            AiohttpTransport(base_url) if transport is None else HttpxTransport(base_url, transport)
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- reads ------------------------------------------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, str] | None = None, *, route: str | None = None) -> Json:
        return await self._request("GET", path, route=route or path, params=params)

    async def get_batch(
        self, path: str, param: str, ids: Iterable[str], extra: Mapping[str, str] | None = None
    ) -> list[Json]:
        """Batch read: ``GET path?param=a,b,...`` chunked at the batch limit, chunks in parallel.

        Returns the ``items`` of every chunk, concatenated.
        """
        unique = list(dict.fromkeys(ids))
        if not unique:
            return []
        chunks = [unique[i : i + self.batch_limit] for i in range(0, len(unique), self.batch_limit)]
        bodies = await asyncio.gather(*(self.get(path, {**(extra or {}), param: ",".join(chunk)}) for chunk in chunks))
        items: list[Json] = []
        for body in bodies:
            items.extend(self.items_of(body))
        return items

    async def get_page(
        self, path: str, params: Mapping[str, str], *, route: str | None = None
    ) -> tuple[Json, str | None]:
        """A read that pages through the ``Link: <…>; rel="next"`` header: the body and the next page's URL."""
        body, headers = await self._request("GET", path, route=route or path, params=params, with_headers=True)
        return body, next_link(headers.get("link"))

    async def search(self, path: str, body: Mapping[str, Any]) -> Json:
        return await self._request("POST", path, route=path, json_body=dict(body))

    async def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        route: str,
        retry: bool,
        headers: Mapping[str, str] | None = None,
        decode: Callable[[int, bytes], Json] | None = None,
    ) -> Json:
        """A POST for adapters that speak an RPC protocol over HTTP (e.g. Tryton's JSON-RPC): ``retry`` only for
        reads, ``headers`` such as a session, and ``decode`` to read the protocol's own errors from an answer
        (raising from the error tree); the deadline, breaker, bulkhead and accounting are the same as for all."""
        return await self._request(
            "POST", path, route=route, json_body=dict(body), headers=dict(headers or {}), retry=retry, decode=decode
        )

    # -- commands -----------------------------------------------------------------------------------------------

    async def command(self, path: str, body: Mapping[str, Any], *, idempotency_key: str, route: str) -> Json:
        """A state-changing POST. Never retried here: the idempotency key makes a caller's retry safe."""
        return await self._request(
            "POST", path, route=route, json_body=dict(body), headers={"Idempotency-Key": idempotency_key}, retry=False
        )

    # -- shared -------------------------------------------------------------------------------------------------

    def items_of(self, body: Json) -> list[Json]:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SourceProtocolError(self.name, f"{self.name.upper()} answered without an item list")
        return items

    async def _request(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Mapping[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
        with_headers: bool = False,
        decode: Callable[[int, bytes], Json] | None = None,
    ) -> Json:
        """One logical call: breaker check, then attempts (reads only are retried, with jittered backoff) inside
        one overall deadline and one bulkhead slot each."""
        if not self.breaker.allow():
            self._finish(method, route, time.perf_counter(), "breaker_open", None)
            raise SourceUnavailable(self.name, f"{self.name.upper()} is unavailable (circuit open)")
        body = None if json_body is None else json.dumps(json_body).encode()
        all_headers = upstream_headers(headers, json=body is not None)
        attempts = 1 + (self.policy.read_retries if retry else 0)
        started = time.perf_counter()
        outcome, error = "error", None
        try:
            async with asyncio.timeout(self.timeout):
                for attempt in range(attempts):
                    try:
                        async with self._bulkhead:
                            self._in_flight += 1
                            try:
                                status, content, reply_headers = await self._transport.request(
                                    method, path, params=params, body=body, headers=all_headers
                                )
                            finally:
                                self._in_flight -= 1
                        decoded = decode(status, content) if decode else self._decode(status, content, method, route)
                        outcome = "ok"
                        return (decoded, reply_headers) if with_headers else decoded
                    except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
                        error = SourceUnavailable(self.name, f"{self.name.upper()} is unreachable")
                        error.__cause__ = exc
                        outcome = "unreachable"
                    except SourceUnavailable as exc:
                        error, outcome = exc, "failing"
                    except (SourceProtocolError, NotFound, SourceRejected) as exc:
                        outcome = "ok" if isinstance(exc, NotFound | SourceRejected) else "protocol"
                        raise
                    if attempt + 1 < attempts:
                        await asyncio.sleep(backoff(attempt, self.policy.backoff_seconds))
                assert error is not None
                raise error
        except (TimeoutError, httpx.TimeoutException) as exc:
            outcome = "timeout"
            raise SourceUnavailable(self.name, f"{self.name.upper()} did not answer in time") from exc
        finally:
            self._finish(method, route, started, outcome, error)

    def _finish(self, method: str, route: str, started: float, outcome: str, error: SourceError | None) -> None:
        elapsed = time.perf_counter() - started
        if outcome != "breaker_open":
            self.breaker.record(outcome == "ok", timed_out=outcome == "timeout")
            self.last_latency_ms = round(elapsed * 1000, 2)
            if outcome == "ok":
                self.last_success_at = now()
            else:
                self.last_failure_at = now()
                self.last_error = error.message if error else outcome
        if self._on_call is not None:
            self._on_call(CallStats(self.name, f"{method} {route}", started, elapsed, outcome))
        if outcome != "ok":
            log.warning(
                "upstream call failed",
                extra={
                    "source": self.name,
                    "route": f"{method} {route}",
                    "outcome": outcome,
                    "seconds": round(elapsed, 4),
                    "breaker": self.breaker.state.value,
                },
            )

    def health(self) -> Health:
        calls, failures = self.breaker.recent
        return Health(
            source=self.name,
            state=self.breaker.state,
            consecutive_failures=self.breaker.consecutive_failures,
            recent_calls=calls,
            recent_failures=failures,
            last_latency_ms=self.last_latency_ms,
            last_success_at=self.last_success_at,
            last_failure_at=self.last_failure_at,
            last_error=self.last_error,
            in_flight=self._in_flight,
            max_concurrency=self.policy.max_concurrency,
        )

    def _decode(self, status: int, content: bytes, method: str, route: str) -> Json:
        if status >= 500:
            raise SourceUnavailable(self.name, f"{self.name.upper()} is failing (HTTP {status})")
        try:
            body = _loads(content) if content else None
        except ValueError as exc:
            raise SourceProtocolError(self.name, f"{self.name.upper()} answered invalid JSON") from exc
        if status < 300:
            return body
        code, message = _error_of(body)
        if status == 404:
            raise NotFound(self.name, message or f"not found in {self.name.upper()}")
        if 400 <= status < 500 and method == "POST" and code:
            raise SourceRejected(self.name, message or code, upstream_code=code, status=status)
        raise SourceProtocolError(
            self.name, f"{self.name.upper()} refused the request {method} {route} (HTTP {status})"
        )


def _loads(content: bytes) -> Json:  # orjson: 2x json's speed; NaN (which it refuses) goes to json
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _error_of(body: Json) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", ""


def next_link(header: str | None) -> str | None:
    """The target of the ``rel="next"`` entry of a ``Link`` header (RFC 8288), if any."""
    found = _NEXT_LINK.search(header or "")
    return found.group(1) if found else None


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body without its unset (None) filters."""
    return {k: v for k, v in body.items() if v is not None}


def index_by(items: Sequence[T], key: Callable[[T], str]) -> dict[str, T]:
    return {key(item): item for item in items}


def group_by(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped
