"""A run slower than its lease, taken over by the client's repeat (or recovery) while it is still going: its later
writes are fenced by its claim, so it writes nothing more, sends no further upstream command, and answers what the
store holds — the plant counts each command once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from tests.conftest import Plant
from tests.holds.conftest import DEADLINE, PlantState, gateway_settings, new_key, running_gateway
from tests.waits import eventually


class HeldQms:
    """The plant, with its first QMS hold request held back until ``go`` is set: the first run is slowed at its
    QMS step (the plant's own handler runs only after)."""

    def __init__(self, plant: Starlette) -> None:
        self.plant = plant
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        qms_hold = scope["type"] == "http" and (scope["method"], scope["path"]) == ("POST", "/qms/holds")
        if qms_hold and not self.reached.is_set():
            self.reached.set()
            await self.go.wait()
        await self.plant(scope, receive, send)


async def test_a_run_taken_over_while_slow_sends_no_second_command(
    tmp_path: Path, plant: Starlette, admin: Plant, state: PlantState, manifest: dict[str, Any]
) -> None:
    lot = manifest["demo"]["hold_lot"]
    request = {"lotIds": [lot], "reasonCode": "OUT_OF_SPEC", "idempotencyKey": new_key()}
    held = HeldQms(plant)
    settings = gateway_settings(tmp_path / "gateway", LOTGRAPH_HOLDS_LEASE_SECONDS="1")
    async with running_gateway(settings, held) as gateway:  # type: ignore[arg-type]
        await admin.reset_stats()
        slow = asyncio.create_task(gateway.place(**request))
        await asyncio.wait_for(held.reached.wait(), DEADLINE)

        async def taken_over() -> dict[str, Any] | None:
            answer = await gateway.place(**request)
            return None if [e["code"] for e in answer["errors"]] == ["IN_PROGRESS"] else answer

        repeat = await eventually(taken_over, "the repeat took the claim over once the first run's lease ran out")
        held.go.set()  # the first run goes on: its QMS hold is made, then its next write finds the claim taken
        first = await asyncio.wait_for(slow, DEADLINE)
        live = {"lots"}  # read when answering
        stored = {k: v for k, v in repeat.items() if k not in live}
        assert {k: v for k, v in first.items() if k not in live} == stored  # the stored answer, not its own

        async def finished() -> bool | None:
            done = await state.stock_statuses(lot) == {"BLOCKED"} and not await gateway.pending("PENDING")
            return True if done else None

        await eventually(finished, "the actions the take-over left were carried out")
        wms = (await admin.stats())["wms"]
        assert wms.get("POST /stock/block") == 1  # by the retry worker only: the first run stopped before its block
        assert len(await state.holds(lot, "ACTIVE")) == 1
