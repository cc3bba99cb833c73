"""The live operations dashboard at ``/dashboard``: static HTML, CSS and JavaScript shipped in the package.

The assets live beside this module in ``api/dashboard/`` (package data, no build step, no CDN). The page talks to
``/graphql`` on its own origin: queries over HTTP, subscriptions over graphql-transport-ws. It sends a token the
user gives (``Authorization: Bearer …`` on HTTP, the same in the ``connection_init`` payload), so it works with
authentication off and on.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = Path(__file__).parent / "dashboard"

# Everything the page loads comes from this origin; it connects only to this origin (HTTP and WebSocket).
SECURITY_HEADERS = {
    b"content-security-policy": b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-cache",
}


class _Secured:
    """Adds ``SECURITY_HEADERS`` to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS.items() if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_secured)


def dashboard_route(path: str = "/dashboard") -> Mount:
    """``GET /dashboard`` redirects to ``/dashboard/`` (so relative asset URLs resolve), which serves the page."""
    return Mount(path, app=_Secured(StaticFiles(directory=ASSETS, html=True)), name="dashboard")
