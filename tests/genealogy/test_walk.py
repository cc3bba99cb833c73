"""The breadth-first walk alone, over a dict of edges: levels, visited set, cycles and every limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

import pytest

from resolvers.errors import InputError
from resolvers.genealogy.model import Limits, Trace, TraceDirection, TruncationReason
from resolvers.genealogy.walk import find_cycles, walk
from sources.errors import SourceUnavailable
from sources.records import GenealogyEdge

BACKWARD, FORWARD, BOTH = TraceDirection.BACKWARD, TraceDirection.FORWARD, TraceDirection.BOTH


def edge(source: str, target: str, quantity: float = 1.0) -> GenealogyEdge:
    return GenealogyEdge(source, target, quantity, "kg", f"WO-{target}", None)


class Plant:
    """Genealogy edges in memory, answering one level per call and counting the calls."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.edges = [edge(a, b, float(i)) for i, (a, b) in enumerate(pairs)]
        self.calls: list[tuple[str, list[str]]] = []

    async def edges_into(self, lot_ids: list[str]) -> Mapping[str, list[GenealogyEdge]]:
        self.calls.append(("into", lot_ids))
        return {lot: [e for e in self.edges if e.output_lot_id == lot] for lot in lot_ids}

    async def edges_out_of(self, lot_ids: list[str]) -> Mapping[str, list[GenealogyEdge]]:
        self.calls.append(("out_of", lot_ids))
        return {lot: [e for e in self.edges if e.input_lot_id == lot] for lot in lot_ids}


def limits(max_depth: int | None = 10, *, server: int = 50, nodes: int = 1000, budget: float = 60.0) -> Limits:
    return Limits(max_depth=max_depth, server_max_depth=server, max_nodes=nodes, time_budget=budget)


async def run(
    plant: Plant,
    root: str,
    direction: TraceDirection,
    lim: Limits | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    on_level: Callable[[list[str]], None] | None = None,
) -> Trace:
    return await walk(
        root,
        direction,
        edges_into=plant.edges_into,
        edges_out_of=plant.edges_out_of,
        limits=lim or limits(),
        clock=clock,
        on_level=on_level,
    )


def depths(trace: Trace) -> dict[tuple[str, TraceDirection], int]:
    return {(n.lot_id, n.direction): n.depth for n in trace.nodes}


