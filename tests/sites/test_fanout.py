"""Reads fan out to the sites of their ids in one batched call per site and kind; searches page through every site
(keyset, in site order) and match both plants' tables."""

from __future__ import annotations

from tests.conftest import Gateway, Plant
from tests.sites.fixtures import Sites

SHIPMENTS = """query($ids: [ID!]!) { shipments(ids: $ids, first: 500) { edges { node {
  id site orderId order { id site customer { id site } }
  lines { productId product { site } lots { id site disposition holds { id } stock { status } } }
  } } } }"""

PAGE = """query($after: String) { lots(filter: {kind: FINISHED}, first: 150, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id site } } } }"""


def finished(sites: Sites) -> set[str]:
    lots = set()
    for site in ("a", "b"):
        with sites.db(site, "mes") as db:
            lots |= {
                lot if site == "a" else f"b:{lot}"
                for (lot,) in db.execute("SELECT id FROM lots WHERE kind = 'FINISHED'")
            }
    return lots


async def test_one_batched_call_per_site_and_kind(
    two_sites: Gateway, sites: Sites, site_admins: dict[str, Plant]
) -> None:
    ids = []
    for site in ("a", "b"):
        with sites.db(site, "erp") as db:
            local = [row[0] for row in db.execute("SELECT id FROM shipments ORDER BY id LIMIT 20")]
        ids += [i if site == "a" else f"b:{i}" for i in local]
    for admin in site_admins.values():
        await admin.reset_stats()
    body = await two_sites.query(SHIPMENTS, {"ids": ids})
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["shipments"]["edges"]]
    assert [n["id"] for n in nodes] == ids
    for node in nodes:
        site = "b" if node["id"].startswith("b:") else "a"
        assert {node["site"], node["order"]["site"], node["order"]["customer"]["site"]} == {site}
        assert all(lot["site"] == site for line in node["lines"] for lot in line["lots"])
    for site, admin in site_admins.items():
        stats = await admin.stats()
        assert stats["erp"]["GET /shipments"] == 1, (site, stats)
        assert stats["erp"]["GET /orders"] == 1, (site, stats)
        assert stats["qms"]["GET /lots"] == 1, (site, stats)
        assert stats["wms"]["GET /stock"] == 1, (site, stats)


async def test_a_search_pages_through_every_site(two_sites: Gateway, sites: Sites) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await two_sites.query(PAGE, {"after": after}))["data"]["lots"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == finished(sites)
    assert seen == sorted(seen, key=lambda lot: (lot.startswith("b:"), lot))  # site a first, then b, by id
