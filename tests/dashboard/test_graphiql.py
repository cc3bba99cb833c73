"""GraphiQL served by the gateway: in Chromium with every request to anything but the gateway refused (a plant
network without internet), the page loads, takes the token of a ``#token=`` link and runs a query."""

from __future__ import annotations

import gzip
import json
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Request, Route, expect

from tests.dashboard.conftest import TOKEN, Stack

TIMEOUT_MS = 20_000


async def test_graphiql_runs_a_query_with_no_network_beyond_the_gateway(stack: Stack, browser: BrowserContext) -> None:
    gateway = urlsplit(stack.gateway.url)
    refused: list[str] = []

    async def only_the_gateway(route: Route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) in (("http", gateway.netloc), ("ws", gateway.netloc)):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await browser.route("**/*", only_the_gateway)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)

    await page.goto(f"{stack.gateway.url}/graphql#token={TOKEN}")
    assert "#token" not in page.url  # the token leaves the address bar at once
    await page.locator(".graphiql-execute-button").click(timeout=TIMEOUT_MS)
    response = page.locator(".result-window")
    await expect(response).to_contain_text('"sourceHealth"', timeout=TIMEOUT_MS)
    answer = json.loads((await response.inner_text()).replace("\xa0", " "))  # the editor shows non-breaking spaces
    assert "errors" not in answer, answer
    assert {row["source"] for row in answer["data"]["sourceHealth"]} == {"erp", "qms", "mes", "wms"}
    queries = [r for r in sent if urlsplit(r.url).path == "/graphql"]
    assert queries
    for query in queries:
        assert (await query.all_headers()).get("authorization") == f"Bearer {TOKEN}"
    assert refused == []
    assert errors == []
    await page.close()


async def test_the_assets_are_the_vendored_ones_compressed_or_not(stack: Stack) -> None:
    page = await stack.client.get(f"{stack.gateway.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace('rel="stylesheet"', "")  # no URL but this origin's
    name = "graphiql/react-18.2.0.production.min.js"
    packed = await stack.client.get(f"{stack.gateway.url}/{name}", headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"].startswith("text/javascript")
    plain = await stack.client.get(f"{stack.gateway.url}/{name}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == packed.content  # httpx decoded the gzip one
    assert gzip.compress(plain.content)  # a real script, not an error page
    assert b"React" in plain.content
    for missing in ("graphiql/nothing.js", "graphiql/..%2Fgraphiql.py", "graphiql/VENDORED.md"):
        assert (await stack.client.get(f"{stack.gateway.url}/{missing}")).status_code == 404
