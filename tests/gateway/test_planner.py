"""The query planner changes how the answer is fetched, never the answer: the same data, the same errors at the same
paths, with and without it, and no more upstream requests. With it, the fields of a 50-shipment list are read from
the operation's loaders without awaiting any, and the answer is rendered in one walk (``schema.render``): the same
JSON, in the same order, as graphql-core's execution field by field."""

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.adapters import open_sources
from api.settings import SOURCES, Settings
from bench.workloads import SHIPMENT, SHIPMENTS
from resolvers.config import ResolverConfig
from resolvers.context import Context
from resolvers.holds.policy import HoldPolicy
from schema import build_schema
from sources.bundle import Sources
from tests.conftest import Plant

SCHEMA = build_schema()

FRAGMENTS = """
query($ids: [ID!]!, $withStock: Boolean!, $noOrder: Boolean!) {
  shipments(ids: $ids, first: 10) { edges { node { ...Head
    first: lines { lineNo picked: lots { ...Quality stock @include(if: $withStock) { status quantity } } }
    again: lines { lotAssignments { quantity lot { id kind disposition } } product { name } }
    order @skip(if: $noOrder) { id customer { name } lines { product { id } } }
  } } }
}
fragment Head on Shipment { id status customer { id } warehouseStage warehouseStageAt }
fragment Quality on Lot { id quantity disposition dispositionAt expiryDate certificateOfAnalysis { id }
  holds { id status } active: holds(status: ACTIVE) { id } deviations { id severity } }
"""
ORDERS = """query($ids: [ID!]) { orders(ids: $ids) { edges { node { id customer { name }
  shipments { id lines { lots { id disposition stock { status } } } } } } } }"""
LOT = """query($id: ID!) { lot(id: $id) { id kind disposition holds { id lot { id disposition } }
  stock { quantity } inputs { lot { id disposition } } } }"""


@pytest.fixture
def ids(manifest: dict[str, Any]) -> dict[str, Any]:
    shipments = [manifest["shipments"]["ready"][0], *(b["id"] for b in manifest["shipments"]["blocked"][:9])]
    return {"shipments": shipments, "order": manifest["orders"]["ready"][0]}


@dataclass(frozen=True)
class Reads:
    """The services a read-only operation needs: sources and the resolvers' configuration."""

    sources: Sources
    config: ResolverConfig
    holds: HoldPolicy = field(default_factory=HoldPolicy)
    bus: None = None
    store: None = None
    dead_letters: None = None


class Run:
    def __init__(self, plant: Starlette, settings: Settings) -> None:
        self.transport = httpx.ASGITransport(app=plant)
        self.settings = settings

    async def __call__(
        self, query: str, variables: dict[str, Any], *, planner: bool, render: bool = True
    ) -> tuple[Any, Context]:
        """One operation on fresh sources (fresh breakers and caches), as the gateway runs it."""
        sources = open_sources(self.settings, dict.fromkeys(SOURCES, self.transport))
        try:
            ctx = Context(Reads(sources, ResolverConfig(planner=planner, render=render)), "planner-test")
            result = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
        finally:
            await sources.aclose()
        errors = sorted((tuple(map(str, e.path or ())), e.message) for e in result.errors or ())
        return (result.data, errors), ctx


@pytest.fixture
async def run(plant: Starlette, settings: Settings) -> Run:
    return Run(plant, settings)


