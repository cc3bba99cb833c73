"""A gateway killed (SIGKILL) at every step boundary of placeHold, releaseHold and a propagated hold — before,
between and after the QMS and WMS commands — and restarted: with no client repeating the request, the restarted
gateway's recovery makes the QMS and the WMS agree (every lot held in the QMS has its stock blocked, or a FAILED
action says why not), and the plant's request counters show that no command was sent twice.

The kill is placed by the gateway's test-only fault hook (``LOTGRAPH_TEST_CRASH_AT``, see
``resolvers.holds.crashpoints``), not by timing; the hold commands run one upstream command at a time
(concurrency 1), so "after the second QMS hold" is exact. A short lease lets recovery take over quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import launch
from bench.launch import Launched
from tests.holds.conftest import PENDING, PLACE, RELEASE, PlantState, gateway_process, new_key
from tests.holds.test_operator import HISTORY
from tests.holds.test_propagation import reference_closure
from tests.waits import eventually

CRASHY = {"LOTGRAPH_HOLDS_LEASE_SECONDS": "2", "LOTGRAPH_HOLDS_CONCURRENCY": "1"}
# Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under a request.
LIMITS = httpx.Limits(keepalive_expiry=2)
COMMANDS = ("POST /holds", "POST /holds/{id}/release", "POST /stock/block", "POST /stock/unblock")


class Rig:
    """One plant process shared by the cases of a test, a gateway directory per case, and the plant's counters."""

    def __init__(self, plant: Launched, client: httpx.AsyncClient, tmp_path: Path) -> None:
        self.plant = plant
        self.client = client
        self.state = PlantState(httpx.AsyncClient(base_url=plant.url, timeout=10, limits=LIMITS))
        self.tmp_path = tmp_path

    async def commands(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for system in ("qms", "wms"):
            stats = (await self.client.get(f"{self.plant.url}/{system}/admin/stats")).json()["requests"]
            counts |= {name: stats.get(name, 0) for name in COMMANDS if name in stats}
        return counts

    async def reset(self) -> None:
        for system in ("qms", "wms"):
            await self.client.post(f"{self.plant.url}/{system}/admin/stats/reset")

    async def crash(self, data_dir: Path, point: str, query: str, variables: dict[str, Any], **env: str) -> None:
        """Run the request on a gateway (with the settings ``env``) that dies at ``point``; wait until it is dead."""
        gateway = await self.gateway(data_dir, LOTGRAPH_TEST_CRASH_AT=point, **env)
        try:
            with contextlib.suppress(httpx.HTTPError):
                response = await self.client.post(
                    f"{gateway.url}/graphql", json={"query": query, "variables": variables}
                )
                raise AssertionError(f"the gateway answered instead of dying at {point}: {response.text}")
            assert await asyncio.to_thread(gateway.popen.wait, 30) == -signal.SIGKILL
        finally:
            await gateway.astop(signal.SIGKILL)

    async def gateway(self, data_dir: Path, **env: str) -> Launched:
        return await launch.started(gateway_process, self.plant.url, data_dir, **{**CRASHY, **env})

    async def fresh_lots(self, count: int, start: int) -> list[str]:
        """Lots from LOT-<start> on with stock and no active hold (the generator puts some lots on hold)."""
        found: list[str] = []
        n = start
        while len(found) < count:
            lot = f"LOT-{n:06d}"
            if not await self.state.holds(lot, "ACTIVE") and await self.state.stock_statuses(lot) == {"UNRESTRICTED"}:
                found.append(lot)
            n += 1
        return found

    async def data(self, gateway: Launched, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(f"{gateway.url}/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def replay(self, gateway: Launched, query: str, request: dict[str, Any], field: str) -> dict[str, Any]:
        """The answer to the client's repeat, repeated as a client would while the key is IN_PROGRESS (the dead
        run's lease has not run out, or recovery is finishing it)."""

        async def answered() -> dict[str, Any] | None:
            payload: dict[str, Any] = (await self.data(gateway, query, request))[field]
            return None if [e for e in payload["errors"] if e["code"] == "IN_PROGRESS"] else payload

        return await eventually(answered, f"an answer to the repeat of {field}")

    async def kinds(self, gateway: Launched, lot: str, *kinds: str) -> list[int]:
        """How many entries of each kind the lot's hold history has."""
        history = (await self.data(gateway, HISTORY, {"lotId": lot, "first": 100}))["holdHistory"]["edges"]
        found = [entry["node"]["kind"] for entry in history]
        return [found.count(kind) for kind in kinds]

    async def agreed(self, gateway: Launched, lots: list[str], reason: str) -> dict[str, Any] | None:
        """When nothing is pending any more and every lot is held once for ``reason`` and blocked, the actions."""
        actions = (await self.data(gateway, PENDING, {"status": None}))["pendingActions"]
        if any(a["status"] == "PENDING" for a in actions if a["lotId"] in lots):
            return None
        failed = {a["lotId"] for a in actions if a["status"] == "FAILED"}
        for lot in lots:
            held = [h for h in await self.state.holds(lot, "ACTIVE") if h["reason_code"] == reason]
            if lot in failed:
                continue
            if len(held) != 1 or await self.state.stock_statuses(lot) - {"BLOCKED"}:
                return None
        return {"actions": actions, "failed": failed}


@pytest.fixture
async def rig(tmp_path: Path, plant_data: tuple[Path, dict[str, Any]]) -> AsyncIterator[Rig]:
    async with (
        launch.running(launch.plant, plant_data[0]) as plant,
        httpx.AsyncClient(timeout=30, limits=LIMITS) as client,
    ):
        rig = Rig(plant, client, tmp_path)
        async with rig.state.client:
            yield rig


PLACE_POINTS = [
    ("place:planned", "saga written, no QMS command yet"),
    ("place:qms@2", "between the second and third QMS hold"),
    ("place:qms-done", "every QMS hold answered, the step not recorded"),
    ("place:recorded", "QMS step and WMS actions recorded, no WMS command yet"),
    ("place:wms@2", "between the second and third WMS block"),
    ("place:wms-done", "every block recorded, the answer not stored"),
]


async def test_place_hold_killed_at_every_step_boundary_is_finished_after_restart(rig: Rig) -> None:
    for n, (point, where) in enumerate(PLACE_POINTS):
        lots = await rig.fresh_lots(3, start=1200 + 20 * n)
        data_dir = rig.tmp_path / f"gateway-{n}"
        request = {"input": {"lotIds": lots, "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
        await rig.reset()
        await rig.crash(data_dir, point, PLACE, request)
        gateway = await rig.gateway(data_dir)
        try:
            agreed = functools.partial(rig.agreed, gateway, lots, "OUT_OF_SPEC")
            settled = await eventually(agreed, f"recovery after {where}")
            assert settled["failed"] == set(), where
            for lot in lots:  # each hold and block announced and recorded in the history once, wherever it died
                assert await rig.kinds(gateway, lot, "HOLD_PLACED", "STOCK_BLOCKED") == [1, 1], where
            # No command twice: one hold and one block per lot, whatever the step the first run died at.
            assert await rig.commands() == {"POST /holds": 3, "POST /stock/block": 3}, where
            # The client that comes back gets the recovered answer, and nothing is sent again.
            replay = await rig.replay(gateway, PLACE, request, "placeHold")
            assert replay["replayed"] is True, where
            assert {lot["id"] for lot in replay["lots"]} == set(lots), where
            assert await rig.commands() == {"POST /holds": 3, "POST /stock/block": 3}, where
        finally:
            await gateway.astop()


RELEASE_POINTS = [
    ("release:planned", "saga written, no QMS command yet"),
    ("release:qms-done", "the QMS released, the step not recorded"),
    ("release:wms-done", "the unblock recorded, the answer not stored"),
]


async def test_release_hold_killed_at_every_step_boundary_is_finished_after_restart(
    rig: Rig, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    data_dir = rig.tmp_path / "gateway"
    for n, (point, where) in enumerate(RELEASE_POINTS):
        gateway = await rig.gateway(data_dir)
        try:
            placed = {"input": {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
            (hold,) = (await rig.data(gateway, PLACE, placed))["placeHold"]["holds"]
        finally:
            await gateway.astop()
        assert await rig.state.stock_statuses(lot) == {"BLOCKED"}
        await rig.reset()
        request = {"input": {"holdId": hold["id"], "idempotencyKey": new_key()}}
        await rig.crash(data_dir, point, RELEASE, request)
        gateway = await rig.gateway(data_dir)
        try:

            async def released() -> bool | None:
                if [h for h in await rig.state.holds(lot, "ACTIVE")]:
                    return None
                return True if await rig.state.stock_statuses(lot) == {"UNRESTRICTED"} else None

            await eventually(released, f"the release finished after {where}")
            assert await rig.state.disposition(lot) == "RELEASED"
            assert await rig.kinds(gateway, lot, "HOLD_RELEASED", "STOCK_UNBLOCKED") == [n + 1, n + 1], where
            assert await rig.commands() == {"POST /holds/{id}/release": 1, "POST /stock/unblock": 1}, where
            replay = await rig.replay(gateway, RELEASE, request, "releaseHold")
            assert replay["replayed"] is True, where
            assert await rig.commands() == {"POST /holds/{id}/release": 1, "POST /stock/unblock": 1}, where
        finally:
            await gateway.astop()


async def test_a_propagated_hold_killed_during_its_qms_step_is_finished_after_restart(
    rig: Rig, plant_data: tuple[Path, dict[str, Any]]
) -> None:
    mes = plant_data[0] / "mes.db"
    root = next(lot for n in range(1, 2000) if 3 <= len(reference_closure(mes, [lot := f"LOT-{n:06d}"])) <= 6)
    closure = sorted(reference_closure(mes, [root]))
    data_dir = rig.tmp_path / "gateway"
    request = {"input": {"lotIds": [root], "reasonCode": "RECALL", "propagate": "FORWARD", "idempotencyKey": new_key()}}
    await rig.reset()
    await rig.crash(data_dir, "place:qms@2", PLACE, request)
    gateway = await rig.gateway(data_dir)
    try:
        agreed = functools.partial(rig.agreed, gateway, closure, "RECALL")
        settled = await eventually(agreed, "recovery of the propagated hold")
        assert settled["failed"] == set()
        n = len(closure)
        assert await rig.commands() == {"POST /holds": n, "POST /stock/block": n}
        replay = await rig.replay(gateway, PLACE, request, "placeHold")
        assert set(replay["propagatedLotIds"]) == set(closure) - {root}
    finally:
        await gateway.astop()


async def test_a_recovered_step_that_cannot_be_done_is_escalated_to_failed(rig: Rig) -> None:
    """The WMS down for good after the crash: the recovered actions end FAILED, visible and announced."""
    lots = await rig.fresh_lots(2, start=1400)
    data_dir = rig.tmp_path / "gateway"
    request = {"input": {"lotIds": lots, "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}}
    await rig.crash(data_dir, "place:planned", PLACE, request)
    assert (await rig.client.put(f"{rig.plant.url}/wms/admin/faults", json={"outage": True})).status_code == 200
    gateway = await rig.gateway(data_dir, LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS="3")
    try:

        async def escalated() -> list[dict[str, Any]] | None:
            actions = (await rig.data(gateway, PENDING, {"status": ["FAILED"]}))["pendingActions"]
            return actions if {a["lotId"] for a in actions} == set(lots) else None

        failed = await eventually(escalated, "the recovered actions are escalated")
        assert {a["kind"] for a in failed} == {"PLACE_HOLD"}
        assert all("WMS" in a["lastError"] for a in failed)
        # Held in the QMS, not blocked: the FAILED actions say so, for a person to act on.
        for lot in lots:
            assert len(await rig.state.holds(lot, "ACTIVE")) == 1
    finally:
        await gateway.astop()
        await rig.client.put(f"{rig.plant.url}/wms/admin/faults", json={"outage": False})
