"""The dashboard's files as the gateway serves them: where, with which headers, and nothing from elsewhere."""

from __future__ import annotations

import re

from api.dashboard import ASSETS
from tests.conftest import Gateway

FILES = {
    "index.html": "text/html",
    "app.js": "javascript",
    "ws.js": "javascript",
    "graphql.js": "javascript",
    "queries.js": "javascript",
    "charts.js": "javascript",
    "style.css": "text/css",
}


async def test_dashboard_redirects_to_its_page_and_serves_every_asset(gateway: Gateway) -> None:
    client = gateway.client
    moved = await client.get("/dashboard")
    assert moved.status_code == 307
    assert moved.headers["location"].endswith("/dashboard/")

    page = await client.get("/dashboard/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "X-Correlation-ID" in page.headers

    for name, kind in FILES.items():
        response = await client.get(f"/dashboard/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"], (name, response.headers["content-type"])
        assert response.headers["content-security-policy"] == csp

    assert (await client.get("/dashboard/nope.js")).status_code == 404
    assert (await client.get("/dashboard/%2e%2e/dashboard.py")).status_code == 404  # no way out of the assets


def test_every_file_the_page_loads_is_shipped_and_nothing_comes_from_elsewhere() -> None:
    shipped = {p.name for p in ASSETS.iterdir()}
    assert set(FILES) == shipped, "a new asset must be listed here (and match the package data globs)"
    html = (ASSETS / "index.html").read_text()
    referenced = set(re.findall(r'(?:src|href)="([^":]+)"', html))
    imported = {name for js in ASSETS.glob("*.js") for name in re.findall(r'from "\./([^"]+)"', js.read_text())}
    assert referenced | imported <= shipped
    assert {"app.js", "style.css"} <= referenced
    for path in ASSETS.iterdir():
        text = path.read_text()
        # No CDN, no font service, no analytics: the page works on a machine without internet.
        assert not re.search(r"""(?:src|href|url\(|import\s*\(|from)\s*=?\s*["']?(?:https?:)?//""", text), path.name
