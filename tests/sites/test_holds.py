"""A hold across sites: each site's QMS holds its lots and each site's WMS blocks their stock (read in the plants'
own databases); tokens scoped to sites may only hold lots of their sites (FORBIDDEN otherwise, nothing held)."""

from __future__ import annotations

import uuid

from api.auth import mint
from tests.conftest import TEST_SECRET, Gateway
from tests.holds.conftest import PLACE, RELEASE
from tests.sites.fixtures import Sites
from tests.sites.test_genealogy import bfs, both_plants

RECENT = "{ recentEvents(last: 500) { type source site keys { lotIds } } }"


def quality(*sites: str) -> str:
    return mint(TEST_SECRET, "qe", ["quality"], sites=list(sites))


def place(lot_ids: list[str], propagate: str = "NONE") -> dict[str, object]:
    return {"input": {"lotIds": lot_ids, "reasonCode": "SUPPLIER_NOTICE", "idempotencyKey": str(uuid.uuid4()),
                      "propagate": propagate}}  # fmt: skip


def active_holds(sites: Sites, site: str) -> set[str]:
    with sites.db(site, "qms") as db:
        return {row[0] for row in db.execute("SELECT lot_id FROM holds WHERE status = 'ACTIVE'")}


def stock_status(sites: Sites, site: str, lots: set[str]) -> dict[str, set[str]]:
    with sites.db(site, "wms") as db:
        rows = db.execute("SELECT lot_id, status FROM stock").fetchall()
    found: dict[str, set[str]] = {}
    for lot, status in rows:
        if lot in lots:
            found.setdefault(lot, set()).add(status)
    return found


async def test_a_hold_propagates_across_sites_and_blocks_stock_in_both_warehouses(
    two_sites: Gateway, sites: Sites
) -> None:
    received = sites.received[0]
    with sites.db("a", "mes") as mes, sites.db("a", "wms") as wms:
        in_stock = {row[0] for row in wms.execute("SELECT lot_id FROM stock WHERE quantity > 0")}
        inputs = [
            row[0] for row in mes.execute("SELECT input_lot_id FROM genealogy WHERE output_lot_id = ?", (received,))
        ]
    root = next(lot for lot in sorted(inputs) if lot in in_stock)  # made at a, in a's stock, went into what b received
    expected, _ = bfs(both_plants(sites), root, forward=True)
    before = {site: active_holds(sites, site) for site in ("a", "b")}
    body = await two_sites.as_token(quality("a", "b")).query(PLACE, place([root], "FORWARD"))
    assert "errors" not in body, body
    payload = body["data"]["placeHold"]
    assert payload["errors"] == [], payload
    assert payload["complete"]
    held = {h["lotId"] for h in payload["holds"]}
    assert held == expected - set().union(*before.values())  # lots on hold already keep their hold
    at_a = {lot for lot in held if not lot.startswith("b:")}
    at_b = {lot.removeprefix("b:") for lot in held if lot.startswith("b:")}
    assert root in at_a
    assert received in at_a
    assert received in at_b
    assert active_holds(sites, "a") - before["a"] == at_a
    assert active_holds(sites, "b") - before["b"] == at_b
    for site, lots in (("a", at_a), ("b", at_b)):
        statuses = stock_status(sites, site, lots)
        assert statuses, f"no stock of the held lots at {site}"
        assert all(found == {"BLOCKED"} for found in statuses.values()), (site, statuses)
    assert all(h["id"].startswith("b:") == h["lotId"].startswith("b:") for h in payload["holds"])
    # The command's own events say the site of their lot.
    recent = await two_sites.as_token(quality("a", "b")).query(RECENT, {})
    announced = {
        (event["keys"]["lotIds"][0].startswith("b:"), event["site"])
        for event in recent["data"]["recentEvents"]
        if event["source"] == "lotgraph" and event["type"] in ("HoldPlaced", "StockStatusChanged")
    }
    assert announced == {(False, "a"), (True, "b")}, announced


async def test_a_token_scoped_to_a_site_holds_only_that_site_s_lots(two_sites: Gateway, sites: Sites) -> None:
    root = sites.received[0]
    b_lot = f"b:{sites.summary['demo']['b']['lot_forward']}"
    before = {site: active_holds(sites, site) for site in ("a", "b")}
    engineer_b = two_sites.as_token(quality("b"))

    trace = await engineer_b.query("query($l: ID!) { lotGenealogy(lotId: $l) { summary { lots } } }", {"l": root})
    assert "errors" not in trace
    assert trace["data"]["lotGenealogy"]["summary"]["lots"] > 1

    refused = (await engineer_b.query(PLACE, place([root])))["data"]["placeHold"]
    assert [(e["code"], e["lotId"]) for e in refused["errors"]] == [("FORBIDDEN", root)]
    assert refused["holds"] == []

    engineer_a = two_sites.as_token(quality("a"))
    spreading = (await engineer_a.query(PLACE, place([root], "FORWARD")))["data"]["placeHold"]
    assert spreading["holds"] == []
    assert spreading["errors"]
    assert {e["code"] for e in spreading["errors"]} == {"FORBIDDEN"}
    assert all(e["lotId"].startswith("b:") for e in spreading["errors"])
    assert {site: active_holds(sites, site) for site in ("a", "b")} == before  # nothing was held anywhere

    held = (await engineer_b.query(PLACE, place([b_lot])))["data"]["placeHold"]
    assert held["errors"] == []
    assert [h["lotId"] for h in held["holds"]] == [b_lot]
    hold_id = held["holds"][0]["id"]
    release = {"input": {"holdId": hold_id, "idempotencyKey": str(uuid.uuid4())}}
    not_theirs = (await engineer_a.query(RELEASE, release))["data"]["releaseHold"]
    assert [(e["code"], e["holdId"]) for e in not_theirs["errors"]] == [("FORBIDDEN", hold_id)]
    released = (await engineer_b.query(RELEASE, release))["data"]["releaseHold"]
    assert released["errors"] == []
    assert released["hold"]["status"] == "RELEASED"

    unscoped = two_sites.as_token(mint(TEST_SECRET, "qe", ["quality"]))  # no sites claim: every site
    assert (await unscoped.query(PLACE, place([root])))["data"]["placeHold"]["errors"] == []
