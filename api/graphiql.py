"""GraphiQL, served by the gateway itself: the page at ``GET /graphql`` (a browser asking for HTML) and its assets
under ``/graphiql/``, so the IDE works on a plant network without internet (strawberry's own page loads its scripts
from a CDN).

The assets live beside this module in ``api/graphiql/``: GraphiQL and React as published on npm, stored
gzip-compressed with their licences (``VENDORED.md`` lists versions and hashes; ``scripts/vendor-graphiql``
refreshes them), and lotgraph's small page script, which reads a ``#token=`` link into the Authorization header.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

ASSETS = Path(__file__).parent / "graphiql"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# Everything from this origin; inline styles allowed (GraphiQL's editors set them), no inline or remote scripts.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def graphiql_page() -> Response:
    return HTMLResponse(_read(ASSETS / "index.html"), headers=PAGE_HEADERS)


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    content_type = TYPES.get(Path(name).suffix)
    if content_type is None or name.startswith(".") or "/" in name:
        return Response("Not Found", status_code=404)
    headers = {"X-Content-Type-Options": "nosniff"}
    packed = ASSETS / f"{name}.gz"
    if packed.is_file():  # vendored, named by version: cacheable for good
        headers |= {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
        data = _read(packed)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(data, media_type=content_type, headers={**headers, "Content-Encoding": "gzip"})
        return Response(gzip.decompress(data), media_type=content_type, headers=headers)
    plain = ASSETS / name
    if plain.is_file():  # lotgraph's own page script and style
        return Response(_read(plain), media_type=content_type, headers={**headers, "Cache-Control": "no-cache"})
    return Response("Not Found", status_code=404)


def graphiql_route(path: str = "/graphiql/{name}") -> Route:
    return Route(path, _asset, methods=["GET"], name="graphiql")
