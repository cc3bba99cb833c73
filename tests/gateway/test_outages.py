"""A source that is down, slow or talking garbage costs its own fields, with an error naming it — nothing else."""

from typing import Any

import pytest

from tests.conftest import Gateway, Plant

SHIPMENTS = """{ shipments(first: 10, filter: {status: [PLANNED, IN_PROGRESS]}) { edges { node {
    id status warehouseStage lines { lots { id quantity disposition stock { status } } } } } } }"""


def _lots(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        lot for edge in body["data"]["shipments"]["edges"] for line in edge["node"]["lines"] for lot in line["lots"]
    ]


@pytest.mark.parametrize(
    ("knobs", "code"),
    [
        ({"outage": True}, "SOURCE_UNAVAILABLE"),
        ({"garbage": True}, "SOURCE_PROTOCOL_ERROR"),
        ({"error_rate": 1.0}, "SOURCE_UNAVAILABLE"),
    ],
)
async def test_qms_down_leaves_erp_mes_and_wms_data(
    gateway: Gateway, plant_admin: Plant, knobs: dict[str, Any], code: str
) -> None:
    await plant_admin.faults("qms", **knobs)
    response = await gateway.post(SHIPMENTS)
    assert response.status_code == 200
    body = response.json()
    lots = _lots(body)
    assert lots
    assert all(lot["disposition"] is None for lot in lots)
    assert all(lot["stock"] and lot["quantity"] is not None for lot in lots)
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    assert {e["extensions"]["source"] for e in body["errors"]} == {"qms"}
    assert all("plant.test" not in e["message"] for e in body["errors"])


async def test_mes_down_still_shows_disposition(gateway: Gateway, plant_admin: Plant) -> None:
    await plant_admin.faults("mes", outage=True)
    body = (await gateway.post(SHIPMENTS)).json()
    lots = _lots(body)
    assert lots
    assert all(lot["quantity"] is None and lot["disposition"] for lot in lots)
    assert {e["extensions"]["source"] for e in body["errors"]} == {"mes"}


async def test_erp_down_is_an_error_for_the_root_field(gateway: Gateway, plant_admin: Plant) -> None:
    await plant_admin.faults("erp", outage=True)
    response = await gateway.post('{ order(id: "SO-100001") { id } }')
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"order": None}
    assert body["errors"][0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "erp"}


async def test_a_slow_source_costs_one_timeout(gateway: Gateway, plant_admin: Plant, settings: Any) -> None:
    await plant_admin.faults("wms", latency_ms=int(settings.sources["wms"].timeout * 1000) + 500)
    body = (await gateway.post(SHIPMENTS)).json()
    assert all(edge["node"]["warehouseStage"] is None for edge in body["data"]["shipments"]["edges"])
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SOURCE_UNAVAILABLE"}
    assert {e["message"] for e in body["errors"]} == {"WMS did not answer in time"}
