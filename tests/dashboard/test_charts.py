"""The business charts in Chromium: holds by reason and age, blocked stock by hold age, shipments at risk today and
tomorrow, pending-action aging — first as the gateway answers, then kept current by events, without a reload."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from playwright.async_api import expect

from tests.dashboard.conftest import AUTH_SECRET, TABLET, Dashboard, Stack

TIMEOUT_MS = 15_000
ADMIN = jwt.encode(
    {"sub": "charts-admin", "roles": ["admin"], "iat": int(time.time()), "exp": int(time.time()) + 3600},
    AUTH_SECRET,
    algorithm="HS256",
)


def bar(dashboard: Dashboard, chart: str, key: str) -> Any:
    return dashboard.page.locator(f'#chart-{chart}-bars li[data-key="{key}"]')


async def _at_risk(stack: Stack) -> dict[str, dict[str, int]]:
    today = datetime.now(UTC).date()
    days = {today.isoformat(): "today", (today + timedelta(days=1)).isoformat(): "tomorrow"}
    data = await stack.graphql(
        "query($from: Date!, $to: Date!) { shipments(filter: {status: [PLANNED, IN_PROGRESS], shipDateFrom: $from, "
        "shipDateTo: $to}, first: 200) { edges { node { shipDate readiness { status } } } } }",
        {"from": min(days), "to": max(days)},
    )
    counts = {key: {"NOT_READY": 0, "UNKNOWN": 0} for key in days.values()}
    for edge in data["shipments"]["edges"]:
        status = edge["node"]["readiness"]["status"]
        if status in ("NOT_READY", "UNKNOWN"):
            counts[days[edge["node"]["shipDate"]]][status] += 1
    return counts


async def test_the_charts_match_the_gateway_and_follow_a_hold_and_a_pending_action(
    stack: Stack, dashboard: Dashboard
) -> None:
    page = dashboard.page
    await page.goto(f"{stack.gateway.url}/dashboard/#token={ADMIN}")
    await dashboard.live()

    holds = (await stack.graphql("{ holds(status: ACTIVE, first: 500) { edges { node { reasonCode } } } }"))["holds"]
    by_reason: dict[str, int] = {}
    for edge in holds["edges"]:
        by_reason[edge["node"]["reasonCode"]] = by_reason.get(edge["node"]["reasonCode"], 0) + 1
    for reason, count in by_reason.items():
        await expect(bar(dashboard, "holds", reason)).to_have_attribute("data-total", str(count), timeout=TIMEOUT_MS)
    risk = await _at_risk(stack)
    for day, counts in risk.items():
        row = bar(dashboard, "risk", day)
        await expect(row).to_have_attribute("data-not-ready", str(counts["NOT_READY"]), timeout=TIMEOUT_MS)
        await expect(row).to_have_attribute("data-unknown", str(counts["UNKNOWN"]))
    await expect(page.locator("#chart-actions-note")).to_have_text("0 open", timeout=TIMEOUT_MS)
    blocked_before = int(await bar(dashboard, "blocked", "day").get_attribute("data-lots") or "0")

    # A hold on the demo's sandbox lot (in a shipment due today): a new reason row or one more, its stock blocked,
    # and its shipment at risk — all without a reload.
    demo = stack.manifest["demo"]
    hold_id = await stack.place_hold(demo["hold_lot"], correlation_id="charts-1")
    reason = bar(dashboard, "holds", "SUSPECTED_CONTAMINATION")
    expected = by_reason.get("SUSPECTED_CONTAMINATION", 0) + 1
    await expect(reason).to_have_attribute("data-total", str(expected), timeout=TIMEOUT_MS)
    await expect(bar(dashboard, "blocked", "day")).to_have_attribute(
        "data-lots", str(blocked_before + 1), timeout=TIMEOUT_MS
    )
    after = await _at_risk(stack)
    assert sum(map(sum, (c.values() for c in after.values()))) > sum(map(sum, (c.values() for c in risk.values())))
    for day, counts in after.items():
        row = bar(dashboard, "risk", day)
        await expect(row).to_have_attribute("data-not-ready", str(counts["NOT_READY"]), timeout=TIMEOUT_MS)
    await dashboard.screenshot("charts")
    await dashboard.screenshot("charts", TABLET)

    # The WMS down while a hold is released: the unblock waits as a pending action, shown under one hour.
    await stack.client.put(f"{stack.plant_url}/wms/admin/faults", json={"outage": True})
    try:
        await stack.graphql(
            "mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) { complete } }",
            {"input": {"holdId": hold_id, "idempotencyKey": uuid.uuid4().hex, "comment": "charts"}},
        )
        await expect(bar(dashboard, "actions", "hour")).to_have_attribute("data-total", "1", timeout=TIMEOUT_MS)
        await expect(page.locator("#chart-actions-note")).to_have_text("1 open")
    finally:
        await stack.client.put(f"{stack.plant_url}/wms/admin/faults", json={"outage": False})
    assert dashboard.errors == []


async def test_the_viewer_sees_the_pending_action_chart(stack: Stack, dashboard: Dashboard) -> None:
    await dashboard.open(stack.gateway.url)  # viewer and quality: pendingActionsConnection needs no admin role
    await expect(dashboard.page.locator("#chart-actions-note")).to_have_text(
        re.compile(r"^\d+ open$"), timeout=TIMEOUT_MS
    )
    await expect(dashboard.page.locator("#chart-risk-bars li")).to_have_count(2)
    assert dashboard.errors == []
