"""The graphql-ws npm client (what browser dashboards use) resumes a subscription after a cursor."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.conformance.node import ensure_node_modules
from tests.events.live import DEADLINE, stack


async def test_the_graphql_ws_client_resumes_after_a_cursor(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    npm = ensure_node_modules()
    plant_dir, manifest = plant_data
    lot = manifest["demo"]["lot_forward"]
    async with stack(plant_dir, manifest, tmp_path) as live:
        after = await live.head()
        missed = [(await live.place_hold(lot))["id"] for _ in range(3)]
        process = await asyncio.create_subprocess_exec(
            "node",
            "events-resume.mjs",
            f"{live.gateway.url}/graphql",
            lot,
            after,
            "3",
            cwd=npm,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE + 10)
    assert process.returncode == 0, err.decode()
    events = json.loads(out.decode().strip().splitlines()[-1])
    assert [e["payload"]["id"] for e in events] == missed
    assert all(e["type"] == "HoldPlaced" and e["source"] == "qms" for e in events)
    assert len({e["cursor"] for e in events}) == 3
