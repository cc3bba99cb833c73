"""Recent events after a reload: the page shows the last 100 events of the log at once, then goes on live after the
newest of them, without a gap and without showing an event twice."""

from __future__ import annotations

from playwright.async_api import expect

from tests.dashboard.conftest import TOKEN, Dashboard, Stack, until
from tests.dashboard.test_live import Gate, event_row

TIMEOUT_MS = 10_000


async def _page_event_ids(dashboard: Dashboard) -> list[str]:
    ids = await dashboard.page.locator("#events-body tr").evaluate_all("rows => rows.map(r => r.dataset.eventId)")
    return [str(i) for i in ids]


async def _at_least(dashboard: Dashboard, count: int) -> bool:
    return len(await _page_event_ids(dashboard)) >= count


async def test_a_reload_shows_the_last_events_of_the_log_then_live_ones_without_gap_or_repeat(
    stack: Stack, dashboard: Dashboard
) -> None:
    demo = stack.manifest["demo"]
    for n, lot in enumerate((demo["hold_lot"], demo["lot_recall"])):
        hold_id = await stack.place_hold(lot, correlation_id=f"before-load-{n}")
        await stack.release_hold(hold_id, correlation_id=f"before-load-release-{n}")
    recent = (await stack.graphql("{ recentEvents(last: 100) { id cursor } }"))["recentEvents"]
    assert len(recent) >= 4

    async def the_log_newest_first() -> bool:  # the plant's webhooks may still bring an event or two: poll
        log = [e["id"] for e in (await stack.graphql("{ recentEvents(last: 100) { id } }"))["recentEvents"]]
        return await _page_event_ids(dashboard) == list(reversed(log))

    await dashboard.open(stack.gateway.url)
    await until(the_log_newest_first, deadline=TIMEOUT_MS / 1000, what="the page to show the log's events")

    # Reload with the WebSocket held back: the list comes from the log over HTTP; what happens before the socket is
    # up comes through the subscription, which resumes after the newest event shown.
    gate = Gate()
    gate.open = False
    await dashboard.page.route_web_socket("**/graphql", gate.route)
    await dashboard.page.reload()
    await expect(dashboard.page.locator("#events-empty")).to_be_hidden(timeout=TIMEOUT_MS)
    await until(lambda: _at_least(dashboard, len(recent)), deadline=TIMEOUT_MS / 1000, what="the events from the log")
    meanwhile = await stack.place_hold(demo["hold_lot"], correlation_id="before-the-socket")
    gate.open = True
    await dashboard.live(30_000)
    await expect(event_row(dashboard, "HoldPlaced", "before-the-socket")).to_have_count(1, timeout=TIMEOUT_MS)
    cursors = [e["cursor"] for e in (await stack.graphql("{ recentEvents(last: 100) { cursor } }"))["recentEvents"]]
    after = gate.subscriptions("statusEvents")[0]["after"]
    assert cursors.index(after) >= cursors.index(recent[-1]["cursor"])  # after the newest event the page showed

    await stack.release_hold(meanwhile, correlation_id="after-the-socket")
    await expect(event_row(dashboard, "HoldReleased", "after-the-socket")).to_have_count(1, timeout=TIMEOUT_MS)

    await until(the_log_newest_first, deadline=TIMEOUT_MS / 1000, what="the page to show the log's events")
    shown = await _page_event_ids(dashboard)
    assert len(shown) == len(set(shown))  # nothing twice (and, above, nothing missed)
    assert TOKEN not in dashboard.page.url
    assert dashboard.errors == []
