"""The workloads of ``python -m bench all`` beyond the side-by-side ones, each through its own bench's pieces.

- ``trace``: the forward trace with dispositions of the generated plant's widest raw lot (``bench/genealogy.py``:
  its plant, generated once into ``data/bench/``, its gateway settings with cold master-data caches, its checked
  GraphQL run), end to end from the client, at 0 ms plant latency.
- ``holds``: ``placeHold`` and ``releaseHold`` of one lot, one request at a time, through the side-by-side gateway,
  beside the same upstream commands sent to the plant directly (``bench/holds.py``'s client and reference).
- ``fanout``: N subscribers on one gateway and on the plain Starlette broadcast, a burst of hold events, delivery
  to all (``bench/subscriptions.py``).
- ``readiness_overhead``: readiness with every plant system slowed down, beside the same requests made directly in
  the gateway's two parallel steps (``bench/readiness.py``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import genealogy, holds, readiness, subscriptions
from bench.harness import http_request, markdown_table, serve
from bench.launch import Launched

Log = Callable[[str], None]


# -- the trace ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    lots: int
    runs: list[genealogy.Run]

    @property
    def median(self) -> genealogy.Run:
        return genealogy.median_run(self.runs)

    def markdown(self) -> str:
        run = self.median
        seconds = ", ".join(f"{r.seconds:.2f}" for r in self.runs)
        row = [
            f"{run.lots:,}",
            run.levels,
            f"{run.seconds:.2f} ({seconds})",
            "—" if run.walk_ms is None else f"{run.walk_ms:,.0f}",
            f"{run.cpu_s * 1000:,.0f}",
            f"{run.bytes / 1e6:.1f}",
            genealogy.requests_cell(run),
        ]
        headers = ["lots", "levels", "end to end s (runs)", "walk ms", "gateway CPU ms", "answer MB", "upstream"]
        return markdown_table(headers, [row], ["r", "r", "r", "r", "r", "r", "l"])


def trace(*, lots: int, runs: int, log: Log) -> Trace:
    """``runs`` forward traces with dispositions (after a warm-up one) of a ``lots``-lot plant at 0 ms."""
    from plant.app import ensure_data

    data_dir = Path("data/bench") / f"genealogy-{lots}-seed7"
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"trace: the {lots:,}-lot plant in {data_dir} (generated on first use)")
    manifest = ensure_data(data_dir, seed=7, lots=lots)
    lot, reach = manifest["lots"]["raw_wide"], manifest["lots"]["raw_wide_reach"]
    plant_env = {genealogy.ENV_PLANT_DIR: str(data_dir)}
    with (
        tempfile.TemporaryDirectory(prefix="bench-trace-") as gateway_dir,
        serve("bench.genealogy:plant_app", factory=True, env=plant_env, ready_path="/admin/manifest") as plant,
        genealogy.served_gateway(plant, Path(gateway_dir)) as gateway,
    ):
        genealogy.graphql_run(gateway, plant, "dispositions", 0, lot, 20)  # warm-up
        found = []
        for n in range(runs):
            log(f"trace: run {n + 1}/{runs} of {lot} ({reach:,} lots forward)")
            run = genealogy.graphql_run(gateway, plant, "dispositions", 0, lot, 20)
            if run.lots != reach + 1:
                raise RuntimeError(f"trace: {run.lots} lots, the manifest says {reach} + the root")
            found.append(run)
    return Trace(reach + 1, found)


# -- holds --------------------------------------------------------------------------------------------------------

RELEASE = (
    "mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) { complete replayed hold { id status } "
    "errors { code } pendingActions { id } } }"
)


def _stats_total(plant: str) -> int:
    return sum(http_request(f"{plant}/{s}/admin/stats").json()["total"] for s in genealogy.SYSTEMS)


async def _release(session: aiohttp.ClientSession, gateway: str, hold_id: str) -> None:
    variables = {"input": {"holdId": hold_id, "idempotencyKey": uuid.uuid4().hex}}
    async with session.post(f"{gateway}/graphql", json={"query": RELEASE, "variables": variables}) as response:
        body = await response.json()
    if response.status != 200 or "errors" in body or not body["data"]["releaseHold"]["complete"]:
        raise RuntimeError(f"releaseHold answered {response.status}: {str(body)[:300]}")


async def _direct_release(session: aiohttp.ClientSession, plant: str, hold_id: str, lot_id: str) -> None:
    key = uuid.uuid4().hex
    body = {"released_by": "bench"}
    async with session.post(f"{plant}/qms/holds/{hold_id}/release", json=body, headers={"Idempotency-Key": key}) as r:
        if r.status != 200:
            raise RuntimeError(f"QMS answered {r.status}: {await r.text()}")
    body = {"lot_id": lot_id, "reference": hold_id}
    async with session.post(f"{plant}/wms/stock/unblock", json=body, headers={"Idempotency-Key": key + "u"}) as r:
        if r.status != 200:
            raise RuntimeError(f"WMS answered {r.status}: {await r.text()}")


@dataclass
class Timed:
    case: str
    samples: list[float]
    calls: int

    def row(self, reference: Timed | None) -> list[object]:
        median, p99 = statistics.median(self.samples), holds._percentile(self.samples, 0.99)
        extra = f"+{median - statistics.median(reference.samples):.1f}" if reference else "—"
        return [self.case, len(self.samples), f"{median:.1f}", f"{p99:.1f}", extra, self.calls]


async def _holds(plant: str, plant_dir: Path, gateway: str, samples: int) -> list[tuple[Timed, Timed | None]]:
    lots = holds.fresh_lots(plant_dir)
    found: list[tuple[Timed, Timed | None]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        client = holds.Client(session)

        async def place(lot_id: str) -> str:
            payload = await client.place(gateway, [lot_id], uuid.uuid4().hex)
            if not payload["complete"]:
                raise RuntimeError(f"incomplete hold: {payload}")
            hold_id: str = payload["holds"][0]["id"]
            return hold_id

        async def direct_place(lot_id: str) -> str:
            key = uuid.uuid4().hex
            hold, _ = await client.direct_hold(plant, lot_id, key)
            await client.direct_block(plant, lot_id, hold["id"], key + "b")
            hold_id: str = hold["id"]
            return hold_id

        async def case(name: str, put: Any, release: Any) -> tuple[Timed, Timed]:
            """Place (timed) then release (timed) a hold on a fresh lot, ``samples`` times after a warm-up."""
            placed, released = Timed(f"placeHold, {name}", [], 0), Timed(f"releaseHold, {name}", [], 0)
            for n in range(samples + 2):
                lot_id = holds.take(lots, 1)[0]
                holds._reset_stats(plant)
                started = time.perf_counter()
                hold_id = await put(lot_id)
                place_ms = (time.perf_counter() - started) * 1000
                placed.calls = _stats_total(plant) if n == 1 else placed.calls
                holds._reset_stats(plant)
                started = time.perf_counter()
                await release(hold_id, lot_id)
                release_ms = (time.perf_counter() - started) * 1000
                released.calls = _stats_total(plant) if n == 1 else released.calls
                if n >= 2:
                    placed.samples.append(place_ms)
                    released.samples.append(release_ms)
            return placed, released

        reference = await case(
            "reference: QMS + WMS directly", direct_place, lambda h, lot: _direct_release(session, plant, h, lot)
        )
        gateway_cases = await case("lotgraph", place, lambda h, lot: _release(session, gateway, h))
        for ours, theirs in zip(gateway_cases, reference, strict=True):
            found += [(theirs, None), (ours, theirs)]
    return found


def holds_table(plant: Launched, plant_dir: Path, gateway: str, *, samples: int, log: Log) -> str:
    log(f"holds: {samples} placeHold and releaseHold of one lot, through lotgraph and directly")
    rows = asyncio.run(_holds(plant.url, plant_dir, gateway, samples))
    headers = ["command", "samples", "median ms", "p99 ms", "median over reference ms", "upstream requests"]
    return markdown_table(headers, [timed.row(reference) for timed, reference in rows])


# -- fan-out ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fanout:
    results: list[subscriptions.Result]

    def markdown(self) -> str:
        rows = [
            [r.variant, r.subscribers, r.burst, f"{r.delivery_p50:.1f}", f"{r.delivery_p99:.1f}",
             f"{r.all_p50:.1f}", f"{r.all_p99:.1f}", f"{r.deliveries_per_s:,.0f}"]
            for r in self.results
        ]  # fmt: skip
        headers = ["variant", "subscribers", "burst", "delivery p50 ms", "delivery p99 ms", "to all p50 ms"]
        headers += ["to all p99 ms", "deliveries/s"]
        return markdown_table(headers, rows, ["l", "r", "r", "r", "r", "r", "r", "r"])


def fanout(plant: Launched, workdir: Path, *, subscribers: int, burst: int, clients: int, log: Log) -> Fanout:
    results = []
    env = subscriptions.gateway_env(plant, workdir / "fanout-gateway")
    with serve("bench.apps:gateway", factory=True, env=env, ready_path="/healthz") as gateway:
        log(f"fan-out: {subscribers:,} subscribers on lotgraph, a burst of {burst}")
        found, _ = subscriptions.run_variant("lotgraph", gateway, True, subscribers, [burst], clients)
        results += found
    with serve("bench.subscriptions:ceiling_app", factory=True, ready_path="/healthz") as ceiling:
        log(f"fan-out: {subscribers:,} subscribers on the plain Starlette broadcast, a burst of {burst}")
        found, _ = subscriptions.run_variant("plain Starlette broadcast", ceiling, False, subscribers, [burst], clients)
        results += found
    return Fanout(results)


# -- readiness over slow upstreams ----------------------------------------------------------------------------------


def readiness_overhead(
    plant: str, gateway: str, shipment_id: str, batch_ids: list[str], *, latency_ms: int, samples: int, log: Log
) -> tuple[str, float]:
    """The table, and the overhead of one shipment's readiness at p50 (ms)."""
    from bench.side_by_side import _set_latency

    log(f"readiness: {samples} decisions with {latency_ms} ms upstreams, through lotgraph and directly")
    _set_latency(plant, latency_ms)
    try:
        rows = asyncio.run(readiness._latency(gateway, plant, shipment_id, batch_ids, samples, max(3, samples // 10)))
    finally:
        _set_latency(plant, 0)
    headers = ["readiness of", "requests", "gateway p50 ms", "gateway p99 ms", "reference p50 ms"]
    headers += ["reference p99 ms", "overhead p50 ms", "overhead p99 ms"]
    return markdown_table(headers, rows), float(str(rows[0][6]))
