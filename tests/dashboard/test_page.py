"""The page in Chromium against a real gateway and plant: what it shows first, sign-in, and both layouts."""

from __future__ import annotations

import json
import re
from datetime import datetime

from playwright.async_api import WebSocket, expect

from tests.dashboard.conftest import TABLET, TOKEN, Dashboard, Stack, until

TIMEOUT_MS = 10_000


async def test_the_first_view_matches_the_gateway(stack: Stack, dashboard: Dashboard) -> None:
    blocked = [s["id"] for s in stack.manifest["shipments"]["blocked"][:4]]
    ready = stack.manifest["shipments"]["ready"][:2]
    watched = blocked + ready
    await dashboard.open(stack.gateway.url, "?shipments=" + ",".join(watched))
    page = dashboard.page

    truth = await stack.graphql(
        "query($ids: [ID!]!) { holds(status: ACTIVE, first: 500) { totalCount edges { node { id lotId placedAt } } } "
        "shipmentsReadiness(shipmentIds: $ids) { shipmentId status blockers { code } } }",
        {"ids": watched},
    )
    holds = truth["holds"]
    assert holds["totalCount"] > 0
    rows = page.locator("#holds-body tr")
    await expect(rows).to_have_count(holds["totalCount"], timeout=TIMEOUT_MS)
    await expect(page.locator("#fig-holds")).to_have_text(str(holds["totalCount"]))
    for edge in holds["edges"]:
        row = page.locator(f'#holds-body tr[data-hold-id="{edge["node"]["id"]}"]')
        await expect(row.locator("th")).to_have_text(edge["node"]["lotId"])
        await expect(row.locator("td.product")).not_to_have_text("…", timeout=TIMEOUT_MS)

    for decided in truth["shipmentsReadiness"]:
        row = page.locator(f'#readiness-body tr[data-shipment-id="{decided["shipmentId"]}"]')
        await expect(row).to_have_attribute("data-status", decided["status"], timeout=TIMEOUT_MS)
        for blocker in decided["blockers"]:
            await expect(row.locator(f'li[data-code="{blocker["code"]}"]')).to_have_count(1)
    not_ready = sum(d["status"] == "NOT_READY" for d in truth["shipmentsReadiness"])
    unknown = sum(d["status"] == "UNKNOWN" for d in truth["shipmentsReadiness"])
    assert not_ready >= len(blocked)
    await expect(page.locator("#fig-shipments")).to_have_text(f"{not_ready} · {unknown}")
    oldest = min(datetime.fromisoformat(e["node"]["placedAt"]) for e in holds["edges"])
    since = await page.locator("#fig-oldest").get_attribute("data-since")
    assert since is not None
    assert datetime.fromisoformat(since) == oldest
    await expect(page.locator("#fig-oldest")).to_have_text(re.compile(r"^\d+ (d|h|min|s)\b"))
    await expect(page.locator("#fig-blocked")).not_to_have_text("\u2013")

    await dashboard.screenshot("first-view")
    await dashboard.screenshot("first-view", TABLET)
    assert dashboard.errors == []


async def test_the_page_reads_at_tablet_width_without_sideways_scrolling(stack: Stack, dashboard: Dashboard) -> None:
    await dashboard.page.set_viewport_size(TABLET)
    await dashboard.open(stack.gateway.url)
    page = dashboard.page
    await expect(page.locator("#readiness-body tr")).not_to_have_count(0, timeout=TIMEOUT_MS)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a tablet"
    # One column: the panels stack, each as wide as the page.
    boxes = [await page.locator(f"section.{name}").bounding_box() for name in ("holds", "readiness", "events")]
    assert all(box is not None for box in boxes)
    lefts = {round(box["x"]) for box in boxes if box}
    assert len(lefts) == 1
    assert boxes[0] is not None
    assert boxes[1] is not None
    assert boxes[0]["y"] < boxes[1]["y"]
    assert dashboard.errors == []


