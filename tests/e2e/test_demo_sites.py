"""`lotgraph demo --sites 2` as a user runs it: two reference plants and one gateway in real processes; the banner's
cross-site lot traces into site b, its site-scoped quality token reads site a but may not hold there, and a hold
placed directly in site b's QMS reaches the gateway (b's plant posts its webhooks to b's route)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import launch
from tests.tryton_server import free_port
from tests.waits import eventually

TRACE = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD) {
  edges { from to crossSite } summary { bySite { site lots } } } }"""
PLACE = """mutation($lot: ID!, $key: String!) { placeHold(input: {lotIds: [$lot], reasonCode: OTHER,
  idempotencyKey: $key}) { holds { id } errors { code lotId } } }"""
RECENT = """{ recentEvents(last: 100) { type site keys { lotIds } payload } }"""


async def test_the_two_site_demo_traces_across_sites_and_scopes_holds(tmp_path: Path) -> None:
    async with launch.running(launch.demo, tmp_path / "demo", "--sites", "2", "--plant-port", "0") as demo:
        banner = demo.banner
        crossed = re.search(r"received by b \(trace it FORWARD\): (\S+)$", banner, flags=re.MULTILINE)
        scoped = re.search(r"^\s+quality@b: (ey\S+)$", banner, flags=re.MULTILINE)
        plant_b = re.search(r" b: (http://\S+)/\{erp", banner)
        assert crossed, banner
        assert scoped, banner
        assert plant_b, banner
        lot = crossed.group(1)
        headers = {"Authorization": f"Bearer {scoped.group(1)}"}
        async with httpx.AsyncClient(base_url=demo.gateway, headers=headers, timeout=30) as client:
            traced = (await client.post("/graphql", json={"query": TRACE, "variables": {"lot": lot}})).json()
            held = (
                await client.post(
                    "/graphql", json={"query": PLACE, "variables": {"lot": lot, "key": str(uuid.uuid4())}}
                )
            ).json()
            hold = {"lot_id": lot, "reason_code": "OTHER", "placed_by": "qa.at.b"}  # in b's QMS, not through lotgraph
            placed = await client.post(f"{plant_b.group(1)}/qms/holds", json=hold, headers={"Idempotency-Key": "k1"})
            assert placed.status_code == 201, placed.text
            hold_id = f"b:{placed.json()['id']}"

            async def raised() -> list[dict[str, Any]] | None:
                return [e for e in await _recent(client) if e["payload"].get("id") == hold_id] or None

            found = await eventually(raised, f"b's hold {hold_id} raised an event", 20, every=0.1)
    (event,) = found
    assert (event["type"], event["site"], event["keys"]["lotIds"]) == ("HoldPlaced", "b", [f"b:{lot}"])
    assert "errors" not in traced, traced
    trace = traced["data"]["lotGenealogy"]
    assert {"from": lot, "to": f"b:{lot}", "crossSite": True} in trace["edges"]
    assert [s["site"] for s in trace["summary"]["bySite"]] == ["a", "b"]
    assert held["data"]["placeHold"] == {"holds": [], "errors": [{"code": "FORBIDDEN", "lotId": lot}]}


async def _recent(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = (await client.post("/graphql", json={"query": RECENT})).json()
    events: list[dict[str, Any]] = body["data"]["recentEvents"]
    return events


BOTH_WAYS = """query($lot: ID!, $made: ID!) {
  forward: lotGenealogy(lotId: $lot, direction: FORWARD) { nodes { lot { id } } edges { from to crossSite } }
  backward: lotGenealogy(lotId: $made, direction: BACKWARD) { nodes { lot { id site } } } }"""


async def test_the_two_site_demo_with_site_b_on_tryton_traces_into_tryton(tmp_path: Path) -> None:
    """``--sites 2 --tryton``: site b's ERP, MES and WMS on Tryton; a's lot it received traces into b's lots."""
    args = ["--sites", "2", "--tryton", "--tryton-lots", "40", "--plant-port", "0", "--tryton-port", str(free_port())]
    async with launch.running(launch.demo, tmp_path / "demo", *args, deadline=600) as demo:
        banner = demo.banner
        crossed = re.search(r"received by b on Tryton \(trace it FORWARD\): (\S+)$", banner, flags=re.MULTILINE)
        made = re.search(r"made from it \(trace it BACKWARD\): (b:\S+)$", banner, flags=re.MULTILINE)
        assert crossed, banner
        assert made, banner
        lot, made_lot = crossed.group(1), made.group(1)
        headers = {"Authorization": f"Bearer {demo.tokens['quality']}"}
        async with httpx.AsyncClient(base_url=demo.gateway, headers=headers, timeout=30) as client:
            body = {"query": BOTH_WAYS, "variables": {"lot": lot, "made": made_lot}}
            traced = (await client.post("/graphql", json=body)).json()
    assert "errors" not in traced, traced
    forward, backward = traced["data"]["forward"], traced["data"]["backward"]
    assert {"from": lot, "to": f"b:{lot}", "crossSite": True} in forward["edges"]
    assert made_lot in {n["lot"]["id"] for n in forward["nodes"]}
    assert {"id": lot, "site": "a"} in [n["lot"] for n in backward["nodes"]]
