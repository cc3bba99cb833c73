"""The health probes of a replica (not to be confused with the *readiness* of a shipment).

- ``/healthz``: the process answers. A replica whose sources are down is alive and still answers, with errors
  that name the source, so it must not be restarted for it;
- ``/readyz``: can this replica serve? Each dependency (store, bus, every source) is probed cheaply,
  concurrently, under a deadline; the answer names each one with its state and latency, and is 503 unless all
  are up (or while the replica starts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.ops import OpsAccess
from sources.bundle import Sources
from sources.errors import SourceError

Check = Callable[[], Awaitable[object]]
PROBE_ID = "readyz-probe"
"""The id the source probes ask for: a batch read with one unknown id, answered from an index with ``missing``."""


class Probes:
    def __init__(self, *, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self.checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """``check()`` returns when ``name`` works and raises when it does not."""
        self.checks[name] = check

    def add_sources(self, sources: Sources) -> None:
        self.add("erp", lambda: sources.erp.orders([PROBE_ID]))
        self.add("qms", lambda: sources.qms.lots([PROBE_ID]))
        self.add("mes", lambda: sources.mes.edges_into([PROBE_ID]))  # lot master reads may come from the cache
        self.add("wms", lambda: sources.wms.shipments([PROBE_ID]))

    async def report(self) -> tuple[bool, dict[str, Any]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._probe(self.checks[name]) for name in names))
        checks = dict(zip(names, results, strict=True))
        ready = all(result["status"] == "up" for result in checks.values())
        return ready, {"status": "ready" if ready else "not ready", "checks": checks}

    async def _probe(self, check: Check) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                await check()
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except SourceError as exc:
            error = exc.message
        except Exception as exc:
            error = type(exc).__name__  # the class only: messages of other errors may carry hosts or paths
        else:
            return {"status": "up", "seconds": round(time.perf_counter() - started, 4)}
        return {"status": "down", "seconds": round(time.perf_counter() - started, 4), "error": error}


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readyz_route(probes: Callable[[], Probes | None], access: OpsAccess) -> Route:
    """``/readyz`` over the probes of the running services (``probes()`` is None while the replica starts). Its
    status code and status are for everyone; the checks, which name upstream errors, for those ``access`` allows."""

    async def readyz(request: Request) -> Response:
        running = probes()
        if running is None:
            return JSONResponse({"status": "starting", "checks": {}}, status_code=503)
        ready, body = await running.report()
        if not access.allows(request):
            body = {"status": body["status"]}
        return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    return Route("/readyz", readyz)