def _corpus(ids: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    shipments = {"ids": ids["shipments"]}
    return [
        (SHIPMENT, {"id": ids["shipments"][0]}),
        (SHIPMENTS, shipments),
        (FRAGMENTS, {**shipments, "withStock": True, "noOrder": False}),
        (FRAGMENTS, {**shipments, "withStock": False, "noOrder": True}),
        (ORDERS, {"ids": [ids["order"]]}),
    ]


async def _same(run: Run, plant_admin: Plant, query: str, variables: dict[str, Any]) -> Any:
    await plant_admin.reset_stats()
    (without, _) = await run(query, variables, planner=False)
    before = await plant_admin.stats()
    await plant_admin.reset_stats()
    (planned, _) = await run(query, variables, planner=True)
    after = await plant_admin.stats()
    assert planned == without
    assert json.dumps(planned) == json.dumps(without)  # the same keys in the same order
    for system in SOURCES:
        assert sum(after[system].values()) <= sum(before[system].values()), (system, after, before)
    return planned


async def test_answers_are_the_same_with_and_without_the_planner(
    run: Run, plant_admin: Plant, ids: dict[str, Any]
) -> None:
    for query, variables in _corpus(ids):
        await _same(run, plant_admin, query, variables)


async def test_a_lot_and_fields_below_unplanned_ones_answer_the_same(
    run: Run, plant_admin: Plant, manifest: dict[str, Any]
) -> None:
    await _same(run, plant_admin, LOT, {"id": manifest["lots"]["on_hold"][0]})


@pytest.mark.parametrize("system", ["qms", "mes", "wms"])
async def test_an_unavailable_source_gives_the_same_partial_answer(
    run: Run, plant_admin: Plant, ids: dict[str, Any], system: str
) -> None:
    await plant_admin.faults(system, outage=True)
    failed = 0
    for query, variables in _corpus(ids):
        failed += len((await _same(run, plant_admin, query, variables))[1])
    assert failed


async def test_fifty_shipments_are_answered_without_awaiting_a_field(run: Run, plant_admin: Plant) -> None:
    found = (await plant_admin.client.post("/erp/shipments/search", json={"limit": 50})).json()
    variables = {"ids": [s["id"] for s in found["items"]]}
    (answer, ctx) = await run(SHIPMENTS, variables, planner=True)
    assert len(answer[0]["shipments"]["edges"]) == 50
    assert ctx.loaders.fallbacks == 0
    (_, unplanned) = await run(SHIPMENTS, variables, planner=False)
    lots = {lot["id"] for e in answer[0]["shipments"]["edges"] for line in e["node"]["lines"] for lot in line["lots"]}
    assert unplanned.loaders.fallbacks >= len(lots)


RENDERED = """
query($ids: [ID!]!, $withStock: Boolean!, $noOrder: Boolean!, $deviations: DeviationStatus) {
  shipments(ids: $ids, first: 10) { __typename totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { ...Head kind: __typename
      first: lines { lineNo uom picked: lots { ...Quality stock @include(if: $withStock) { status quantity } } }
      again: lines { lotAssignments { quantity lot { id kind disposition } } product { name } }
      order @skip(if: $noOrder) { id status creditBlock customer { name coaRequired } lines { product { id } } }
      ... on Shipment { id shipDate } } } }
}
fragment Head on Shipment { id status customer { id } warehouseStage warehouseStageAt }
fragment Quality on Lot { id quantity producedAt disposition dispositionAt expiryDate certificateOfAnalysis { id }
  holds { id status } active: holds(status: ACTIVE) { id reasonCode } deviations(status: $deviations) { id severity } }
"""


@pytest.mark.parametrize("flags", [(True, False), (False, True)])
async def test_a_planned_answer_is_rendered_in_one_walk_as_graphql_core_executes_it(
    run: Run, plant_admin: Plant, ids: dict[str, Any], flags: tuple[bool, bool]
) -> None:
    variables = {"ids": ids["shipments"], "withStock": flags[0], "noOrder": flags[1], "deviations": "OPEN"}
    for query in (RENDERED, SHIPMENTS, SHIPMENT):
        one = {"id": ids["shipments"][0]} if query is SHIPMENT else variables
        (executed, per_field) = await run(query, one, planner=True, render=False)
        (rendered, walked) = await run(query, one, planner=True)
        assert json.dumps(rendered) == json.dumps(executed)
        assert (walked.loaders.rendered, per_field.loaders.rendered) == (1, 0)
        assert walked.loaders.fallbacks == 0
    assert rendered[0]["shipment"]["lines"][0]["lots"]


async def test_a_field_the_plan_did_not_bring_or_a_failed_source_leaves_the_answer_to_graphql_core(
    run: Run, plant_admin: Plant, ids: dict[str, Any]
) -> None:
    variables = {"ids": ids["shipments"]}
    unplanned = "query($ids: [ID!]!) { shipments(ids: $ids) { edges { node { lines { lots { product { id } } } } } } }"
    (answer, ctx) = await run(unplanned, variables, planner=True)
    assert answer[0]["shipments"]["edges"]
    assert not answer[1]
    assert ctx.loaders.rendered == 0
    await plant_admin.faults("qms", outage=True)
    (answer, ctx) = await run(SHIPMENTS, variables, planner=True)
    assert ctx.loaders.rendered == 0
    assert answer[1]
    assert all(path[-1] == "disposition" for path, _ in answer[1])
