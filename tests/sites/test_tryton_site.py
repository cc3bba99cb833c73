"""Two sites on different systems: site a a reference plant, site b on Tryton (ERP, MES and WMS; its QMS a contract
QMS beside it), where twelve of a's finished lots were received on a supplier shipment from the party of code ``a``
and made into b's lots (plant/tryton/receipts.py). A trace crosses from a's genealogy into Tryton's and back, equal
to a breadth-first search over a's edge table joined with Tryton's productions by the receipts (read from Tryton
with its own RPC); a hold spreads from a to b, blocking stock in a's WMS and moving b's into Tryton's quarantine."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from api.app import create_app
from api.demo_sites_tryton import RECEIVED
from api.settings import SOURCES, load_settings
from plant.app import create_plant_app
from plant.qms import create_app as create_qms_app
from plant.sites import shipped_finished_lots
from plant.tryton.beside import contract_qms
from plant.tryton.prepare import prepare
from plant.tryton.receipts import Receipt
from plant.tryton.server import ADMIN_PASSWORD, TrytonServer, stop
from sources.http import SourceClient
from sources.tryton.client import TrytonLogin, TrytonRpc
from sources.tryton.mapping import QUARANTINE_CODE
from tests import waits
from tests.conftest import PLANT, TEST_SECRET, Gateway
from tests.events.live import eventually
from tests.holds.conftest import PLACE
from tests.sites.fixtures import Sites
from tests.sites.test_genealogy import TRACE, Edge, bfs
from tests.sites.test_holds import active_holds, place, quality, stock_status
from tests.tryton_server import free_port

TRYTON_SYSTEMS = ("erp", "mes", "wms")


@dataclass
class TrytonSite:
    server: TrytonServer
    manifest: dict[str, Any]

    def rpc(self) -> TrytonRpc:
        client = SourceClient("tests", self.server.url, timeout=30)
        return TrytonRpc(client, TrytonLogin(self.server.database, "admin", ADMIN_PASSWORD))


@pytest.fixture(scope="session")
def tryton_b(sites_source: Sites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonSite]:
    """Site b's Tryton: a small data set that received twelve lots site a shipped, as ``lotgraph demo --sites 2
    --tryton --tryton-lots 40`` builds it (seed 7 + 1): both use the one data set cached per machine."""
    received = tuple(shipped_finished_lots(sites_source.dir("a"))[:RECEIVED])
    server = TrytonServer(tmp_path_factory.mktemp("tryton-b"), port=free_port())
    manifest = prepare(server, seed=8, lots=40, receipt=Receipt("a", received))
    process = server.start()
    yield TrytonSite(server, manifest)
    stop(process)


@pytest.fixture
async def gateway(sites: Sites, tryton_b: TrytonSite, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway over site a (its own, the reference plant) and site b (Tryton and a contract QMS)."""
    plant_a = create_plant_app(sites.dir("a"))
    qms_b = create_qms_app(contract_qms(tmp_path / "qms-b", tryton_b.manifest["lot_products"]))
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{PLANT}/{name}" for name in SOURCES}
    env |= {"LOTGRAPH_SITE": "a", "LOTGRAPH_SITES": "b", "LOTGRAPH_SITE_B_QMS_URL": "http://site-b.test/qms",
            "LOTGRAPH_AUTH_HS256_SECRET": TEST_SECRET, "LOTGRAPH_LIMITS_RATE": "0",
            "LOTGRAPH_DATA_DIR": str(tmp_path / "gateway")}  # fmt: skip
    env["LOTGRAPH_SITE_B_ERP_TRYTON_POLL_SECONDS"] = "0.5"  # the change poller of b's Tryton (one feed, ERP's)
    for name in TRYTON_SYSTEMS:
        prefix = f"LOTGRAPH_SITE_B_{name.upper()}_"
        env |= {prefix + "URL": tryton_b.server.url, prefix + "KIND": "tryton", prefix + "TIMEOUT": "30"}
        env |= {prefix + "TRYTON_DATABASE": tryton_b.server.database, prefix + "TRYTON_PASSWORD": ADMIN_PASSWORD}
    transports: dict[str, httpx.AsyncBaseTransport] = {name: httpx.ASGITransport(app=plant_a) for name in SOURCES}
    transports["b.qms"] = httpx.ASGITransport(app=Starlette(routes=[Mount("/qms", app=qms_b)]))
    app = create_app(load_settings(env), transports=transports)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test", timeout=120)
    async with (
        plant_a.router.lifespan_context(plant_a),
        qms_b.router.lifespan_context(qms_b),
        app.router.lifespan_context(app),
        client,
    ):
        yield Gateway(client)


