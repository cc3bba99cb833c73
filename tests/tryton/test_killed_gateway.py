"""A gateway process over Tryton (every system of kind ``tryton``) killed (SIGKILL) in the middle of a placeHold and
started again: with no client repeating the request, the restarted gateway's recovery finishes the hold, and Tryton
ends with the lot held once (one hold inspection, its alert open) and its storage stock in quarantine, moved by
exactly one internal shipment. The kill is placed by the gateway's test-only fault hook (``LOTGRAPH_TEST_CRASH_AT``,
see ``resolvers.holds.crashpoints``), not by timing."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import launch
from bench.launch import Launched
from sources.store.records import RUNNING
from sources.tryton.client import TrytonRpc
from sources.tryton.mapping import HOLD_CONTROL, QUARANTINE_CODE
from tests.holds.conftest import PENDING, PLACE
from tests.tryton_server import Tryton, admin_rpc, tryton_env
from tests.waits import eventually

QUICK_RECOVERY = {
    "LOTGRAPH_AUTH_MODE": "none",
    "LOTGRAPH_LOG_LEVEL": "warning",
    "LOTGRAPH_HOLDS_LEASE_SECONDS": "2",  # recovery takes a dead run over quickly
    "LOTGRAPH_HOLDS_CONCURRENCY": "1",
    "LOTGRAPH_HOLDS_RETRY_BASE_SECONDS": "0.05",
    "LOTGRAPH_HOLDS_RETRY_MAX_SECONDS": "0.2",
    "LOTGRAPH_HOLDS_RETRY_POLL_SECONDS": "0.05",
}
POINTS = [
    ("place:recorded", "the hold placed in Tryton and the block recorded, not sent"),
    ("place:wms-done", "the stock moved into quarantine, the answer not stored"),
]


class TrytonStock:
    """What Tryton holds for a lot, read over its API without lotgraph."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc

    async def quantity(self, lot: str, code: str, *, available: bool = False) -> float:
        (place,) = await self.rpc.search_read("stock.location", [("code", "=", code)], ["id"])
        context: dict[str, Any] = {"locations": [place["id"]], "with_childs": True}
        if available:
            context["stock_assign"] = True
        (found,) = await self.rpc.search_read("stock.lot", [("number", "=", lot)], ["quantity"], context=context)
        return float(found["quantity"])

    async def free_lots(self, count: int) -> list[str]:
        """Intermediate lots (on no customer shipment) with storage stock and none in quarantine."""
        found: list[str] = []
        for row in await self.rpc.search_read(
            "stock.lot", [("number", "like", "IM-%")], ["number"], order=[("number", "ASC")]
        ):
            lot = row["number"]
            free = await self.quantity(lot, "STO", available=True) > 0
            if free and await self.quantity(lot, QUARANTINE_CODE) == 0 and not await self.holds(lot):
                found.append(lot)
            if len(found) == count:
                return found
        raise AssertionError(f"the data set has fewer than {count} free intermediate lots")

    async def holds(self, lot: str) -> list[dict[str, Any]]:
        domain = [("reference", "=", lot), ("control.name", "=", HOLD_CONTROL)]
        return await self.rpc.search_read("quality.inspection", domain, ["state", "alerts.state"])

    async def quarantine_moves(self, lot: str) -> list[dict[str, Any]]:
        domain = [("moves.lot.number", "=", lot), ("to_location.code", "=", QUARANTINE_CODE)]
        return await self.rpc.search_read("stock.shipment.internal", domain, ["state", "reference"])


async def gateway(tryton: Tryton, data_dir: Path, **env: str) -> Launched:
    settings = {**tryton_env(tryton, data_dir), **QUICK_RECOVERY, **env}
    return await launch.started(launch.gateway, settings, log=data_dir.parent / f"{data_dir.name}.log")


async def data(client: httpx.AsyncClient, gateway: Launched, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (await client.post(f"{gateway.url}/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


@pytest.fixture
async def state(tryton: Tryton) -> AsyncIterator[TrytonStock]:
    rpc = admin_rpc(tryton, "crash-check")
    yield TrytonStock(rpc)
    await rpc.aclose()


async def kill_at(client: httpx.AsyncClient, tryton: Tryton, data_dir: Path, point: str, request: Any) -> None:
    """Send the request to a gateway that dies at ``point``; wait until it is dead."""
    dying = await gateway(tryton, data_dir, LOTGRAPH_TEST_CRASH_AT=point)
    try:
        with contextlib.suppress(httpx.HTTPError):
            answer = await client.post(f"{dying.url}/graphql", json={"query": PLACE, "variables": request})
            raise AssertionError(f"the gateway answered instead of dying at {point}: {answer.text}")
        assert await asyncio.to_thread(dying.popen.wait, 30) == -signal.SIGKILL
    finally:
        await dying.astop(signal.SIGKILL)


async def test_a_hold_killed_mid_way_is_finished_by_the_restarted_gateway_moving_stock_once(
    tryton: Tryton, state: TrytonStock, tmp_path: Path
) -> None:
    lots = await state.free_lots(len(POINTS))
    async with httpx.AsyncClient(timeout=60) as client:
        for n, ((point, where), lot) in enumerate(zip(POINTS, lots, strict=True)):
            storage = await state.quantity(lot, "STO")
            data_dir = tmp_path / f"gateway-{n}"
            request = {"input": {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": uuid.uuid4().hex}}
            await kill_at(client, tryton, data_dir, point, request)
            assert len(await state.holds(lot)) == 1, where  # the hold was placed before the kill
            restarted = await gateway(tryton, data_dir)
            try:
                actions = await eventually(
                    functools.partial(finished, client, restarted, data_dir, state, lot),
                    f"recovery after {where}",
                    deadline=60,
                )
                assert [a for a in actions if a["status"] == "FAILED"] == [], where
                (hold,) = await state.holds(lot)
                assert hold["state"] == "failed"
                assert [alert["state"] for alert in hold["alerts."]] == ["open"]
                (moved,) = await state.quarantine_moves(lot)
                assert moved["state"] == "done"
                assert moved["reference"].startswith("lotgraph:block:")
                assert await state.quantity(lot, QUARANTINE_CODE) == storage
                assert await state.quantity(lot, "STO") == 0

                replay = (await data(client, restarted, PLACE, request))["placeHold"]
                assert replay["replayed"] is True, where
                assert [answered["id"] for answered in replay["lots"]] == [lot]
                assert len(await state.holds(lot)) == 1
                assert len(await state.quarantine_moves(lot)) == 1
            finally:
                await restarted.astop()


async def finished(
    client: httpx.AsyncClient, gateway: Launched, data_dir: Path, state: TrytonStock, lot: str
) -> list[dict[str, Any]] | None:
    """The gateway's actions, once its recovery has ended the dead run (read from its durable store, SQLite in its
    data directory: no saga still running, the answer stored), none for the lot is pending, and the lot has stock in
    quarantine."""
    with contextlib.closing(sqlite3.connect(data_dir / "store.db")) as db:
        sagas = [status for (status,) in db.execute("SELECT status FROM sagas")]
        answers = [state for (state,) in db.execute("SELECT state FROM idempotency")]
    if not sagas or RUNNING in sagas or answers != ["done"]:
        return None
    actions: list[dict[str, Any]] = (await data(client, gateway, PENDING, {"status": None}))["pendingActions"]
    if any(a["status"] == "PENDING" for a in actions if a["lotId"] == lot):
        return None
    return actions if await state.quantity(lot, QUARANTINE_CODE) > 0 else None