async def test_controls_have_labels_a_person_and_a_screen_reader_can_use(stack: Stack, dashboard: Dashboard) -> None:
    await dashboard.open(stack.gateway.url)
    page = dashboard.page
    await expect(page.get_by_label("Shipments to watch")).to_be_visible()
    account = page.get_by_role("button", name="Change token")  # signed in through the link
    await expect(account).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Live")
    for name in ("Active holds", "Shipment readiness", "Recent events"):
        await expect(page.get_by_role("heading", name=name)).to_be_visible()
    for caption in ("Quality holds that are active now", "Readiness of the watched shipments", "Events from"):
        await expect(page.get_by_role("table", name=caption)).to_have_count(1)
    unlabelled = await page.evaluate(
        """[...document.querySelectorAll('input, button, select, textarea')]
             .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
             .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []
    await account.click()
    await expect(page.get_by_label("Access token")).to_be_focused()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert dashboard.errors == []


async def test_the_token_goes_with_every_request_and_in_connection_init(stack: Stack, dashboard: Dashboard) -> None:
    page = dashboard.page
    inits: list[dict[str, object]] = []
    authorizations: list[str | None] = []

    def on_websocket(ws: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            message = json.loads(payload)
            if message.get("type") == "connection_init":
                inits.append(message.get("payload") or {})

        ws.on("framesent", sent)

    page.on("websocket", on_websocket)
    page.on(
        "request",
        lambda r: authorizations.append(r.headers.get("authorization")) if r.url.endswith("/graphql") else None,
    )
    await dashboard.open(stack.gateway.url, signed_in=False)
    await expect(page.locator("#who")).to_have_text("Not signed in")
    await until(lambda: _settled(authorizations), deadline=10, what="the page's first queries")
    assert inits == [{}]
    assert set(authorizations) == {None}

    if not await page.locator("#signin").evaluate("(dialog) => dialog.open"):
        await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Access token").fill(f"  {TOKEN}  ")
    await page.get_by_role("button", name="Sign in", exact=True).last.click()
    await dashboard.live()
    await expect(page.locator("#who")).to_have_text("Signed in with a token")
    rows = page.locator("#readiness-body tr")
    await expect(rows.first).to_have_attribute("data-status", re.compile("^(READY|NOT_READY|UNKNOWN)$"))
    assert inits[-1] == {"Authorization": f"Bearer {TOKEN}"}
    assert authorizations[-1] == f"Bearer {TOKEN}"
    assert await page.evaluate("sessionStorage.getItem('lotgraph.token')") == TOKEN

    # A link can carry the token in its fragment: stored for the tab, gone from the address bar.
    await page.goto(f"{stack.gateway.url}/dashboard/#token=from-a-link")

    async def sent_from_the_link() -> bool:
        return inits[-1] == {"Authorization": "Bearer from-a-link"}

    await until(sent_from_the_link, deadline=10, what="a connection_init with the link's token")
    assert page.url == f"{stack.gateway.url}/dashboard/"
    assert await page.evaluate("sessionStorage.getItem('lotgraph.token')") == "from-a-link"
    assert dashboard.errors == []


async def _settled(requests: list[str | None]) -> bool:
    return len(requests) >= 2


async def test_without_a_valid_token_the_page_asks_to_sign_in_and_then_shows_everything(
    stack: Stack, dashboard: Dashboard
) -> None:
    page = dashboard.page
    dialog = page.get_by_role("dialog", name="Sign in")
    await dashboard.open(stack.gateway.url, signed_in=False)
    await expect(dialog).to_be_visible(timeout=TIMEOUT_MS)
    await expect(dialog.locator("#signin-reason")).to_contain_text("UNAUTHENTICATED")
    await expect(page.locator("#holds-body tr")).to_have_count(0)
    await dashboard.screenshot("asks-to-sign-in")

    await page.get_by_label("Access token").fill("not-a-token")
    await dialog.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "down", timeout=TIMEOUT_MS)
    await expect(page.get_by_role("status")).to_contain_text("Signed out")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#signin-reason")).to_contain_text(re.compile("token is not valid|refused"))

    await page.get_by_label("Access token").fill(TOKEN)
    await dialog.get_by_role("button", name="Sign in", exact=True).click()
    await dashboard.live()
    await expect(dialog).to_be_hidden()
    total = (await stack.graphql("{ holds(status: ACTIVE, first: 1) { totalCount } }"))["holds"]["totalCount"]
    await expect(page.locator("#holds-body tr")).to_have_count(total, timeout=TIMEOUT_MS)
    await expect(page.locator("#readiness-body tr").first).to_have_attribute(
        "data-status", re.compile("^(READY|NOT_READY|UNKNOWN)$"), timeout=TIMEOUT_MS
    )
    assert dashboard.errors == []
