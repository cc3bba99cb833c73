"""``lotgraph serve --workers N``: one worker against two on the same plant, side by side (in ``python -m bench all``).

Both gateways run as deployed with several workers: the Redis store and bus (a prefix of their own on the machine's
Redis, removed after), each worker on its own ``SO_REUSEPORT`` socket of one port. For each workload (the one
shipment and the 50-shipment list of ``bench/workloads.py``) and each round (the order of the two alternates), a
warm-up run, then wrk: requests per second, CPU milliseconds per request of all the gateway's processes, and the
share of that CPU each worker took, which shows whether the kernel spread the connections (with one listening socket
shared by the workers, one of them took most: 220 against 348 req/s between rounds).

On the 2-core machine the plant and wrk share the cores with the gateway, so a second worker cannot double the rate:
what it shows is how much of the second core the gateway can use.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import WrkResult, cpu_seconds, markdown_table, run_wrk
from bench.launch import Launched, gateway
from bench.workloads import Sample, Workload, workloads

SYSTEMS = ("erp", "qms", "mes", "wms")
HEADERS = {"Content-Type": "application/json"}
WORKLOADS = ("shipment", "shipments")
COUNTS = (1, 2)


@dataclass
class Runs:
    rps: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    shares: list[list[float]] = field(default_factory=list)
    """Per run, each worker's share of the gateway's CPU, largest first."""


def _workers(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cpu(pids: Sequence[int]) -> list[float]:
    return [cpu_seconds(pid) for pid in pids]


@contextlib.contextmanager
def _gateway(plant_url: str, workdir: Path, workers: int) -> Iterator[Launched]:
    env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant_url}/{s}" for s in SYSTEMS}
    env |= {"LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "0"}
    env |= {"LOTGRAPH_METRICS_SAMPLE_INTERVAL": "600", "LOTGRAPH_WORKERS": str(workers)}
    env |= {"LOTGRAPH_STORE": "redis", "LOTGRAPH_BUS": "redis", "LOTGRAPH_REDIS_URL": "redis://127.0.0.1:6379/0"}
    env |= {"LOTGRAPH_REDIS_PREFIX": f"bench-workers-{uuid.uuid4().hex[:8]}:"}
    env |= {"LOTGRAPH_DATA_DIR": str(workdir / f"workers-{workers}")}
    process = gateway(env, log=workdir / f"lotgraph-{workers}-workers.log")
    try:
        yield process
    finally:
        process.stop()
        _forget(env["LOTGRAPH_REDIS_PREFIX"])


def _forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def measure(
    plant_url: str,
    workdir: Path,
    sample: Sample,
    *,
    rounds: int,
    duration: float,
    connections: int,
    log: Callable[[str], None],
) -> str:
    """The table of one worker against two, on the workloads of ``WORKLOADS``."""
    chosen = [w for w in workloads(sample) if w.name in WORKLOADS]
    results = {(n, w.name): Runs() for n in COUNTS for w in chosen}
    with contextlib.ExitStack() as stack:
        gateways = {n: stack.enter_context(_gateway(plant_url, workdir, n)) for n in COUNTS}
        for round_no in range(rounds):
            for n in COUNTS if round_no % 2 == 0 else COUNTS[::-1]:
                process = gateways[n]
                pids = [process.pid, *_workers(process.pid)]
                for workload in chosen:
                    log(f"workers: round {round_no + 1}/{rounds}, {n} worker(s), {workload.name}")
                    url, body = f"{process.url}/graphql", json.dumps(workload.body())

                    def run(seconds: float, url: str = url, body: str = body) -> WrkResult:
                        return run_wrk(
                            url, method="POST", body=body, headers=HEADERS, connections=connections,
                            duration_s=seconds, request_timeout_s=30,
                        )  # fmt: skip

                    run(1)
                    before = _cpu(pids)
                    load = run(duration)
                    spent = [after - first for after, first in zip(_cpu(pids), before, strict=True)]
                    got = results[(n, workload.name)]
                    got.rps.append(load.rps)
                    if load.requests:
                        got.cpu_ms.append(1000 * sum(spent) / load.requests)
                    workers = spent[1:] if n > 1 else spent
                    got.shares.append(sorted((s / sum(workers) for s in workers), reverse=True) if sum(workers) else [])
    return _table(chosen, results)


def _table(chosen: Sequence[Workload], results: dict[tuple[int, str], Runs]) -> str:
    rows = []
    for workload in chosen:
        name, title = workload.name, workload.title
        one = statistics.mean(results[(1, name)].rps)
        for n in COUNTS:
            got = results[(n, name)]
            rps = statistics.mean(got.rps)
            shares = [statistics.mean(column) for column in zip(*got.shares, strict=True)] if got.shares else []
            split = " / ".join(f"{100 * s:.0f} %" for s in shares) if n > 1 else "—"
            rows.append([title, n, f"{rps:,.0f}", f"{rps / one:.2f}", f"{statistics.mean(got.cpu_ms):.2f}", split])
    headers = ["workload", "workers", "req/s", "/ one worker", "CPU ms/req", "CPU split between workers"]
    return markdown_table(headers, rows, ["l", "r", "r", "r", "r", "l"])
