"""The page kept live: holds placed and released through GraphQL, changes made in the plant (its webhooks), readiness
changes, and a gateway killed and started again while holds were placed and released."""

from __future__ import annotations

import json
import uuid
from typing import Any

from playwright.async_api import WebSocketRoute, expect

from tests.dashboard.conftest import TABLET, Dashboard, Stack

TIMEOUT_MS = 10_000


def hold_row(dashboard: Dashboard, hold_id: str) -> Any:
    return dashboard.page.locator(f'#holds-body tr[data-hold-id="{hold_id}"]')


def event_row(dashboard: Dashboard, type_: str, correlation_id: str) -> Any:
    return dashboard.page.locator(f'#events-body tr[data-type="{type_}"]', has_text=correlation_id)


def readiness_row(dashboard: Dashboard, shipment_id: str) -> Any:
    return dashboard.page.locator(f'#readiness-body tr[data-shipment-id="{shipment_id}"]')


async def test_a_hold_shows_its_readiness_effect_follows_and_its_release_removes_it(
    stack: Stack, dashboard: Dashboard
) -> None:
    demo = stack.manifest["demo"]
    lot, shipment, other = demo["hold_lot"], demo["hold_shipment"], demo["shipment_ready"]
    await dashboard.open(stack.gateway.url, f"?shipments={shipment},{other}")
    page = dashboard.page
    await expect(readiness_row(dashboard, shipment)).to_have_attribute("data-status", "READY", timeout=TIMEOUT_MS)
    holds_before = int(await page.locator("#fig-holds").inner_text())

    hold_id = await stack.place_hold(lot, correlation_id="dashboard-place-1")
    row = hold_row(dashboard, hold_id)
    await expect(row).to_be_visible(timeout=TIMEOUT_MS)
    await expect(row.locator("th")).to_have_text(lot)
    await expect(row).to_contain_text("suspected contamination", ignore_case=True)
    await expect(row).to_contain_text("browser test")
    await expect(page.locator("#fig-holds")).to_have_text(str(holds_before + 1))
    await expect(event_row(dashboard, "HoldPlaced", "dashboard-place-1")).to_have_count(1, timeout=TIMEOUT_MS)

    blocked = readiness_row(dashboard, shipment)
    await expect(blocked).to_have_attribute("data-status", "NOT_READY", timeout=TIMEOUT_MS)
    await expect(blocked.locator('li[data-code="LOT_ON_HOLD"]')).to_have_count(1)
    await expect(blocked.locator('li[data-code="STOCK_BLOCKED"]')).to_have_count(1)
    await expect(readiness_row(dashboard, other)).to_have_attribute("data-status", "READY")
    await expect(page.locator("#fig-shipments")).to_have_text("1 · 0")
    await dashboard.screenshot("hold-placed")
    await dashboard.screenshot("hold-placed", TABLET)

    await stack.release_hold(hold_id, correlation_id="dashboard-release-1")
    await expect(row).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(page.locator("#fig-holds")).to_have_text(str(holds_before))
    await expect(event_row(dashboard, "HoldReleased", "dashboard-release-1")).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(blocked).to_have_attribute("data-status", "READY", timeout=TIMEOUT_MS)
    await expect(page.locator("#fig-shipments")).to_have_text("0 · 0")
    assert dashboard.errors == []


async def test_changes_made_in_the_plant_reach_the_page_through_its_webhooks(
    stack: Stack, dashboard: Dashboard
) -> None:
    await dashboard.open(stack.gateway.url)
    lot = stack.manifest["demo"]["lot_forward"]
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Correlation-ID": "qms-screen-1"}
    body = {"lot_id": lot, "reason_code": "SUPPLIER_NOTICE", "comment": "entered in the QMS", "placed_by": "qa.bauer"}
    response = await stack.client.post(f"{stack.plant_url}/qms/holds", json=body, headers=headers)
    assert response.status_code == 201, response.text
    hold = response.json()

    row = hold_row(dashboard, hold["id"])
    await expect(row).to_be_visible(timeout=TIMEOUT_MS)
    await expect(row).to_contain_text("qa.bauer")
    await expect(row).to_contain_text("supplier notice", ignore_case=True)
    placed = event_row(dashboard, "HoldPlaced", "qms-screen-1")
    await expect(placed).to_have_count(1)
    await expect(placed.locator(".source")).to_have_text("qms")
    await expect(event_row(dashboard, "LotDispositionChanged", "qms-screen-1")).to_have_count(1)
    assert dashboard.errors == []


