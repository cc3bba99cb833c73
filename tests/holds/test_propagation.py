"""propagate FORWARD holds every lot made from the given ones: compared with a plain BFS over the MES's own edge
table, read in the test. One batched MES request per genealogy level."""

from __future__ import annotations

import sqlite3
from collections import deque
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from tests.conftest import Plant
from tests.holds.conftest import HoldGateway, PlantState, gateway_settings, new_key, running_gateway


def reference_closure(mes_db: Path, roots: list[str]) -> dict[str, int]:
    """Every lot reachable forward from ``roots`` (roots included), with its depth below them."""
    with sqlite3.connect(mes_db) as conn:
        rows = conn.execute("SELECT input_lot_id, output_lot_id FROM genealogy").fetchall()
    following: dict[str, set[str]] = {}
    for source, target in rows:
        following.setdefault(source, set()).add(target)
    depth = {root: 0 for root in roots}
    queue = deque(roots)
    while queue:
        lot = queue.popleft()
        for nxt in following.get(lot, ()):
            if nxt not in depth:
                depth[nxt] = depth[lot] + 1
                queue.append(nxt)
    return depth


async def test_forward_propagation_holds_the_whole_closure(
    gateway: HoldGateway,
    state: PlantState,
    admin: Plant,
    manifest: dict[str, Any],
    plant_data: tuple[Path, dict[str, Any]],
) -> None:
    roots = [manifest["lots"]["raw_wide"], manifest["lots"]["merge"]]
    depth = reference_closure(plant_data[0] / "mes.db", roots)
    expected = set(depth)
    levels = max(depth.values())
    assert levels >= 3
    assert len(expected) > 100
    # One batched request per level (chunked at 500 ids), and the one that finds nothing below the deepest level.
    per_level = [sum(1 for d in depth.values() if d == level) for level in range(levels + 1)]
    genealogy_calls = sum(-(-n // 500) for n in per_level)
    await admin.reset_stats()

    payload = await gateway.place(lotIds=roots, reasonCode="RECALL", propagate="FORWARD", idempotencyKey=new_key())

    assert payload["complete"] is True, payload["errors"] + payload["warnings"]
    assert set(payload["propagatedLotIds"]) == expected - set(roots)
    assert {lot["id"] for lot in payload["lots"]} == expected
    assert {h["lotId"] for h in payload["holds"]} == expected
    assert set(payload["blockedLotIds"]) == expected
    stats = await admin.stats()
    assert stats["mes"]["GET /genealogy"] == genealogy_calls
    assert stats["qms"]["POST /holds"] == len(expected)

    for lot in sorted(expected)[:: max(1, len(expected) // 25)]:  # a sample, read from the systems of record
        assert [h["reason_code"] for h in await state.holds(lot, "ACTIVE")].count("RECALL") == 1
        assert await state.stock_statuses(lot) <= {"BLOCKED"}


async def test_forward_propagation_over_a_cycle_ends(
    gateway: HoldGateway, manifest: dict[str, Any], plant_data: tuple[Path, dict[str, Any]]
) -> None:
    cycle = manifest["lots"]["cycle"]
    expected = set(reference_closure(plant_data[0] / "mes.db", cycle[:1]))
    assert set(cycle) <= expected
    payload = await gateway.place(lotIds=cycle[:1], reasonCode="OTHER", propagate="FORWARD", idempotencyKey=new_key())
    assert {lot["id"] for lot in payload["lots"]} == expected
    assert len(payload["holds"]) == len(expected)


async def test_propagation_beyond_the_limit_holds_nothing(
    state: PlantState, manifest: dict[str, Any], tmp_path: Path, plant: Starlette
) -> None:
    settings = gateway_settings(tmp_path / "small", LOTGRAPH_HOLDS_MAX_LOTS="50")
    count = await state.hold_count()
    async with running_gateway(settings, plant) as gateway:
        payload = await gateway.place(
            lotIds=[manifest["lots"]["raw_wide"]], reasonCode="RECALL", propagate="FORWARD", idempotencyKey=new_key()
        )
    assert [e["code"] for e in payload["errors"]] == ["PROPAGATION_INCOMPLETE"]
    assert "more than 50 lots" in payload["errors"][0]["message"]
    assert payload["holds"] == []
    assert payload["complete"] is False
    assert await state.hold_count() == count
