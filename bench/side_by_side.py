"""lotgraph against the peer gateway (Hive Gateway) on every workload of bench/workloads.py, in one run.

Both serve the same generated plant (``lotgraph plant``, its own process). For each plant latency (0 and 20 ms,
set on the four systems through the admin API) and each round, the contestants take turns (the order alternates
between rounds, so neither always runs on a warmer machine): for each workload, a warm-up run, then a wrk run
with the CPU time of the contestant's processes (the gateway and its workers) counted over it. Upstream requests
per query come from the plant's counters for one request of each workload. Figures of the rounds are averaged
(requests per second, CPU ms per request) or their worst kept (p99).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import peer
from bench.harness import cpu_seconds, http_request, markdown_table, run_wrk
from bench.launch import Launched, gateway, plant
from bench.workloads import Workload, sample_ids, workloads

SYSTEMS = ("erp", "qms", "mes", "wms")
HEADERS = {"Content-Type": "application/json"}
LATENCIES_MS = (0, 20)


@dataclass(frozen=True)
class Contestant:
    name: str
    process: Launched
    body: Callable[[Workload], dict[str, object] | None]
    """The request body of a workload for this contestant; None when it cannot express it."""


@dataclass
class Figures:
    rps: list[float]
    cpu_ms: list[float]
    p50_ms: list[float]
    p99_ms: list[float]
    errors: int = 0
    upstream: str = ""


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its children that are alive (a gateway's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def _upstream(plant_url: str) -> str:
    counts = {s: sum(http_request(f"{plant_url}/{s}/admin/stats").json()["requests"].values()) for s in SYSTEMS}
    return " ".join(f"{s} {n}" for s, n in counts.items() if n) or "none"


def _set_latency(plant_url: str, latency_ms: int) -> None:
    for system in SYSTEMS:
        body = json.dumps({"latency_ms": latency_ms})
        http_request(f"{plant_url}/{system}/admin/faults", method="PUT", body=body, headers=HEADERS)


def _ask(url: str, body: dict[str, object]) -> None:
    answer = http_request(url, method="POST", body=json.dumps(body), headers=HEADERS, timeout_s=60).json()
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{url} answered errors: {str(answer.get('errors'))[:300]}")


def upstream_requests(contestant: Contestant, workload: Workload, plant_url: str) -> str | None:
    """The plant's count of upstream requests for one request of ``workload``, after a first one (caches warm);
    taken before any load runs, so that no request in flight is counted with it."""
    body = contestant.body(workload)
    if body is None:
        return None
    url = f"{contestant.process.url}/graphql"
    _ask(url, body)
    for system in SYSTEMS:
        http_request(f"{plant_url}/{system}/admin/stats/reset", method="POST")
    _ask(url, body)
    return _upstream(plant_url)


def measure(contestant: Contestant, workload: Workload, figures: Figures, *, duration: float, connections: int) -> None:
    body = contestant.body(workload)
    if body is None:
        return
    url = f"{contestant.process.url}/graphql"
    wrk = {"method": "POST", "body": json.dumps(body), "headers": HEADERS, "connections": connections}
    run_wrk(url, duration_s=1, request_timeout_s=30, **wrk)  # type: ignore[arg-type]
    before = _tree_cpu(contestant.process.pid)
    load = run_wrk(url, duration_s=duration, request_timeout_s=30, **wrk)  # type: ignore[arg-type]
    cpu = _tree_cpu(contestant.process.pid) - before
    figures.rps.append(load.rps)
    if load.requests:
        figures.cpu_ms.append(1000 * cpu / load.requests)
        figures.p50_ms.append(load.p50_ms)
        figures.p99_ms.append(load.p99_ms)
    figures.errors += load.error_count


def table(names: Sequence[str], titles: Sequence[str], results: dict[tuple[str, str], Figures]) -> str:
    """One row per workload: each contestant's req/s, CPU ms/request, p50/p99, and the ratio lotgraph / peer."""
    headers = ["workload"]
    for name in names:
        headers += [f"{name} req/s", f"{name} CPU ms/req", f"{name} p50 / p99 ms", f"{name} upstream requests"]
    headers.append(f"{names[0]} / {names[1]} req/s")
    rows: list[list[object]] = []
    for title in titles:
        row: list[object] = [title]
        rps: list[float] = []
        for name in names:
            got = results.get((name, title))
            if got is None or not got.cpu_ms:
                row += ["—" if got is None else "no answer in time", "—", "—", got.upstream if got else "—"]
                continue
            rps.append(statistics.mean(got.rps))
            p50, p99 = statistics.mean(got.p50_ms), max(got.p99_ms)
            errors = f" ({got.errors} errors)" if got.errors else ""
            row += [f"{rps[-1]:,.0f}{errors}", f"{statistics.mean(got.cpu_ms):.2f}", f"{p50:.1f} / {p99:.1f}"]
            row.append(got.upstream)
        row.append(f"{rps[0] / rps[1]:.2f}" if len(rps) == 2 and rps[1] else "—")
        rows.append(row)
    return markdown_table(headers, rows)