class Gate:
    """Stands between the page and the gateway's WebSocket: open, frames pass both ways (and are recorded); shut,
    the page's connection attempts are refused, as when its network is down."""

    def __init__(self) -> None:
        self.open = True
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []

    async def route(self, ws: WebSocketRoute) -> None:
        if not self.open:
            await ws.close(code=1013, reason="the test keeps the page offline")
            return
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            self.sent.append(json.loads(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            self.received.append(json.loads(message))
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    def last_cursor(self, field: str) -> str:
        cursors = [m["payload"]["data"][field]["cursor"] for m in self.received if _data(m, field)]
        assert cursors, f"no {field} event reached the page"
        return str(cursors[-1])

    def subscriptions(self, field: str) -> list[dict[str, Any]]:
        return [
            m["payload"]["variables"]
            for m in self.sent
            if m.get("type") == "subscribe" and f"{field}(" in m["payload"]["query"]
        ]


def _data(message: dict[str, Any], field: str) -> bool:
    return message.get("type") == "next" and bool((message.get("payload") or {}).get("data", {}).get(field))


async def test_a_gateway_killed_and_started_again_shows_the_banner_then_what_happened_meanwhile(
    stack: Stack, dashboard: Dashboard
) -> None:
    page = dashboard.page
    gate = Gate()
    await page.route_web_socket("**/graphql", gate.route)
    demo = stack.manifest["demo"]
    await dashboard.open(stack.gateway.url, f"?shipments={demo['hold_shipment']},{demo['shipment_ready']}")
    banner = page.get_by_role("alert")

    first = await stack.place_hold(demo["hold_lot"], correlation_id="before-the-crash")
    await expect(hold_row(dashboard, first)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(event_row(dashboard, "HoldPlaced", "before-the-crash")).to_have_count(1, timeout=TIMEOUT_MS)

    gate.open = False
    await stack.gateway.kill()
    await expect(banner).to_be_visible(timeout=TIMEOUT_MS)
    # What the page had when the gateway died: the last cursor of each stream.
    hold_cursor = gate.last_cursor("holdEvents")
    stream_cursor = gate.last_cursor("statusEvents")
    await expect(banner).to_contain_text("Connection to the gateway lost")
    await expect(page.locator("#link")).to_have_attribute("data-state", "down")
    await dashboard.screenshot("gateway-down")

    # While the page is cut off: the gateway comes back, a hold is placed and the first one released.
    await stack.gateway.start()
    second = await stack.place_hold(demo["lot_recall"], correlation_id="while-away-1")
    await stack.release_hold(first, correlation_id="while-away-2")
    await expect(banner).to_contain_text("Connection to the gateway lost")
    await expect(hold_row(dashboard, second)).to_have_count(0)

    gate.open = True
    await expect(page.locator("#link")).to_have_attribute("data-state", "open", timeout=30_000)
    await expect(banner).to_contain_text("Reconnected")
    await expect(hold_row(dashboard, second)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(hold_row(dashboard, first)).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(event_row(dashboard, "HoldPlaced", "while-away-1")).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(event_row(dashboard, "HoldReleased", "while-away-2")).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(readiness_row(dashboard, demo["hold_shipment"])).to_have_attribute(
        "data-status", "READY", timeout=TIMEOUT_MS
    )
    # Resumed, not reloaded: each stream asked for what came after the last event it had, and got each event once.
    assert gate.subscriptions("holdEvents")[-1] == {"after": hold_cursor}
    assert gate.subscriptions("statusEvents")[-1] == {"after": stream_cursor}
    await expect(event_row(dashboard, "HoldPlaced", "before-the-crash")).to_have_count(1)
    await dashboard.screenshot("caught-up")
    assert dashboard.errors == []
