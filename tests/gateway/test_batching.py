"""N+1 guards: one request per source and entity kind, counted at the plant."""

from typing import Any

from tests.conftest import Gateway, Plant


async def test_fifty_shipments_with_lots_cost_one_request_per_source_and_kind(
    gateway: Gateway, plant_admin: Plant
) -> None:
    await plant_admin.reset_stats()
    body = await gateway.query(
        """{ shipments(first: 50) { edges { node { id warehouseStage customer { name }
             order { status creditBlock }
             lines { product { name } lots { id quantity disposition holds { id } deviations { id }
                     stock { status quantity } } } } } } }"""
    )
    assert "errors" not in body, body
    lots = {
        lot["id"]
        for edge in body["data"]["shipments"]["edges"]
        for line in edge["node"]["lines"]
        for lot in line["lots"]
    }
    assert len(body["data"]["shipments"]["edges"]) == 50
    assert len(lots) > 50
    stats = await plant_admin.stats()
    assert stats["erp"] == {"POST /shipments/search": 1, "GET /customers": 1, "GET /orders": 1, "GET /products": 1}
    assert stats["mes"] == {"GET /lots": 1}
    assert stats["qms"] == {"GET /lots": 1, "GET /holds": 1, "GET /deviations": 1}
    assert stats["wms"] == {"GET /shipments": 1, "GET /stock": 1}


async def test_an_order_walk_costs_one_request_per_kind(
    gateway: Gateway, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    orders = manifest["orders"]["ready"][:1] + [b["id"] for b in manifest["shipments"]["blocked"][:0]]
    await plant_admin.reset_stats()
    body = await gateway.query(
        """query($ids: [ID!]) { orders(ids: $ids) { edges { node { shipments { lines { lots {
             disposition stock { status } } } } } } } }""",
        {"ids": orders},
    )
    assert "errors" not in body, body
    stats = await plant_admin.stats()
    assert stats["erp"] == {"GET /orders": 1, "GET /shipments": 1}
    assert stats["qms"] == {"GET /lots": 1}
    assert stats["wms"] == {"GET /stock": 1}
    assert sum(stats["mes"].values()) <= 1


async def test_reference_data_is_cached_across_requests(gateway: Gateway, plant_admin: Plant) -> None:
    query = "{ shipments(first: 20) { edges { node { customer { name } lines { product { name } } } } } }"
    await gateway.query(query)
    await plant_admin.reset_stats()
    await gateway.query(query)
    stats = await plant_admin.stats()
    assert "GET /products" not in stats["erp"]
    assert "GET /customers" not in stats["erp"]
