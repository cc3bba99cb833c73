"""A subscriber that cannot keep up is disconnected with a clear close code, not allowed to grow memory; it
resumes from the cursor it is given and loses nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.subscriptions import SLOW_SUBSCRIBER_CLOSE
from tests.events.conftest import hold_event
from tests.events.live import Closed, GraphQLWS, eventually, stack

HOLD_EVENTS = """subscription($after: String) { holdEvents(after: $after) { cursor payload } }"""
QUEUE = 4


async def drain(client: GraphQLWS, id: str) -> None:
    """Read ``id``'s events until the connection closes."""
    while True:
        await client.next(id)


async def test_a_slow_subscriber_is_closed_with_4008_and_resumes_without_loss(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    env = {"LOTGRAPH_EVENTS_QUEUE_SIZE": str(QUEUE)}
    async with stack(plant_dir, manifest, tmp_path, webhooks=False, env=env) as live:
        bus = live.services().bus
        baseline = bus.subscriber_count  # the gateway's own followers (cache invalidation, metrics)
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("1", HOLD_EVENTS, {"after": await live.head()})
            first = await bus.publish(hold_event("L0", 0))
            assert (await client.next("1"))["holdEvents"]["cursor"] == first.cursor
            # a burst bigger than the queue, delivered in one pass: the subscription cannot have sent them yet
            burst = await bus.publish_many([hold_event(f"L{i}", i) for i in range(1, 3 * QUEUE)])
            with pytest.raises(Closed) as closed:
                await drain(client, "1")
        assert closed.value.code == SLOW_SUBSCRIBER_CLOSE
        assert "slow subscriber" in closed.value.reason
        resume = closed.value.reason.split("after=")[1]
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("2", HOLD_EVENTS, {"after": resume})
            cursor = resume
            while cursor != burst[-1].cursor:
                cursor = (await client.next("2"))["holdEvents"]["cursor"]
        await eventually(lambda: bus.subscriber_count == baseline, "the closed subscriptions' queues are released")
