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
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import settings_tree

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class OpsSettings:
    # The metadata makes these settings (LOTGRAPH_OPS_…; api/settings_tree.py reads it).
    access: str = field(
        default="token",
        metadata={
            "help": "who may read `/metrics` and the checks of `/readyz` (each dependency, its latency, upstream "
            "errors): `token` — a caller with the operations token or a JWT with the `admin` role (with "
            "`LOTGRAPH_AUTH_MODE=none` everyone is an admin); `open` — anyone, for a port only a private network "
            "reaches. `/readyz` answers its status code and `status` to everyone",
            "choices": ("token", "open"),
        },
    )
    token: str | None = field(
        default=None,
        metadata={
            "help": "bearer token (at least 16 characters) that opens `/metrics` and the checks of `/readyz`, for "
            "a scraper such as Prometheus",
            "parse": settings_tree.secret,
        },
    )


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
