"""A counting proxy in front of ``trytond``, for tests and benchmarks: what Tryton itself was asked.

Every JSON-RPC call passing through is counted by its method (``model.stock.lot.search_read``), and its time
upstream is kept, so tests can assert that upstream calls per query do not grow with page size, and benchmarks can
report Tryton's own latency per batched read. ``hold()`` makes the proxy keep the next requests until ``release()``,
so a test can stop Tryton while a request is in flight. It runs on its own thread and loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.servers import bind


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._held = threading.Event()
        self._held.set()
        self._waiting = threading.Semaphore(0)
        self._sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=4)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> CountingProxy:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._held.set()
        self._server.should_exit = True
        self._thread.join(10)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.seconds.clear()

    def counted(self, prefix: str = "model.") -> int:
        """Calls counted so far whose method starts with ``prefix`` (logins and preferences are not ``model.``
        reads of data, but ``model.res.user.get_preferences`` is counted: use ``data_calls``)."""
        with self._lock:
            return sum(n for method, n in self.calls.items() if method.startswith(prefix))

    @property
    def data_calls(self) -> int:
        with self._lock:
            return sum(n for m, n in self.calls.items() if m.startswith("model.") and "get_preferences" not in m)

    @contextmanager
    def holding(self) -> Iterator[threading.Semaphore]:
        """Keep requests from going upstream inside the block; the semaphore is released once per request kept."""
        self._held.clear()
        try:
            yield self._waiting
        finally:
            self._held.set()

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        method = "?"
        with suppress(ValueError, AttributeError):
            method = str(json.loads(body).get("method", "?")) if body else request.method
        if not self._held.is_set():
            self._waiting.release()
            await asyncio.to_thread(self._held.wait)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        started = time.perf_counter()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.request(
                    request.method, f"{self.upstream}{request.url.path}", data=body, headers=headers
                ) as answer,
            ):
                content = await answer.read()
                status = answer.status
        except aiohttp.ClientError:
            return Response(b"", status_code=502)
        with self._lock:
            self.calls[method] += 1
            self.seconds.setdefault(method, []).append(time.perf_counter() - started)
        return Response(content, status_code=status, media_type="application/json")
