"""A lot named globally by its GS1 identity (GTIN + lot number: an EPC class URN or a Digital Link) over two sites:
it resolves to the site whose lot of that number has that GTIN, and is ambiguous when both sites' lots do. The
GTINs are the plants' own (``plant.epcis_events.gtin_of_product``), read from their databases."""

from __future__ import annotations

from plant.epcis_events import gtin_of_product
from sources.gs1 import GS1Lot
from tests.conftest import Gateway
from tests.holds.conftest import PLACE
from tests.sites.fixtures import Sites
from tests.sites.test_holds import active_holds, place, quality

LOT = "query($id: ID!) { lot(id: $id) { id site } }"
TRACE = "query($id: ID!) { lotGenealogy(lotId: $id, direction: FORWARD) { nodes { depth lot { id site } } } }"


def gs1_names(sites: Sites, site: str, lot: str) -> list[str]:
    """The EPC class and the Digital Link of ``lot`` as site ``site``'s MES has it."""
    with sites.db(site, "mes") as db:
        (product,) = db.execute("SELECT product_id FROM lots WHERE id = ?", (lot,)).fetchone()
    gtin = gtin_of_product(product)
    assert gtin is not None
    name = GS1Lot(gtin, lot)
    return [name.epc_class(7), name.digital_link()]


async def test_a_gs1_name_resolves_to_the_site_whose_lot_has_that_gtin(two_sites: Gateway, sites: Sites) -> None:
    only_at_b = sites.summary["demo"]["b"]["lot_forward"]
    received = sites.received[0]  # at a a finished lot, at b a raw lot of another product: two GTINs
    cases = [("b", only_at_b), ("a", received), ("b", received)]
    for site, lot in cases:
        expected = lot if site == "a" else f"b:{lot}"
        for name in gs1_names(sites, site, lot):
            body = await two_sites.query(LOT, {"id": name})
            assert "errors" not in body, body
            assert body["data"]["lot"] == {"id": expected, "site": site}, (name, body)
    epc = gs1_names(sites, "b", only_at_b)[0]
    body = await two_sites.query(TRACE, {"id": epc})
    assert "errors" not in body, body
    root = [n["lot"] for n in body["data"]["lotGenealogy"]["nodes"] if n["depth"] == 0]
    assert root == [{"id": f"b:{only_at_b}", "site": "b"}]


async def test_a_gs1_name_two_sites_claim_is_ambiguous(two_sites: Gateway, sites: Sites) -> None:
    received = sites.received[0]
    with sites.db("a", "mes") as a:
        (product,) = a.execute("SELECT product_id FROM lots WHERE id = ?", (received,)).fetchone()
    with sites.db("b", "mes") as b:  # b records the received lot under a's product: both sites claim its GTIN
        b.execute("UPDATE lots SET product_id = ? WHERE id = ?", (product, received))
    for name in gs1_names(sites, "a", received):
        body = await two_sites.query(LOT, {"id": name})
        assert body["data"] is None or body["data"]["lot"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "AMBIGUOUS_ID", error
        assert "(a, b)" in error["message"]
    plain = await two_sites.query(LOT, {"id": f"b:{received}"})  # by site and id it stays unambiguous
    assert plain["data"]["lot"] == {"id": f"b:{received}", "site": "b"}


async def test_a_hold_by_gs1_name_holds_the_lot_of_the_site_that_claims_it(two_sites: Gateway, sites: Sites) -> None:
    only_at_b = sites.summary["demo"]["b"]["lot_forward"]
    before = active_holds(sites, "b")
    engineer_b = two_sites.as_token(quality("b"))  # scoped to b: the name must resolve to b's lot to be allowed
    body = await engineer_b.query(PLACE, place([gs1_names(sites, "b", only_at_b)[1]]))
    payload = body["data"]["placeHold"]
    assert payload["errors"] == [], payload
    assert [h["lotId"] for h in payload["holds"]] == [f"b:{only_at_b}"]
    assert active_holds(sites, "b") - before == {only_at_b}

    received = sites.received[0]
    with sites.db("a", "mes") as a:
        (product,) = a.execute("SELECT product_id FROM lots WHERE id = ?", (received,)).fetchone()
    with sites.db("b", "mes") as b:
        b.execute("UPDATE lots SET product_id = ? WHERE id = ?", (product, received))
    ambiguous = (await engineer_b.query(PLACE, place([gs1_names(sites, "a", received)[0]])))["data"]["placeHold"]
    assert ambiguous["holds"] == []
    assert [e["code"] for e in ambiguous["errors"]] == ["INVALID_INPUT"]
    assert "several sites (a, b)" in ambiguous["errors"][0]["message"]