@dataclass(frozen=True)
class Measured:
    """The figures of every workload and contestant at one plant latency."""

    latency_ms: int
    note: str
    names: list[str]
    titles: list[str]
    results: dict[tuple[str, str], Figures]

    def markdown(self) -> str:
        return f"### Plant at {self.latency_ms} ms\n\n{self.note}\n\n" + table(self.names, self.titles, self.results)


def run(
    workdir: Path, *, lots: int, rounds: int, duration: float, connections: int, log: Callable[[str], None]
) -> list[Measured]:
    """Every workload, both contestants, at each plant latency."""
    from plant.generator import generate

    manifest = generate(workdir / "plant", seed=7, lots=lots)
    home = peer.install()
    with contextlib.ExitStack() as stack:
        the_plant = _started(stack, plant(workdir / "plant", log=workdir / "plant.log"))
        search = json.dumps({"status": ["PLANNED", "IN_PROGRESS", "SHIPPED"], "limit": 50})
        found = http_request(f"{the_plant.url}/erp/shipments/search", method="POST", body=search, headers=HEADERS)
        items = found.json()["items"]
        sample = sample_ids(manifest, items[0]["lines"][0]["lots"][0]["lot_id"], [s["id"] for s in items])
        env = {f"LOTGRAPH_{s.upper()}_URL": f"{the_plant.url}/{s}" for s in SYSTEMS}
        env |= {"LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "0"}
        env |= {"LOTGRAPH_DATA_DIR": str(workdir / "gateway"), "LOTGRAPH_WORKERS": "1"}
        env |= {"LOTGRAPH_METRICS_SAMPLE_INTERVAL": "600"}  # its reads of the plant would count with the workloads
        ours = _started(stack, gateway(env, log=workdir / "lotgraph.log"))
        theirs = _started(stack, peer.serve(home, peer.compose(home, the_plant.url), workdir / "hive.log"))
        contestants = [
            Contestant("lotgraph", ours, lambda w: dict(w.body())),
            Contestant("Hive Gateway", theirs, lambda w: dict(b) if (b := w.peer_body()) else None),
        ]
        titles = [w.title for w in workloads(sample)]
        upstream = {
            (c.name, w.title): upstream_requests(c, w, the_plant.url) for c in contestants for w in workloads(sample)
        }
        sections: list[Measured] = []
        for latency in LATENCIES_MS:
            _set_latency(the_plant.url, latency)
            results = {key: Figures([], [], [], [], upstream=count) for key, count in upstream.items() if count}
            for round_no in range(rounds):
                order = contestants if round_no % 2 == 0 else contestants[::-1]
                for contestant in order:
                    for workload in workloads(sample):
                        if contestant.body(workload) is None:
                            continue
                        log(f"plant {latency} ms, round {round_no + 1}/{rounds}: {contestant.name}, {workload.name}")
                        got = results[(contestant.name, workload.title)]
                        measure(contestant, workload, got, duration=duration, connections=connections)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            note = (
                f"wrk 1 thread x {connections} connections, {duration:g} s per run, {rounds} alternating rounds; "
                f"load average after: {load}"
            )
            sections.append(Measured(latency, note, [c.name for c in contestants], titles, results))
    return sections


def _started(stack: contextlib.ExitStack, process: Launched) -> Launched:
    stack.callback(process.stop)
    return process
