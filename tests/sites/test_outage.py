"""Site b down: site a's answers stay whole (the same as with b up), b's are null or UNKNOWN with errors naming the
site and the system, also when a's and b's records are asked in one batch."""

from __future__ import annotations

from tests.conftest import Gateway, Plant
from tests.sites.fixtures import Sites
from tests.sites.test_genealogy import bfs, both_plants

SHIPMENTS = """query($a: ID!, $b: ID!) {
  a: shipment(id: $a) { id site readiness { status } lines { lots { id site disposition } } }
  b: shipment(id: $b) { id site readiness { status } }
  ra: shipmentReadiness(shipmentId: $a) { status }
  rb: shipmentReadiness(shipmentId: $b) { status blockers { code source } }
}"""


async def down(admin: Plant) -> None:
    for system in ("erp", "qms", "mes", "wms"):
        await admin.faults(system, outage=True)


async def test_site_b_down_leaves_site_a_whole(two_sites: Gateway, sites: Sites, site_admins: dict[str, Plant]) -> None:
    ids = {"a": sites.summary["demo"]["a"]["shipment_ready"], "b": "b:" + sites.summary["demo"]["b"]["shipment_ready"]}
    up = await two_sites.query(SHIPMENTS, ids)
    assert "errors" not in up, up
    assert up["data"]["b"]["site"] == "b"
    assert up["data"]["rb"]["status"] == "READY"

    await down(site_admins["b"])
    await site_admins["a"].reset_stats()
    body = await two_sites.query(SHIPMENTS, ids)
    assert body["data"]["a"] == up["data"]["a"]
    assert body["data"]["ra"] == up["data"]["ra"] == {"status": "READY"}
    assert body["data"]["b"] is None
    assert body["data"]["rb"]["status"] == "UNKNOWN"
    assert {"code": "SOURCE_UNAVAILABLE", "source": "erp"} in body["data"]["rb"]["blockers"]
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert errors == {("b",): {"code": "SOURCE_UNAVAILABLE", "source": "erp", "site": "b"}}
    assert all("site b" in e["message"] for e in body["errors"])
    assert (await site_admins["a"].stats())["erp"]["GET /shipments"] == 1  # a and b asked in one batch per site
    health = (await two_sites.query("{ sourceHealth { site source recentFailures } }"))["data"]["sourceHealth"]
    failing = {(h["site"], h["source"]) for h in health if h["recentFailures"]}
    assert {(h["site"], h["source"]) for h in health} == {(s, x) for s in "ab" for x in ("erp", "qms", "mes", "wms")}
    assert ("b", "erp") in failing
    assert not any(site == "a" for site, _ in failing)


async def test_searches_name_the_site_that_cannot_answer(two_sites: Gateway, site_admins: dict[str, Plant]) -> None:
    query = "query($site: String) { lots(filter: {kind: FINISHED, site: $site}, first: 5) { totalCount } }"
    both = await two_sites.query(query, {"site": None})
    only_a = await two_sites.query(query, {"site": "a"})
    await down(site_admins["b"])
    failed = await two_sites.query(query, {"site": None})
    assert [e["extensions"] for e in failed["errors"]] == [{"code": "SOURCE_UNAVAILABLE", "source": "mes", "site": "b"}]
    assert await two_sites.query(query, {"site": "a"}) == only_a
    assert both["data"]["lots"]["totalCount"] > only_a["data"]["lots"]["totalCount"] > 0
    unknown = await two_sites.query(query, {"site": "z"})
    assert [e["extensions"]["code"] for e in unknown["errors"]] == ["UNKNOWN_SITE"]


async def test_site_b_down_costs_a_trace_only_if_it_reaches_a_shipped_lot(
    two_sites: Gateway, sites: Sites, site_admins: dict[str, Plant]
) -> None:
    with sites.db("a", "erp") as erp:
        shipped = {row[0] for row in erp.execute("SELECT lot_id FROM shipment_lots")}
    edges = both_plants(sites)
    at_a = sorted({source for source, _ in edges if not source.startswith("b:")}, reverse=True)  # late lots first
    reach: dict[str, set[str]] = {}
    for lot in at_a:
        reach[lot] = bfs(edges, lot, forward=True)[0]
        if len(reach[lot]) > 1 and not reach[lot] & shipped:
            unshipped = lot
            break
    query = "query($l: ID!) { lotGenealogy(lotId: $l, direction: FORWARD) { summary { lots } } }"
    whole = await two_sites.query(query, {"l": unshipped})
    await down(site_admins["b"])
    assert await two_sites.query(query, {"l": unshipped}) == whole  # b was not needed: not asked
    assert whole["data"]["lotGenealogy"]["summary"]["lots"] == len(reach[unshipped])
    failed = await two_sites.query(query, {"l": sites.received[0]})  # it went to b: the trace needs b's answer
    assert failed["data"] is None
    assert [e["extensions"] for e in failed["errors"]] == [{"code": "SOURCE_UNAVAILABLE", "source": "mes", "site": "b"}]