DIAMOND = [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D"), ("D", "E")]


async def test_a_diamond_is_walked_once_per_level_and_keeps_every_edge() -> None:
    plant = Plant(DIAMOND)
    trace = await run(plant, "A", FORWARD)
    assert depths(trace) == {
        ("A", FORWARD): 0,
        ("B", FORWARD): 1,
        ("C", FORWARD): 1,
        ("D", FORWARD): 2,
        ("E", FORWARD): 3,
    }
    assert {(e.input_lot_id, e.output_lot_id) for e in trace.edges} == set(DIAMOND)
    assert plant.calls == [("out_of", ["A"]), ("out_of", ["B", "C"]), ("out_of", ["D"]), ("out_of", ["E"])]
    assert [(lv.depth, lv.lots, lv.edges, lv.new_lots) for lv in trace.levels] == [
        (0, 1, 2, 2),
        (1, 2, 2, 1),
        (2, 1, 1, 1),
        (3, 1, 0, 0),
    ]
    assert trace.truncation is None
    assert trace.cycles == []
    assert trace.depth == 3


async def test_backward_follows_inputs_and_carries_quantities_as_given() -> None:
    plant = Plant(DIAMOND)
    trace = await run(plant, "E", BACKWARD)
    assert depths(trace) == {
        ("E", BACKWARD): 0,
        ("D", BACKWARD): 1,
        ("B", BACKWARD): 2,
        ("C", BACKWARD): 2,
        ("A", BACKWARD): 3,
    }
    assert {e.quantity for e in trace.edges} == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert all(call == "into" for call, _ in plant.calls)


async def test_both_walks_each_way_from_the_root_side_by_side() -> None:
    plant = Plant(DIAMOND)
    trace = await run(plant, "D", BOTH)
    assert depths(trace) == {
        ("D", BOTH): 0,
        ("B", BACKWARD): 1,
        ("C", BACKWARD): 1,
        ("A", BACKWARD): 2,
        ("E", FORWARD): 1,
    }
    assert plant.calls[:2] == [("into", ["D"]), ("out_of", ["D"])]
    assert {(e.input_lot_id, e.output_lot_id) for e in trace.edges} == set(DIAMOND)


async def test_a_cycle_is_reported_and_not_looped_on() -> None:
    plant = Plant([("R", "A"), ("A", "B"), ("B", "C"), ("C", "A"), ("C", "F")])
    trace = await run(plant, "R", FORWARD, limits(None))
    assert depths(trace) == {
        ("R", FORWARD): 0,
        ("A", FORWARD): 1,
        ("B", FORWARD): 2,
        ("C", FORWARD): 3,
        ("F", FORWARD): 4,
    }
    assert trace.cycles == [["A", "B", "C"]]
    assert trace.truncation is None
    assert len(plant.calls) == 5


async def test_a_lot_feeding_itself_is_a_cycle() -> None:
    trace = await run(Plant([("A", "A"), ("A", "B")]), "A", FORWARD)
    assert trace.lot_ids == ["A", "B"]
    assert trace.cycles == [["A"]]


async def test_a_lot_on_a_cycle_walked_both_ways_is_listed_once_per_direction() -> None:
    plant = Plant([("A", "B"), ("B", "C"), ("C", "A")])
    trace = await run(plant, "A", BOTH)
    assert depths(trace) == {
        ("A", BOTH): 0,
        ("C", BACKWARD): 1,
        ("B", BACKWARD): 2,
        ("B", FORWARD): 1,
        ("C", FORWARD): 2,
    }
    assert trace.lot_ids == ["A", "C", "B"]
    assert trace.cycles == [["A", "B", "C"]]


async def test_max_depth_zero_is_the_root_alone_and_says_the_walk_was_cut() -> None:
    plant = Plant(DIAMOND)
    trace = await run(plant, "A", FORWARD, limits(0))
    assert trace.lot_ids == ["A"]
    assert trace.truncation is not None
    assert trace.truncation.reason is TruncationReason.MAX_DEPTH
    assert trace.truncation.limit == 0
    leaf = await run(Plant(DIAMOND), "E", FORWARD, limits(0))
    assert leaf.truncation is None


async def test_a_depth_that_just_reaches_the_end_is_not_truncated() -> None:
    exact = await run(Plant(DIAMOND), "A", FORWARD, limits(3))
    assert exact.truncation is None
    short = await run(Plant(DIAMOND), "A", FORWARD, limits(2))
    assert short.truncation is not None
    assert short.truncation.reason is TruncationReason.MAX_DEPTH
    assert max(n.depth for n in short.nodes) == 2
    assert ("D", "E") not in {(e.input_lot_id, e.output_lot_id) for e in short.edges}


async def test_the_server_cap_limits_any_depth_asked_for_and_says_so() -> None:
    capped = await run(Plant(DIAMOND), "A", FORWARD, limits(10, server=1))
    assert capped.max_depth == 1
    assert capped.truncation is not None
    assert capped.truncation.reason is TruncationReason.SERVER_MAX_DEPTH
    assert "maxDepth 10" in capped.truncation.message
    unbounded = await run(Plant(DIAMOND), "A", FORWARD, limits(None, server=2))
    assert unbounded.truncation is not None
    assert unbounded.truncation.reason is TruncationReason.SERVER_MAX_DEPTH
    assert {n.lot_id for n in unbounded.nodes} == {"A", "B", "C", "D"}
    within = await run(Plant(DIAMOND), "A", FORWARD, limits(None, server=3))
    assert within.truncation is None


async def test_the_node_limit_stops_the_walk_in_a_stable_order() -> None:
    star = [("A", f"B{i:02d}") for i in range(10)] + [("B00", "C")]
    trace = await run(Plant(star), "A", FORWARD, limits(nodes=5))
    assert trace.lot_ids == ["A", "B00", "B01", "B02", "B03"]
    assert trace.truncation is not None
    assert trace.truncation.reason is TruncationReason.NODE_LIMIT
    assert trace.truncation.limit == 5
    assert len(trace.edges) == 4


async def test_the_time_budget_stops_between_levels() -> None:
    ticks = iter(range(100))  # every look at the clock is one second later: start, then before each level
    plant = Plant(DIAMOND)
    trace = await run(plant, "A", FORWARD, limits(budget=2.5), clock=lambda: float(next(ticks)))
    assert trace.truncation is not None
    assert trace.truncation.reason is TruncationReason.TIME_BUDGET
    assert len(plant.calls) == 2
    assert trace.lot_ids == ["A", "B", "C", "D"]


async def test_a_level_still_in_flight_when_the_budget_runs_out_is_dropped() -> None:
    never = asyncio.Event()
    plant = Plant(DIAMOND)

    async def stuck(lot_ids: list[str]) -> Mapping[str, list[GenealogyEdge]]:
        if lot_ids != ["A"]:
            await never.wait()
        return await plant.edges_out_of(lot_ids)

    async with asyncio.timeout(10):
        trace = await walk("A", FORWARD, edges_into=plant.edges_into, edges_out_of=stuck, limits=limits(budget=0.05))
    assert trace.truncation is not None
    assert trace.truncation.reason is TruncationReason.TIME_BUDGET
    assert trace.lot_ids == ["A", "B", "C"]


async def test_a_source_error_propagates_and_nothing_is_made_up() -> None:
    async def down(lot_ids: list[str]) -> Mapping[str, list[GenealogyEdge]]:
        raise SourceUnavailable("mes", "MES is unreachable")

    with pytest.raises(SourceUnavailable):
        await walk("A", FORWARD, edges_into=down, edges_out_of=down, limits=limits())


async def test_a_negative_depth_is_refused_before_any_request() -> None:
    plant = Plant(DIAMOND)
    with pytest.raises(InputError):
        await run(plant, "A", FORWARD, limits(-1))
    assert plant.calls == []


async def test_edges_the_walk_did_not_ask_for_are_ignored() -> None:
    plant = Plant(DIAMOND)

    async def chatty(lot_ids: list[str]) -> Mapping[str, list[GenealogyEdge]]:
        found = dict(await plant.edges_out_of(lot_ids))
        found["Z"] = [edge("Z", "Y")]
        return found

    trace = await walk("A", FORWARD, edges_into=plant.edges_into, edges_out_of=chatty, limits=limits())
    assert "Y" not in trace.lot_ids


async def test_on_level_hears_each_level_as_it_is_found() -> None:
    heard: list[list[str]] = []
    await run(Plant(DIAMOND), "A", FORWARD, on_level=heard.append)
    assert heard == [["B", "C"], ["D"], ["E"]]


async def test_a_levels_lots_are_handed_on_after_the_next_levels_edge_requests_start() -> None:
    """An upstream that serves in order of arrival then answers the walk before the per-lot reads of a level."""
    plant = Plant(DIAMOND)
    started: list[tuple[str, list[str]]] = plant.calls
    reads: list[asyncio.Task[None]] = []

    async def read(lot_ids: list[str]) -> None:
        started.append(("read", lot_ids))

    await run(plant, "A", FORWARD, on_level=lambda lots: reads.append(asyncio.create_task(read(lots))))
    await asyncio.gather(*reads)
    assert started == [
        ("out_of", ["A"]),
        ("out_of", ["B", "C"]),
        ("read", ["B", "C"]),
        ("out_of", ["D"]),
        ("read", ["D"]),
        ("out_of", ["E"]),
        ("read", ["E"]),
    ]


async def test_the_lots_of_a_level_that_ends_the_walk_are_still_handed_on() -> None:
    heard: list[list[str]] = []
    trace = await run(Plant(DIAMOND), "A", FORWARD, limits(nodes=2), on_level=heard.append)
    assert trace.truncation is not None
    assert trace.truncation.reason is TruncationReason.NODE_LIMIT
    assert heard == [["B"]]


def test_find_cycles_finds_every_loop_and_a_self_loop() -> None:
    pairs = [("A", "B"), ("B", "A"), ("B", "C"), ("C", "D"), ("D", "E"), ("E", "C"), ("F", "F"), ("G", "H")]
    assert find_cycles(edge(a, b) for a, b in pairs) == [["A", "B"], ["C", "D", "E"], ["F"]]
    assert find_cycles(edge(a, b) for a, b in DIAMOND) == []


def test_find_cycles_handles_a_long_chain_without_recursion() -> None:
    chain = [edge(f"L{i:05d}", f"L{i + 1:05d}") for i in range(20_000)]
    assert find_cycles(chain) == []
    assert find_cycles([*chain, edge("L20000", "L00000")]) == [sorted({f"L{i:05d}" for i in range(20_001)})]
