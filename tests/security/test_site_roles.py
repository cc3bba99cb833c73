"""The role matrix by site: a token's sites claim scopes its roles. Every role and scope reads every site; quality
places and releases holds only on lots of its sites (a FORBIDDEN error in the payload, nothing held, otherwise);
other roles hold nothing anywhere. Run over two sites in process (tests/sites/fixtures.py)."""

from __future__ import annotations

import uuid

import pytest

from api.auth import mint
from tests.conftest import TEST_SECRET, Gateway
from tests.sites.fixtures import Sites, site_plants, sites, sites_source, two_sites, two_sites_with

__all__ = ["site_plants", "sites", "sites_source", "two_sites", "two_sites_with"]  # the fixtures this module uses

READ = {
    "lot": "query($a: ID!, $b: ID!) { a: lot(id: $a) { id site disposition } b: lot(id: $b) { id site disposition } }",
    "shipment": "query($a: ID!, $b: ID!) { a: shipment(id: $a) { id site } b: shipment(id: $b) { id site } }",
}
PLACE = """mutation($lot: ID!, $key: String!) { placeHold(input: {lotIds: [$lot], reasonCode: OTHER,
  idempotencyKey: $key}) { holds { lotId } errors { code lotId } } }"""
SCOPES = {"every site": None, "a": ["a"], "b": ["b"], "a and b": ["a", "b"], "no site": []}


def may_hold(role: str, scope: list[str] | None, site: str) -> bool:
    return role in ("quality", "admin") and (scope is None or site in scope)


@pytest.mark.parametrize("role", ["shipping", "quality", "viewer", "admin"])
async def test_the_role_matrix_by_site(two_sites: Gateway, sites: Sites, role: str) -> None:
    demo = sites.summary["demo"]
    lots = {"a": demo["a"]["lot_backward"], "b": "b:" + demo["b"]["lot_backward"]}
    shipments = {"a": demo["a"]["shipment_ready"], "b": "b:" + demo["b"]["shipment_ready"]}
    for name, scope in SCOPES.items():
        caller = two_sites.as_token(mint(TEST_SECRET, f"{role}-{name}", [role], sites=scope))
        kind, ids = ("shipment", shipments) if role == "shipping" else ("lot", lots)
        read = await caller.query(READ[kind], ids)
        assert "errors" not in read, (role, name, read)
        assert [read["data"][s]["site"] for s in ("a", "b")] == ["a", "b"]  # reads reach every site
        for site, lot in lots.items():
            body = await caller.query(PLACE, {"lot": lot, "key": str(uuid.uuid4())})
            if role not in ("quality", "admin"):
                assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (role, name, site)
                continue
            payload = body["data"]["placeHold"]
            if may_hold(role, scope, site):
                assert [h["lotId"] for h in payload["holds"]] == [lot], (role, name, site, payload)
            else:
                assert payload == {"holds": [], "errors": [{"code": "FORBIDDEN", "lotId": lot}]}, (role, name, site)
            release = await caller.query(
                "query($lot: ID!) { lot(id: $lot) { holds(status: ACTIVE) { id } } }", {"lot": lot}
            )
            for hold in release["data"]["lot"]["holds"]:  # back to no hold for the next scope
                await two_sites.query(
                    "mutation($h: ID!, $k: String!) { releaseHold(input: {holdId: $h, idempotencyKey: $k}) "
                    "{ errors { code } } }",
                    {"h": hold["id"], "k": str(uuid.uuid4())},
                )
