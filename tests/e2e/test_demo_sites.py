"""`lotgraph demo --sites 2` as a user runs it: two reference plants and one gateway in real processes; the banner's
cross-site lot traces into site b, and its site-scoped quality token reads site a but may not hold there."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from bench import launch

TRACE = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD) {
  edges { from to crossSite } summary { bySite { site lots } } } }"""
PLACE = """mutation($lot: ID!, $key: String!) { placeHold(input: {lotIds: [$lot], reasonCode: OTHER,
  idempotencyKey: $key}) { holds { id } errors { code lotId } } }"""


async def test_the_two_site_demo_traces_across_sites_and_scopes_holds(tmp_path: Path) -> None:
    async with launch.running(launch.demo, tmp_path / "demo", "--sites", "2", "--plant-port", "0") as demo:
        banner = demo.banner
        crossed = re.search(r"received by b \(trace it FORWARD\): (\S+)$", banner, flags=re.MULTILINE)
        scoped = re.search(r"^\s+quality@b: (ey\S+)$", banner, flags=re.MULTILINE)
        assert crossed, banner
        assert scoped, banner
        lot = crossed.group(1)
        headers = {"Authorization": f"Bearer {scoped.group(1)}"}
        async with httpx.AsyncClient(base_url=demo.gateway, headers=headers, timeout=30) as client:
            traced = (await client.post("/graphql", json={"query": TRACE, "variables": {"lot": lot}})).json()
            held = (
                await client.post(
                    "/graphql", json={"query": PLACE, "variables": {"lot": lot, "key": str(uuid.uuid4())}}
                )
            ).json()
    assert "errors" not in traced, traced
    trace = traced["data"]["lotGenealogy"]
    assert {"from": lot, "to": f"b:{lot}", "crossSite": True} in trace["edges"]
    assert [s["site"] for s in trace["summary"]["bySite"]] == ["a", "b"]
    assert held["data"]["placeHold"] == {"holds": [], "errors": [{"code": "FORBIDDEN", "lotId": lot}]}
