"""Gateway replicas sharing one PostgreSQL: a replica killed in the middle of a hold leaves the others to finish
its work, each command sent upstream once; and PostgreSQL restarted under traffic: commands refuse with
SOURCE_UNAVAILABLE (store) while it is down, and afterwards every request has its one hold, none twice.

The kill is placed by the test-only fault hook (``LOTGRAPH_TEST_CRASH_AT``, see ``resolvers.holds.crashpoints``):
between two WMS blocks of one placeHold, with the commands run one at a time, so "mid-hold" is exact, not timed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import launch
from bench.launch import Launched
from tests import postgres
from tests.holds.conftest import PLACE, new_key
from tests.holds.test_crashes import CRASHY, Rig
from tests.holds.test_operator import HISTORY
from tests.holds.test_processes import replicas_on
from tests.waits import eventually


@pytest.fixture
async def rig(tmp_path: Path, plant_data: tuple[Path, dict[str, Any]]) -> AsyncIterator[Rig]:
    async with launch.running(launch.plant, plant_data[0]) as plant, httpx.AsyncClient(timeout=30) as client:
        rig = Rig(plant, client, tmp_path)
        async with rig.state.client:
            yield rig


@contextlib.asynccontextmanager
async def replicas(rig: Rig, count: int, **env: str) -> AsyncIterator[list[Launched]]:
    gateways = await replicas_on(rig.plant.url, rig.tmp_path, count, **{**CRASHY, **env})
    try:
        yield gateways
    finally:
        await asyncio.gather(*(gateway.astop() for gateway in gateways))


async def test_a_replica_killed_mid_hold_leaves_the_others_to_finish_it(rig: Rig, postgres_url: str) -> None:
    shared = {"LOTGRAPH_STORE": "postgres", "LOTGRAPH_POSTGRES_URL": postgres_url}
    lots = await rig.fresh_lots(4, start=1500)
    request = {"input": {"lotIds": lots, "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
    async with replicas(rig, 2, **shared) as others:
        await rig.reset()
        await rig.crash(rig.tmp_path / "gateway-killed", "place:wms@2", PLACE, request, **shared)
        settled = await eventually(functools.partial(rig.agreed, others[0], lots, "OUT_OF_SPEC"), "the others finish")
        assert settled["failed"] == set()
        # The two survivors shared the dead replica's saga and actions: one hold and one block per lot in all.
        assert await rig.commands() == {"POST /holds": 4, "POST /stock/block": 4}
        for gateway in others:
            replay = (await rig.data(gateway, PLACE, request))["placeHold"]
            assert replay["replayed"] is True
            assert {lot["id"] for lot in replay["lots"]} == set(lots)
        assert await rig.commands() == {"POST /holds": 4, "POST /stock/block": 4}


class Traffic:
    """Clients placing holds, each on a lot of its own under a key of its own, until stopped; every answer kept."""

    def __init__(self, rig: Rig, gateways: list[Launched], lots: list[str]) -> None:
        self.rig, self.gateways, self.lots = rig, gateways, iter(lots)
        self.requests: dict[str, dict[str, Any]] = {}  # lot -> its request
        self.answers: list[tuple[str, str]] = []  # (lot, "ok" or the error code)
        self.stopped = asyncio.Event()
        self.resumed = asyncio.Event()
        """Clients wait for it after a few refusals each, so an outage does not use up the lots."""

    async def client(self, gateway: Launched) -> None:
        for lot in self.lots:
            if self.stopped.is_set():
                return
            self.requests[lot] = {"input": {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
            self.answers.append((lot, await self.place(gateway, lot)))
            if (self.count("SOURCE_UNAVAILABLE") or 0) >= 6:
                await self.resumed.wait()

    async def place(self, gateway: Launched, lot: str) -> str:
        response = await self.rig.client.post(
            f"{gateway.url}/graphql", json={"query": PLACE, "variables": self.requests[lot]}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if body.get("errors"):
            (error,) = body["errors"]
            assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "store"}, error
            return "SOURCE_UNAVAILABLE"
        payload = body["data"]["placeHold"]
        return "ok" if payload["complete"] else ",".join(e["code"] for e in payload["errors"]) or "pending"

    async def repeated(self, gateway: Launched, lot: str) -> bool | None:
        """True once the request of ``lot``, repeated, is taken (IN_PROGRESS until the lease of a run that died
        with the store runs out); its answer may say that an action is still pending."""
        return None if await self.place(gateway, lot) in ("SOURCE_UNAVAILABLE", "IN_PROGRESS") else True

    async def held_once(self) -> bool | None:
        """True when every lot asked for has one active hold and its stock blocked."""
        for lot in self.requests:
            if len(await self.rig.state.holds(lot, "ACTIVE")) != 1 or await self.rig.state.stock_statuses(lot) != {
                "BLOCKED"
            }:
                return None
        return True

    def count(self, outcome: str, since: int = 0) -> int | None:
        found = sum(1 for _, answer in self.answers[since:] if answer == outcome)
        return found or None


async def test_postgres_restarted_under_traffic_refuses_cleanly_and_loses_nothing(rig: Rig) -> None:
    server = await asyncio.to_thread(postgres.OwnServer)
    try:
        await asyncio.to_thread(server.start)
        lots = await rig.fresh_lots(30, start=1600)
        holds_before = await rig.state.hold_count()
        async with replicas(rig, 2, LOTGRAPH_STORE="postgres", LOTGRAPH_POSTGRES_URL=server.url) as gateways:
            traffic = Traffic(rig, gateways, lots)
            clients = asyncio.gather(*(traffic.client(gateway) for gateway in gateways))
            await eventually(lambda: _now(traffic.count("ok")), "holds placed before the outage")
            down = len(traffic.answers)
            await asyncio.to_thread(server.stop)
            await eventually(lambda: _now(traffic.count("SOURCE_UNAVAILABLE", down)), "refusals while down")
            await asyncio.to_thread(server.start)
            up = len(traffic.answers)
            traffic.resumed.set()
            await eventually(lambda: _now((traffic.count("ok", up) or 0) >= 2 or None), "holds placed after restart")
            traffic.stopped.set()
            await clients

            # Every request not answered whole is repeated with its key until it is taken: none is lost ...
            for lot, answer in list(traffic.answers):
                if answer != "ok":
                    await eventually(functools.partial(traffic.repeated, gateways[0], lot), f"{lot} repeated")
            await eventually(traffic.held_once, "every lot held and blocked")
            # ... and none is doubled: one hold per request.
            assert await rig.state.hold_count() == holds_before + len(traffic.requests)
            # The audit trail has each hold once, however the outage cut its command (recovery may record it last).
            placed = await eventually(functools.partial(_holds_recorded, rig, gateways[1], traffic), "the history")
            assert set(placed.values()) == {1}, placed
            assert {"SOURCE_UNAVAILABLE", "ok"} <= {answer for _, answer in traffic.answers}
    finally:
        await asyncio.to_thread(server.remove)


async def _holds_recorded(rig: Rig, gateway: Launched, traffic: Traffic) -> dict[str, int] | None:
    """How often the history of each lot says HOLD_PLACED, once it says it for each."""
    found: dict[str, int] = {}
    for lot in traffic.requests:
        history = (await rig.data(gateway, HISTORY, {"lotId": lot, "first": 50}))["holdHistory"]["edges"]
        found[lot] = [entry["node"]["kind"] for entry in history].count("HOLD_PLACED")
    return found if all(found.values()) else None


async def _now(value: Any) -> Any:
    return value
