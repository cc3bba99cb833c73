"""The plant's EPCIS 2.0 query interface (``GET /mes/epcis/events``) and the adapter's paging through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import PLANT, Plant
from tests.epcis.conftest import GDST, graphql_over, load_plant, plant_app
from tests.epcis.test_gdst_traces import FF, FM, TRACE, C, P


@pytest.fixture
async def gdst(tmp_path: Path) -> AsyncIterator[Starlette]:
    async with plant_app(load_plant(tmp_path, GDST)) as app:
        yield app


async def events(plant: Starlette, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plant), base_url=PLANT) as client:
        return await client.get("/mes/epcis/events", params=params)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["type"] == "EPCISQueryDocument"
    return [e["eventID"] for e in document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


async def test_filters_combine(gdst: Starlette) -> None:
    made_from_ff = await events(gdst, MATCH_inputEPCClass=FF)
    assert len(ids(made_from_ff)) == 1
    made_c = made_from_ff.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    assert [q["epcClass"] for q in made_c["outputQuantityList"]] == [C]
    assert {q["epcClass"] for q in made_c["inputQuantityList"]} == {FF, FM}
    everything = ids(await events(gdst, MATCH_anyEPCClass=FM))
    assert len(everything) == 5  # caught (ADD), transshipped, landed, received, commingled
    shipping = ids(await events(gdst, MATCH_anyEPCClass=FM, EQ_bizStep="urn:epcglobal:cbv:bizstep:receiving"))
    assert shipping == ["urn:uuid:910fa13a-77ac-45e8-a37a-66543cf539d6U"]
    early = ids(await events(gdst, MATCH_anyEPCClass=FM, LT_eventTime="2022-01-22T11:00:00Z"))
    late = ids(await events(gdst, MATCH_anyEPCClass=FM, GE_eventTime="2022-01-22T11:00:00Z"))
    assert sorted(early + late) == sorted(everything)
    assert ids(await events(gdst, eventType="TransformationEvent", MATCH_outputEPCClass=P)) != []


async def test_pages_follow_the_link_header(gdst: Starlette) -> None:
    first = await events(gdst, perPage="2")
    assert len(ids(first)) == 2
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    assert "nextPageToken=2" in link


@pytest.mark.parametrize(
    "params", [{"MATCH_nothing": "x"}, {"perPage": "0"}, {"nextPageToken": "abc"}, {"GE_eventTime": "soon"}]
)
async def test_bad_parameters_are_refused(gdst: Starlette, params: dict[str, str]) -> None:
    response = await events(gdst, **params)
    assert response.status_code == 400


async def test_the_adapter_pages_to_the_end(gdst: Starlette) -> None:
    admin = Plant(httpx.AsyncClient(transport=httpx.ASGITransport(app=gdst), base_url=PLANT))
    async with graphql_over(gdst, mes_kind="epcis") as run:
        whole = await run(TRACE, {"lot": P, "direction": "BACKWARD"})
    await admin.reset_stats()
    async with graphql_over(gdst, mes_kind="epcis", per_page=1) as run:
        paged = await run(TRACE, {"lot": P, "direction": "BACKWARD"})
    assert paged == whole
    requests = (await admin.stats())["mes"]
    assert sum(n for route, n in requests.items() if "epcis" in route) > 10
    await admin.client.aclose()
