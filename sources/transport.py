"""The I/O under the source client: send one request, get a status and the body's bytes.

Policy (deadlines, headers, error mapping) stays in ``sources.http.SourceClient``; a transport only moves bytes (and
hands back the response headers, case-insensitive, for the few adapters that page through ``Link``).

- ``AiohttpTransport`` is the default: aiohttp's own client, one pooled session per upstream. Measured on this
  kind of machine (docs/benchmarks.md), httpx costs about 0.3 ms of CPU per upstream call over its aiohttp
  transport and 1.7 ms over its own pool; aiohttp alone about 0.1 ms. Readiness makes eight calls per decision,
  so this is most of the gateway's CPU.
- ``HttpxTransport`` runs any httpx transport — ``httpx.ASGITransport`` (the reference plant in process) or
  ``httpx.MockTransport`` in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp
import httpx


class Transport(Protocol):
    async def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, Mapping[str, str]]: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    def __init__(self, base_url: str, *, max_connections: int = 100, keepalive_seconds: float = 4.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._max_connections = max_connections
        self._keepalive = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop. Keep-alive stays under the usual 5 s idle timeout of
        # upstream servers; the overall deadline of a call is the source client's.
        connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=self._keepalive)
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, Mapping[str, str]]:
        session = self._session or self._open()
        async with session.request(
            method, self._base_url + path, params=params, data=body, headers=headers, allow_redirects=False
        ) as response:
            return response.status, await response.read(), response.headers

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxTransport:
    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport)

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, Mapping[str, str]]:
        response = await self._client.request(method, path, params=params, content=body, headers=headers)
        return response.status_code, response.content, response.headers

    async def aclose(self) -> None:
        await self._client.aclose()
