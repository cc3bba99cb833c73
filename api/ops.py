"""Who may read the operations endpoints: ``/metrics`` and the per-dependency detail of ``/readyz``.

By default (``ops.access = token``) only a caller with the operations token (``LOTGRAPH_OPS_TOKEN``, sent as
``Authorization: Bearer <token>``, as Prometheus' ``authorization`` scrape setting does) or a JWT with the ``admin``
role may; with authentication off (development) every caller is an admin. ``ops.access = open`` lets anyone, for a
gateway whose port only a private network reaches. ``/readyz`` answers its status code and ``{"status": …}`` to
everyone (load balancers need it); the checks, with their latencies and upstream errors, only to those allowed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class OpsSettings:
    access: str = "token"  # token or open
    token: str | None = None


class OpsAccess:
    def __init__(self, settings: OpsSettings) -> None:
        self.settings = settings

    def allows(self, request: Request) -> bool:
        if self.settings.access == "open":
            return True
        principal = (request.scope.get("state") or {}).get("principal")
        if principal is not None and "admin" in principal.roles:
            return True
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        expected = self.settings.token
        return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip(), expected or "")

    def protect(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if not self.allows(request):
                return JSONResponse(
                    {"error": {"code": "UNAUTHENTICATED", "message": "needs the operations token or an admin token"}},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await endpoint(request)

        return guarded
