"""Shared subscription streams (api/fanout.py): subscribers of the same live subscription and authorisation cost one
bus subscription, one execution and one encoding per event, whatever their number; each still gets every event
under its own operation id, and a slow one is closed with 4008 and its own resume cursor."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from api.app import Lotgraph
from api.fanout import SharedStreams
from api.subscriptions import SLOW_SUBSCRIBER_CLOSE
from tests.events.conftest import hold_event
from tests.events.live import Closed, GraphQLWS, Stack, eventually, stack

LIVE = "subscription { holdEvents { cursor type plant } }"
OF_LOTS = "subscription($lots: [ID!]) { holdEvents(lotIds: $lots) { cursor } }"
RESUME = "subscription($after: String) { holdEvents(after: $after) { cursor } }"
SUBSCRIBERS = 12
QUEUE = 4


async def drain(client: GraphQLWS, id: str, cursors: list[str]) -> None:
    """Read ``id``'s events into ``cursors`` until the connection closes."""
    while True:
        cursors.append((await client.next(id))["holdEvents"]["cursor"])


def streams_of(live: Stack) -> SharedStreams:
    app = live.gateway.app
    assert isinstance(app, Lotgraph)
    return app.shared_streams


async def test_n_subscribers_of_one_subscription_cost_one_execution_and_one_encoding_per_event(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    async with stack(plant_dir, manifest, tmp_path, webhooks=False) as live:
        bus, streams = live.services().bus, streams_of(live)
        baseline = bus.subscriber_count
        async with contextlib.AsyncExitStack() as clients:
            await _shared(live, clients, streams, baseline)
        await eventually(lambda: not streams.channels, "channels end with their last subscriber")
        await eventually(lambda: bus.subscriber_count == baseline, "their bus subscriptions are released")


async def _shared(live: Stack, clients: contextlib.AsyncExitStack, streams: SharedStreams, baseline: int) -> None:
    bus = live.services().bus
    subscribers = [await clients.enter_async_context(GraphQLWS(live.gateway.ws_url)) for _ in range(SUBSCRIBERS)]
    for i, client in enumerate(subscribers):
        await client.subscribe(f"op-{i}", LIVE)
    other = await clients.enter_async_context(GraphQLWS(live.gateway.ws_url))
    await other.subscribe("lots", OF_LOTS, {"lots": ["L1"]})  # other variables: a channel of its own

    def joined() -> bool:
        return sum(len(c.members) for c in streams.channels.values()) == SUBSCRIBERS + 1

    await eventually(joined, "every subscription joined its channel")
    await eventually(lambda: bus.subscriber_count == baseline + 2, "each channel subscribed to the bus")
    events = [await bus.publish(hold_event(f"L{n}", n)) for n in range(3)]

    for i, client in enumerate(subscribers):
        got = [(await client.next(f"op-{i}"))["holdEvents"] for _ in events]
        assert [g["cursor"] for g in got] == [e.cursor for e in events]
        assert all(g["type"] == "HoldPlaced" and g["plant"] == "P1" for g in got)
    assert (await other.next("lots"))["holdEvents"]["cursor"] == events[1].cursor

    assert streams.opened == 2
    assert streams.results == len(events) + 1  # three for everyone, one for the subscriber of lot L1
    assert streams.encodings == len(events) + 1

    # another authorisation never shares a channel, even with the same document and variables
    (channel,) = [c for c in streams.channels.values() if len(c.members) == SUBSCRIBERS]
    viewer = dataclasses.replace(channel.context, roles=frozenset({"viewer"}))
    member = streams.join(channel.schema, viewer, LIVE, None, None, str)
    assert member is not None
    assert member.channel is not channel
    assert streams.opened == 3
    streams.leave(member)


async def test_shared_subscribers_that_fall_behind_are_closed_with_4008_and_resume_without_loss(
    plant_data: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    plant_dir, manifest = plant_data
    env = {"LOTGRAPH_EVENTS_QUEUE_SIZE": str(QUEUE)}
    async with stack(plant_dir, manifest, tmp_path, webhooks=False, env=env) as live:
        bus, streams = live.services().bus, streams_of(live)
        async with GraphQLWS(live.gateway.ws_url) as one, GraphQLWS(live.gateway.ws_url) as two:
            await one.subscribe("1", LIVE)
            await two.subscribe("2", LIVE)
            await eventually(lambda: streams.opened == 1 and len(streams.channels) == 1, "one channel")
            await eventually(lambda: len(next(iter(streams.channels.values())).members) == 2, "both joined")
            first = await bus.publish(hold_event("L0", 0))
            for client, id in ((one, "1"), (two, "2")):
                assert (await client.next(id))["holdEvents"]["cursor"] == first.cursor
            # more than the queue holds, in one pass: the shared stream falls behind the bus
            burst = await bus.publish_many([hold_event(f"L{i}", i) for i in range(1, 3 * QUEUE)])
            for client, id in ((one, "1"), (two, "2")):
                cursors = [first.cursor]
                with pytest.raises(Closed) as closed:
                    await drain(client, id, cursors)
                assert closed.value.code == SLOW_SUBSCRIBER_CLOSE
                # it resumes after the last event it was sent, so it misses nothing
                assert closed.value.reason == f"slow subscriber; resume with after={cursors[-1]}"
        resume = first.cursor
        async with GraphQLWS(live.gateway.ws_url) as client:
            await client.subscribe("3", RESUME, {"after": resume})  # a replay: its own stream, at its own pace
            cursor = resume
            while cursor != burst[-1].cursor:
                cursor = (await client.next("3"))["holdEvents"]["cursor"]
