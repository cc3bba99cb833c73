"""Events from every site: site b's plant posts its webhooks to the gateway's ``/webhooks/b/<system>`` route, signed
with b's secrets; its events carry b's ids qualified (``b:<id>``) and the site, so subscribers filtered by those ids
see them, each site dedupes on its own, and the cache invalidated is b's. Real uvicorn servers: two plants and a
gateway, with the protocol clients of tests/events."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from api.servers import bind
from api.settings import SOURCES, load_settings
from plant.app import create_plant_app
from plant.webhooks import WebhookTarget
from tests.events.live import DEADLINE, GraphQLWS, Served, hold_body, outbox_event, post_webhook, served
from tests.sites.fixtures import Sites
from tests.waits import eventually

SECRETS = {"a": "site-a-webhook-secret-0123456789", "b": "site-b-webhook-secret-0123456789"}

HOLD_EVENTS = """subscription($lots: [ID!], $after: String) {
  holdEvents(lotIds: $lots, after: $after) { cursor type source sourceEventId site keys { lotIds } payload } }"""

LOT = """query($id: ID!) { lot(id: $id) { id } }"""

SITE_ROUTES = (("a", "qms"), ("b", "b/qms"))
"""Each site's QMS webhook route, by site."""


@dataclass
class TwoSites:
    plants: dict[str, Served]
    gateway: Served

    async def head(self) -> str:
        async with httpx.AsyncClient(base_url=self.gateway.url, timeout=DEADLINE) as client:
            response = await client.post("/graphql", json={"query": "{ eventLogHead }"})
        head: str = response.json()["data"]["eventLogHead"]
        return head

    async def place_hold(self, site: str, lot_id: str) -> dict[str, Any]:
        """A hold placed in ``site``'s QMS directly, not through lotgraph."""
        body = {"lot_id": lot_id, "reason_code": "OTHER", "comment": "site events test", "placed_by": "qa.test"}
        async with httpx.AsyncClient(base_url=self.plants[site].url, timeout=DEADLINE) as client:
            response = await client.post("/qms/holds", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        hold: dict[str, Any] = response.json()
        return hold


@contextlib.asynccontextmanager
async def two_sites_live(sites: Sites, data_dir: Path, *, webhooks: bool = True) -> AsyncIterator[TwoSites]:
    """Plants a and b and a gateway over both (a its own site); each plant sends its webhooks to its site's route."""
    socks = {site: bind("127.0.0.1", 0) for site in ("a", "b", "gateway")}
    urls = {site: f"http://127.0.0.1:{sock.getsockname()[1]}" for site, sock in socks.items()}
    env = {f"LOTGRAPH_{s.upper()}_URL": f"{urls['a']}/{s}" for s in SOURCES}
    env |= {f"LOTGRAPH_SITE_B_{s.upper()}_URL": f"{urls['b']}/{s}" for s in SOURCES}
    env |= {f"LOTGRAPH_WEBHOOKS_{s.upper()}_SECRET": SECRETS["a"] for s in SOURCES}
    env |= {f"LOTGRAPH_SITE_B_WEBHOOKS_{s.upper()}_SECRET": SECRETS["b"] for s in SOURCES}
    env |= {"LOTGRAPH_SITE": "a", "LOTGRAPH_SITES": "b", "LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LIMITS_RATE": "0",
            "LOTGRAPH_DATA_DIR": str(data_dir), "LOTGRAPH_GRAPHIQL": "false"}  # fmt: skip

    def target(site: str) -> WebhookTarget | None:
        secrets = dict.fromkeys(SOURCES, SECRETS[site])
        return WebhookTarget(urls["gateway"], secrets, site=None if site == "a" else site, poll_seconds=0.02)

    plants = {
        site: served(create_plant_app(sites.dir(site), webhooks=target(site) if webhooks else None), socks[site])
        for site in ("a", "b")
    }
    gateway = served(create_app(load_settings(env)), socks["gateway"])
    started: list[Served] = []
    try:
        for server in [*plants.values(), gateway]:
            await server.start()
            started.append(server)
        yield TwoSites(plants, gateway)
    finally:
        for server in reversed(started):
            await server.stop()


async def test_a_hold_placed_in_site_bs_qms_reaches_a_subscriber_of_bs_lot_with_site_b(
    sites: Sites, tmp_path: Path
) -> None:
    lot = sites.received[0]  # the same lot number at a (which made it) and at b (which received it)
    async with two_sites_live(sites, tmp_path) as live, GraphQLWS(live.gateway.ws_url) as client:
        after = await live.head()
        await client.subscribe("b", HOLD_EVENTS, {"lots": [f"b:{lot}"], "after": after})
        await client.subscribe("a", HOLD_EVENTS, {"lots": [lot], "after": after})
        hold = await live.place_hold("b", lot)
        at_b = (await client.next("b"))["holdEvents"]
        held_at_a = await live.place_hold("a", lot)
        at_a = (await client.next("a"))["holdEvents"]  # b's hold, recorded before, is not a's lot's event
    assert at_b["type"] == "HoldPlaced"
    assert at_b["site"] == "b"
    assert at_b["keys"]["lotIds"] == [f"b:{lot}"]
    assert at_b["payload"]["id"] == f"b:{hold['id']}"
    assert at_b["payload"]["lot_id"] == f"b:{lot}"
    assert at_b["sourceEventId"] == f"HoldPlaced:b:{hold['id']}"
    assert at_a["site"] == "a"
    assert at_a["keys"]["lotIds"] == [lot]
    assert at_a["payload"]["id"] == held_at_a["id"]


async def test_each_sites_route_takes_only_its_secrets_and_dedupes_on_its_own(sites: Sites, tmp_path: Path) -> None:
    lot = sites.received[0]
    async with two_sites_live(sites, tmp_path, webhooks=False) as live:
        url = live.gateway.url
        body = hold_body(lot)
        refused = await post_webhook(url, "b/qms", body, secret=SECRETS["a"])
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "BAD_SIGNATURE"
        unknown = await post_webhook(url, "c/qms", body, secret=SECRETS["a"])
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "UNKNOWN_SITE"

        # the same upstream event (one event id, one hold id) at a and at b: two events; again at b: a duplicate
        at_a = await post_webhook(url, "qms", body, secret=SECRETS["a"])
        at_b = await post_webhook(url, "b/qms", body, secret=SECRETS["b"])
        again = await post_webhook(url, "b/qms", body, secret=SECRETS["b"])
        disposition = outbox_event("LotDispositionChanged", {"lot_id": lot, "disposition": "ON_HOLD"}, {"lot_id": lot})
        first = [await post_webhook(url, path, disposition, secret=SECRETS[s]) for s, path in SITE_ROUTES]
    assert [r.status_code for r in (at_a, at_b, again, *first)] == [200] * 5
    assert [r.json()["status"] for r in (at_a, at_b, again)] == ["recorded", "recorded", "duplicate"]
    assert at_a.json()["event_id"] != at_b.json()["event_id"]
    assert again.json()["event_id"] == at_b.json()["event_id"]
    assert [r.json()["status"] for r in first] == ["recorded", "recorded"]


async def test_an_event_of_bs_lot_invalidates_bs_cached_lot_not_as(sites: Sites, tmp_path: Path) -> None:
    lot = sites.received[0]
    async with (
        two_sites_live(sites, tmp_path, webhooks=False) as live,
        httpx.AsyncClient(base_url=live.gateway.url, timeout=DEADLINE) as gateway,
    ):

        async def mes_requests() -> dict[str, int]:
            counts = {}
            for site, plant in live.plants.items():
                async with httpx.AsyncClient(base_url=plant.url, timeout=DEADLINE) as client:
                    counts[site] = (await client.get("/mes/admin/stats")).json()["total"]
            return counts

        async def read(lot_id: str) -> None:
            response = await gateway.post("/graphql", json={"query": LOT, "variables": {"id": lot_id}})
            assert response.json()["data"]["lot"]["id"] == lot_id, response.text

        for lot_id in (lot, f"b:{lot}"):
            await read(lot_id)
        cached = await mes_requests()
        await read(lot)
        await read(f"b:{lot}")
        assert await mes_requests() == cached  # both served from the caches

        assert (await post_webhook(live.gateway.url, "b/qms", hold_body(lot), secret=SECRETS["b"])).status_code == 200

        async def b_asked() -> bool | None:  # the cache follows the bus: b's next read goes to b's MES
            await read(f"b:{lot}")
            return (await mes_requests())["b"] != cached["b"] or None

        await eventually(b_asked, "b's cached lot invalidated", DEADLINE)
        await read(lot)
        after = await mes_requests()
    assert after == {"a": cached["a"], "b": cached["b"] + 1}
