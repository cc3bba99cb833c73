"""The one HTTP client base every source adapter stands on.

Policy lives here, once: the overall deadline of a call, the correlation header, chunking of batch reads at the
upstream's limit, and the mapping of every transport or protocol failure into the error tree of
``sources.errors``. Adapters only say which path to call and how to read the records.

I/O goes through ``httpx.AsyncClient``'s API over a pluggable transport: by default the aiohttp transport
(measured in ``bench/transport.py``: several times httpx's own pool under concurrency), in tests
``httpx.ASGITransport`` or ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from sources.correlation import HEADER as CORRELATION_HEADER
from sources.correlation import current_correlation_id
from sources.errors import NotFound, SourceProtocolError, SourceRejected, SourceUnavailable

log = logging.getLogger("lotgraph.sources")

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


def default_transport(max_connections: int = 100) -> httpx.AsyncBaseTransport:
    """httpx over aiohttp: 4x httpx's own pool per core here (docs/benchmarks.md). Limits go on the transport,
    which ignores the client's; keep-alive stays under the upstreams' usual 5 s idle timeout."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections, keepalive_expiry=4.0
    )
    return AiohttpTransport(limits=limits)


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
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.batch_limit = batch_limit
        self._on_call = on_call
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            transport=transport if transport is not None else default_transport(),
            headers={"Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

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

    async def search(self, path: str, body: Mapping[str, Any]) -> Json:
        return await self._request("POST", path, route=path, json_body=dict(body))

    # -- commands -----------------------------------------------------------------------------------------------

    async def command(self, path: str, body: Mapping[str, Any], *, idempotency_key: str, route: str) -> Json:
        """A state-changing POST. Never retried here: the idempotency key makes a caller's retry safe."""
        return await self._request(
            "POST", path, route=route, json_body=dict(body), headers={"Idempotency-Key": idempotency_key}
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
    ) -> Json:
        all_headers = dict(headers or {})
        correlation_id = current_correlation_id()
        if correlation_id:
            all_headers[CORRELATION_HEADER] = correlation_id
        started = time.perf_counter()
        outcome = "error"
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http.request(method, path, params=params, json=json_body, headers=all_headers)
            body = self._decode(response, method, route)
            outcome = "ok"
            return body
        except (TimeoutError, httpx.TimeoutException) as exc:
            outcome = "timeout"
            raise SourceUnavailable(self.name, f"{self.name.upper()} did not answer in time") from exc
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            outcome = "unreachable"
            raise SourceUnavailable(self.name, f"{self.name.upper()} is unreachable") from exc
        finally:
            elapsed = time.perf_counter() - started
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
                    },
                )

    def _decode(self, response: httpx.Response, method: str, route: str) -> Json:
        status = response.status_code
        if status >= 500:
            raise SourceUnavailable(self.name, f"{self.name.upper()} is failing (HTTP {status})")
        try:
            body = json.loads(response.content) if response.content else None
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


def _error_of(body: Json) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", ""


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