async def tryton_edges(rpc: TrytonRpc) -> tuple[set[Edge], set[str]]:
    """Tryton's genealogy (done productions: each done input lot to each done output lot) with the receipts from
    the supplier of code ``a`` (each received lot linked from a's lot of its number), as b's qualified ids; and the
    lots received."""
    edges: set[Edge] = set()
    fields = ["inputs.lot.number", "inputs.state", "outputs.lot.number", "outputs.state"]
    for production in await rpc.search_read("production", [("state", "=", "done")], fields):
        inputs = [m["lot."]["number"] for m in production["inputs."] if m["state"] == "done" and m["lot."]]
        outputs = [m["lot."]["number"] for m in production["outputs."] if m["state"] == "done" and m["lot."]]
        edges |= {(f"b:{i}", f"b:{o}") for i in inputs for o in outputs}
    domain = [("state", "=", "done"), ("supplier.code", "=", "a")]
    received = {
        m["lot."]["number"]
        for shipment in await rpc.search_read("stock.shipment.in", domain, ["incoming_moves.lot.number"])
        for m in shipment["incoming_moves."]
    }
    return edges | {(lot, f"b:{lot}") for lot in received}, received


async def both_sites(sites: Sites, tryton_b: TrytonSite) -> tuple[set[Edge], set[str]]:
    with sites.db("a", "mes") as db:
        edges = {(i, o) for i, o in db.execute("SELECT input_lot_id, output_lot_id FROM genealogy")}
    rpc = tryton_b.rpc()
    try:
        at_b, received = await tryton_edges(rpc)
    finally:
        await rpc.aclose()
    return edges | at_b, received


def check(trace: dict[str, Any], lots: set[str], edges: set[Edge]) -> None:
    assert not trace["truncated"]
    assert {n["lot"]["id"] for n in trace["nodes"]} == lots
    assert {(e["from"], e["to"]) for e in trace["edges"]} == edges
    for node in trace["nodes"]:
        assert node["site"] == node["lot"]["site"] == ("b" if node["lot"]["id"].startswith("b:") else "a")


async def test_a_trace_crosses_from_the_reference_plant_into_tryton_and_back(
    gateway: Gateway, sites: Sites, tryton_b: TrytonSite
) -> None:
    edges, received = await both_sites(sites, tryton_b)
    root = min(received)
    assert received == set(tryton_b.manifest["received"]["lots"])
    lots, walked = bfs(edges, root, forward=True)
    assert f"b:{tryton_b.manifest['received']['made'][-1]}" in lots  # the trace reaches b's finished lot
    body = await gateway.query(TRACE, {"lot": root, "direction": "FORWARD"})
    assert "errors" not in body, body
    forward = body["data"]["lotGenealogy"]
    check(forward, lots, walked)
    receipts = [e for e in forward["edges"] if e["crossSite"]]
    assert [(e["from"], e["to"], e["site"], e["quantity"]) for e in receipts] == [(root, f"b:{root}", "b", 50.0)]

    finished = f"b:{tryton_b.manifest['received']['made'][-1]}"
    lots, walked = bfs(edges, finished, forward=False)
    assert received <= lots  # back through the receipts into a's genealogy
    body = await gateway.query(TRACE, {"lot": finished, "direction": "BACKWARD"})
    assert "errors" not in body, body
    check(body["data"]["lotGenealogy"], lots, walked)


async def tryton_stock(tryton_b: TrytonSite, numbers: set[str]) -> dict[str, dict[str, float]]:
    """Each lot's quantity in b's storage zone (what is still available) and in its quarantine, read from Tryton."""
    rpc = tryton_b.rpc()
    try:
        found = await rpc.search_read("stock.location", [("code", "in", ["STO", QUARANTINE_CODE])], ["code"])
        places = {row["code"]: row["id"] for row in found}
        lots = await rpc.search_read("stock.lot", [("number", "in", sorted(numbers))], ["number"])
        stock: dict[str, dict[str, float]] = {row["number"]: {} for row in lots}
        for code, location in places.items():
            context = {"locations": [location], "with_childs": True, "stock_assign": True}
            for row in await rpc.read("stock.lot", [lot["id"] for lot in lots], ["number", "quantity"], context):
                stock[row["number"]][code] = row["quantity"]
        return stock
    finally:
        await rpc.aclose()


