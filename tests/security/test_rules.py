"""Pure parts of security and resilience: the breaker, the token bucket, the role policy, the cost estimate."""

from __future__ import annotations

import pytest
from graphql import parse

from api.limits import cost_of
from api.ratelimit import MemoryBuckets
from schema import build_schema
from sources.resilience import BreakerState, CircuitBreaker, ResiliencePolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_on_consecutive_failures_and_recovers_through_one_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(ResiliencePolicy(failures=3, open_seconds=5, window=100), clock)
    for _ in range(2):
        breaker.record(False)
    assert breaker.state is BreakerState.CLOSED
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # one probe at a time
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    clock.now += 5
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_a_timeout_opens_the_breaker_at_once() -> None:
    breaker = CircuitBreaker(ResiliencePolicy(failures=5), Clock())
    breaker.record(False, timed_out=True)
    assert breaker.state is BreakerState.OPEN


def test_an_error_rate_opens_the_breaker() -> None:
    breaker = CircuitBreaker(ResiliencePolicy(failures=100, error_rate=0.5, window=10), Clock())
    for ok in (True, False) * 2 + (True,):
        breaker.record(ok)
    assert breaker.state is BreakerState.CLOSED
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN


async def test_token_bucket_allows_a_burst_then_says_when() -> None:
    buckets = MemoryBuckets(rate=1.0, burst=3)
    assert [await buckets.take("alice") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await buckets.take("alice")
    assert 0 < wait <= 1.0
    assert await buckets.take("bob") == 0.0


def test_cost_grows_with_list_sizes() -> None:
    schema = build_schema()._schema

    def cost(query: str, variables: dict[str, object] | None = None) -> int:
        return cost_of(schema, parse(query), None, variables or {})

    small = cost("{ shipments(first: 5) { edges { node { id lines { lots { id } } } } } }")
    large = cost("{ shipments(first: 500) { edges { node { id lines { lots { id } } } } } }")
    assert large > small * 50
    by_var = cost("query($n: Int) { shipments(first: $n) { edges { node { id } } } }", {"n": 400})
    assert by_var > cost("{ shipments(first: 4) { edges { node { id } } } }") * 50
    ids = cost("query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) { status } }", {"ids": ["a"] * 300})
    assert ids >= 300


@pytest.mark.parametrize(
    ("argument", "levels"),
    [("maxDepth: 10000", 30), ("maxDepth: 30", 30), ("maxDepth: null", 30), ("", 10), ("maxDepth: 4", 4)],
)
def test_trace_depth_is_costed_as_the_schema_caps_it(argument: str, levels: int) -> None:
    schema = build_schema()._schema
    query = '{ lotGenealogy(lotId: "L" %s) { nodes { lot { id } } } }'
    cost = cost_of(schema, parse(query % argument), None, {}, max_trace_depth=30)
    assert cost == cost_of(schema, parse(query % f"maxDepth: {levels}"), None, {}, max_trace_depth=1000)
