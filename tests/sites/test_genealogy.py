"""Cross-site genealogy: a trace over two plants equals a breadth-first search over both plants' edge tables joined
by the receipt link (a RAW lot at b whose supplier is site a, under a's lot number), read with sqlite3."""

from __future__ import annotations

from collections import deque

from tests.conftest import Gateway
from tests.sites.fixtures import Sites

Edge = tuple[str, str]

TRACE = """query($lot: ID!, $direction: TraceDirection!) {
  lotGenealogy(lotId: $lot, direction: $direction) {
    truncated
    nodes { site lot { id site } }
    edges { from to site fromSite toSite crossSite quantity }
    summary { lots bySite { site lots edges } }
  } }"""


def qualified(site: str, lot: str) -> str:
    return lot if site == "a" else f"{site}:{lot}"


def both_plants(sites: Sites) -> set[Edge]:
    """Every edge of both MES tables, with the receipts joined in: (a's lot, b's lot of the same number)."""
    edges: set[Edge] = set()
    for site in ("a", "b"):
        with sites.db(site, "mes") as db:
            for source, target in db.execute("SELECT input_lot_id, output_lot_id FROM genealogy"):
                edges.add((qualified(site, source), qualified(site, target)))
    with sites.db("b", "mes") as b, sites.db("a", "mes") as a:
        shipped_by_a = {row[0] for row in a.execute("SELECT id FROM lots")}
        for (lot,) in b.execute("SELECT id FROM lots WHERE kind = 'RAW' AND supplier = 'a'"):
            assert lot in shipped_by_a
            edges.add((lot, f"b:{lot}"))
    return edges


def bfs(edges: set[Edge], root: str, forward: bool) -> tuple[set[str], set[Edge]]:
    following: dict[str, list[str]] = {}
    for source, target in edges:
        a, b = (source, target) if forward else (target, source)
        following.setdefault(a, []).append(b)
    seen, queue, walked = {root}, deque([root]), set()
    while queue:
        lot = queue.popleft()
        for other in following.get(lot, []):
            walked.add((lot, other) if forward else (other, lot))
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen, walked


async def test_a_forward_trace_crosses_into_the_receiving_site(two_sites: Gateway, sites: Sites) -> None:
    root = sites.received[0]
    expected_lots, expected_edges = bfs(both_plants(sites), root, forward=True)
    body = await two_sites.query(TRACE, {"lot": root, "direction": "FORWARD"})
    assert "errors" not in body, body
    trace = body["data"]["lotGenealogy"]
    assert not trace["truncated"]
    assert {n["lot"]["id"] for n in trace["nodes"]} == expected_lots
    assert {(e["from"], e["to"]) for e in trace["edges"]} == expected_edges
    assert any(lot.startswith("b:") for lot in expected_lots)  # the trace did cross
    for node in trace["nodes"]:
        assert node["site"] == node["lot"]["site"] == ("b" if node["lot"]["id"].startswith("b:") else "a")
    receipts = [e for e in trace["edges"] if e["crossSite"]]
    assert receipts == [
        {"from": root, "to": f"b:{root}", "site": "b", "fromSite": "a", "toSite": "b", "crossSite": True,
         "quantity": receipts[0]["quantity"]}
    ]  # fmt: skip
    by_site = {s["site"]: s for s in trace["summary"]["bySite"]}
    assert by_site["a"]["lots"] == 1
    assert by_site["b"]["lots"] == len(expected_lots) - 1
    assert by_site["b"]["edges"] == len(expected_edges)  # b recorded its genealogy and the receipt


async def test_a_backward_trace_from_the_receiving_site_reaches_the_shipping_site(
    two_sites: Gateway, sites: Sites
) -> None:
    edges = both_plants(sites)
    received = f"b:{sites.received[0]}"
    consumer = next(target for source, target in sorted(edges) if source == received)
    expected_lots, expected_edges = bfs(edges, consumer, forward=False)
    body = await two_sites.query(TRACE, {"lot": consumer, "direction": "BACKWARD"})
    assert "errors" not in body, body
    trace = body["data"]["lotGenealogy"]
    assert {n["lot"]["id"] for n in trace["nodes"]} == expected_lots
    assert {(e["from"], e["to"]) for e in trace["edges"]} == expected_edges
    assert sites.received[0] in expected_lots
    assert any(not lot.startswith("b:") for lot in expected_lots)