async def test_a_hold_at_a_blocks_a_s_stock_and_quarantines_b_s_in_tryton(
    gateway: Gateway, sites: Sites, tryton_b: TrytonSite, tmp_path: Path
) -> None:
    edges, received = await both_sites(sites, tryton_b)
    shipped = min(received)
    with sites.db("a", "wms") as wms:
        in_stock = {row[0] for row in wms.execute("SELECT lot_id FROM stock WHERE quantity > 0")}
    root = next(i for i, o in sorted(edges) if o == shipped and i in in_stock)  # a's lot that went into it
    expected, _ = bfs(edges, root, forward=True)
    before = active_holds(sites, "a")
    body = await gateway.as_token(quality("a", "b")).query(PLACE, place([root], "FORWARD"))
    assert "errors" not in body, body
    payload = body["data"]["placeHold"]
    assert payload["errors"] == [], payload
    assert payload["complete"]
    held = {h["lotId"] for h in payload["holds"]}
    assert held == expected - before
    at_a = {lot for lot in held if not lot.startswith("b:")}
    at_b = {lot.removeprefix("b:") for lot in held if lot.startswith("b:")}
    assert {root, shipped} <= at_a
    assert {shipped, tryton_b.manifest["received"]["made"][-1]} <= at_b  # the received lot and b's finished lot
    assert active_holds(sites, "a") - before == at_a
    with contextlib.closing(sqlite3.connect(tmp_path / "qms-b" / "qms.db")) as qms:
        assert {row[0] for row in qms.execute("SELECT lot_id FROM holds WHERE status = 'ACTIVE'")} == at_b
    statuses = stock_status(sites, "a", at_a)
    assert statuses
    assert all(found == {"BLOCKED"} for found in statuses.values()), statuses
    stock = await tryton_stock(tryton_b, at_b)
    assert set(stock) == at_b
    for lot, quantities in stock.items():  # every lot's available stock moved into quarantine, none left
        assert quantities["STO"] == 0, (lot, quantities)
        assert quantities[QUARANTINE_CODE] > 0, (lot, quantities)


RECENT = """{ recentEvents(last: 50) { type source site keys { shipmentIds } payload } }"""


async def test_a_change_made_in_b_s_tryton_becomes_an_event_of_site_b(
    gateway: Gateway, tryton_b: TrytonSite, tmp_path: Path
) -> None:
    """b's Tryton sends no webhooks: b's own poller (its own watermark, beside a's none) reads the change."""
    memory = tmp_path / "gateway" / "tryton-poll.db"

    def baseline_taken() -> bool:
        if not memory.exists():
            return False
        with contextlib.closing(sqlite3.connect(memory)) as db:
            return db.execute("SELECT 1 FROM memory WHERE key = 'b/tryton:baseline'").fetchone() is not None

    await eventually(baseline_taken, "b's first poll")
    shipment = tryton_b.manifest["shipments"]["assigned"][-1]
    rpc = tryton_b.rpc()
    try:
        (found,) = await rpc.search_read("stock.shipment.out", [("number", "=", shipment)], ["id"])
        await rpc.write_call("stock.shipment.out", "pick", [found["id"]])
    finally:
        await rpc.aclose()

    def picked(body: dict[str, Any]) -> list[dict[str, Any]]:
        events = body["data"]["recentEvents"]
        return [e for e in events if e["type"] == "AllocationChanged" and e["payload"]["stage"] == "PICKED"]

    async def raised() -> list[dict[str, Any]] | None:
        return picked(await gateway.query(RECENT)) or None

    (event,) = await waits.eventually(raised, "an event of the pick at b", 20, every=0.1)
    assert event["site"] == "b"
    assert event["source"] == "wms"
    assert event["keys"]["shipmentIds"] == [f"b:{shipment}"]
    with contextlib.closing(sqlite3.connect(memory)) as db:
        watermarks = {row[0] for row in db.execute("SELECT key FROM memory WHERE key LIKE '%watermark'")}
    assert watermarks == {"b/tryton:watermark"}  # site a sends webhooks: no poller of its own
