"""Subscriptions driven by other people's clients: graphql-ws (WebSocket, graphql-transport-ws) and graphql-sse
(Server-Sent Events), from npm, against the live gateway. A hold placed over HTTP reaches each as an event."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.conftest import Live
from tests.conformance.node import run_node


def released_lots(live: Live, count: int) -> list[str]:
    query = "{ lots(filter: {disposition: RELEASED}, first: 50) { edges { node { id } } } }"
    body = httpx.post(live.gateway, json={"query": query}, timeout=10).json()
    return [edge["node"]["id"] for edge in body["data"]["lots"]["edges"]][-count:]


def metric(live: Live, name: str, **labels: str) -> float:
    text = httpx.get(f"{live.base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def active_subscriptions(live: Live) -> float:
    return metric(live, "lotgraph_graphql_active_subscriptions")


@pytest.mark.parametrize(("client", "index"), [("ws", 0), ("sse", 1)])
def test_an_npm_client_receives_the_hold_event(npm: Path, live: Live, client: str, index: int) -> None:
    lot = released_lots(live, 2)[index]
    answer = run_node("subscriptions.mjs", client, live.gateway, lot)

    placed = answer["placed"]["data"]["placeHold"]
    assert placed["errors"] == [], answer["placed"]
    assert [h["lotId"] for h in placed["holds"]] == [lot], answer["placed"]
    event = answer["event"]
    assert event["type"] == "HoldPlaced"
    assert event["keys"]["lotIds"] == [lot]
    assert event["source"]
    assert event["cursor"]
    assert event["correlationId"]
    assert answer["activeSubscriptions"] >= 1  # counted while it ran

    end = time.monotonic() + 10  # the client has closed: the gateway ends the subscription
    while active_subscriptions(live) != 0:
        assert time.monotonic() < end, "the subscription is still counted as active 10 s after the client left"
    assert metric(live, "lotgraph_events_out_total", subscription="holdEvents") >= 1
    assert metric(live, "lotgraph_events_in_total", type="HoldPlaced") >= 1
