"""One lot, three spellings: the plant's id, the EPC class URN and the GS1 Digital Link (any resolver host)."""

from __future__ import annotations

import pytest

from sources import gs1
from tests.conftest import FreshPlant, Gateway

# the plant's products have GTINs under GS1's example company prefix 4012345: P0001 -> 0 4012345 00001 6
LOT = "LOT-000100"


def test_urn_and_digital_link_spell_the_same_gtin_and_lot() -> None:
    urn = gs1.gs1_lot("urn:epc:class:lgtin:4012345.012345.998877")
    link = gs1.gs1_lot("https://example.com/resolver/01/04012345123456/10/998877?linkType=all")
    assert urn == link == gs1.GS1Lot("04012345123456", "998877")
    assert urn is not None
    assert urn.epc_class(7) == "urn:epc:class:lgtin:4012345.012345.998877"
    assert urn.digital_link() == "https://id.gs1.org/01/04012345123456/10/998877"
    assert gs1.lot_id_of(" LOT-1 ") == "LOT-1"
    assert gs1.lot_id_of("https://id.gs1.org/01/04012345123456/10/LOT%2F7") == "LOT/7"


@pytest.mark.parametrize(
    "name",
    [
        "https://id.gs1.org/01/04012345123457/10/998877",  # wrong check digit
        "https://id.gs1.org/01/0401234512345/10/998877",  # 13 digits is a GTIN-13 … with a wrong check digit
        "urn:epc:class:lgtin:4012345.012345",  # no lot
        "https://id.gs1.org/01/04012345123456/10/" + "x" * 21,  # a lot number has at most 20 characters
    ],
)
def test_malformed_gs1_spellings_are_refused(name: str) -> None:
    with pytest.raises(gs1.IdentifierError):
        gs1.gs1_lot(name)


LOT_FIELDS = "{ id gtin epcClass digitalLink quantity }"


async def test_every_lot_argument_accepts_all_three_spellings(gateway: Gateway) -> None:
    plain = await gateway.query(f'{{ lot(id: "{LOT}") {LOT_FIELDS} }}')
    lot = plain["data"]["lot"]
    assert lot["gtin"].startswith("04012345")
    assert lot["epcClass"].startswith("urn:epc:class:lgtin:4012345.")
    assert lot["epcClass"].endswith(f".{LOT}")
    assert lot["digitalLink"] == f"https://id.gs1.org/01/{lot['gtin']}/10/{LOT}"
    other_host = lot["digitalLink"].replace("https://id.gs1.org", "https://resolver.example.com/gs1")
    for name in (lot["epcClass"], lot["digitalLink"], other_host):
        assert (await gateway.query(f'{{ lot(id: "{name}") {LOT_FIELDS} }}'))["data"]["lot"] == lot
        listed = await gateway.query(f'{{ lots(ids: ["{name}"]) {{ edges {{ node {{ id }} }} }} }}')
        assert listed["data"]["lots"]["edges"] == [{"node": {"id": LOT}}]
    query = "query($lot: ID!) { lotGenealogy(lotId: $lot, direction: BOTH) { root { id } summary { lots edges } } }"
    traces = [(await gateway.query(query, {"lot": name}))["data"]["lotGenealogy"] for name in (LOT, lot["digitalLink"])]
    assert traces[0] == traces[1]
    assert traces[0]["root"]["id"] == LOT


async def test_a_malformed_spelling_is_an_input_error(gateway: Gateway) -> None:
    body = await gateway.query('{ lot(id: "https://id.gs1.org/01/04012345000010/10/LOT-000100") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "check digit" in body["errors"][0]["message"]


async def test_holds_take_gs1_spellings_too(fresh_plant: FreshPlant) -> None:
    gateway = fresh_plant.gateway
    lot = (await gateway.query(f'{{ lot(id: "{LOT}") {{ digitalLink epcClass }} }}'))["data"]["lot"]
    placed = await gateway.query(
        """mutation($lot: ID!) { placeHold(input: {lotIds: [$lot], reasonCode: SUSPECTED_CONTAMINATION, comment: "gs1",
             propagate: NONE, idempotencyKey: "gs1-spelling-1"}) { holds { lotId } errors { code } } }""",
        {"lot": lot["digitalLink"]},
    )
    assert placed["data"]["placeHold"] == {"holds": [{"lotId": LOT}], "errors": []}
    listed = await gateway.query(
        "query($lot: ID) { holds(lotId: $lot, status: ACTIVE) { edges { node { lotId } } } }", {"lot": lot["epcClass"]}
    )
    assert listed["data"]["holds"]["edges"] == [{"node": {"lotId": LOT}}]


@pytest.mark.parametrize(
    ("gtin", "lot", "length"),
    [
        ("04012345000016", "LOT-000001", 7),
        ("10614141777775", "a.b_c", 6),
        ("04012345123456", "998877", 12),
        ("04012345123456", "A/B%1", 7),
    ],
)
def test_urns_spelt_here_are_epcpys(gtin: str, lot: str, length: int) -> None:
    from epcpy.epc_schemes.lgtin import LGTIN

    urn = gs1.GS1Lot(gtin, lot).epc_class(length)
    assert urn == LGTIN.from_gs1_element_string(f"(01){gtin}(10){lot}", length).epc_uri
    assert gs1.gs1_lot(urn) == gs1.GS1Lot(gtin, lot)
