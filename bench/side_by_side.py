"""lotgraph against the peer gateway (Hive Gateway), the plain REST client and the Starlette ceiling on every
workload of bench/workloads.py, in one run.

- **lotgraph**: ``lotgraph serve``, one worker. The lot workload is asked of a second ``lotgraph serve`` whose MES
  master-data cache is off (``LOTGRAPH_MES_CACHE_TTL=0``), so that it asks the MES each time as the others do; the
  other workloads of the first, with its defaults (with that cache off they would ask the MES for the lots' master
  records, which the others do not read).
- **Hive Gateway**: bench/peer.py, over the plant's OpenAPI documents.
- **REST client**: bench/rest_client.py, the same upstream requests made by hand and the same JSON assembled.
- **Starlette ceiling**: ``bench.apps:ceilings``, each workload's answer (lotgraph's, captured at start) canned.

All serve the same generated plant (``lotgraph plant``, its own process), each under uvicorn with one worker. For
each plant latency (0 and 20 ms, set on the four systems through the admin API) and each round, the contestants take
turns (the order alternates between rounds, so none always runs on a warmer machine): for each workload, a warm-up
run, then a wrk run with the CPU time of the contestant's processes (the gateway and its workers) counted over it.
Upstream requests per query come from the plant's counters for one request of each workload. Figures of the rounds are
averaged (requests per second, CPU ms per request) or their worst kept (p99). At 0 ms, lotgraph is also measured at one
connection (p99 against p50). The REST client's answers are checked against lotgraph's before any load runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import peer
from bench.harness import cpu_seconds, http_request, markdown_table, run_wrk, serve
from bench.launch import Launched, gateway, plant
from bench.workloads import Sample, Workload, sample_ids, workloads

SYSTEMS = ("erp", "qms", "mes", "wms")
HEADERS = {"Content-Type": "application/json"}
LATENCIES_MS = (0, 20)


def _graphql(workload: Workload) -> str:
    return "/graphql"


@dataclass(frozen=True)
class Contestant:
    name: str
    process: Launched
    body: Callable[[Workload], dict[str, object] | None]
    """The request body of a workload for this contestant; None when it cannot express it."""
    path: Callable[[Workload], str] = _graphql
    """Where a workload is asked (POST)."""
    by_workload: dict[str, Launched] = field(default_factory=dict)
    """The process that serves a workload (by name) instead of ``process``."""

    def server(self, workload: Workload) -> Launched:
        return self.by_workload.get(workload.name, self.process)

    def url(self, workload: Workload) -> str:
        return self.server(workload).url + self.path(workload)


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


def _ask(url: str, body: dict[str, object]) -> dict[str, object]:
    answer: dict[str, object] = http_request(
        url, method="POST", body=json.dumps(body), headers=HEADERS, timeout_s=60
    ).json()
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{url} answered errors: {str(answer.get('errors'))[:300]}")
    return answer


def upstream_requests(contestant: Contestant, workload: Workload, plant_url: str) -> str | None:
    """The plant's count of upstream requests for one request of ``workload``, after a first one (caches warm);
    taken before any load runs, so that no request in flight is counted with it."""
    body = contestant.body(workload)
    if body is None:
        return None
    url = contestant.url(workload)
    _ask(url, body)
    for system in SYSTEMS:
        http_request(f"{plant_url}/{system}/admin/stats/reset", method="POST")
    _ask(url, body)
    return _upstream(plant_url)


def measure(contestant: Contestant, workload: Workload, figures: Figures, *, duration: float, connections: int) -> None:
    body = contestant.body(workload)
    if body is None:
        return
    url, pid = contestant.url(workload), contestant.server(workload).pid
    wrk = {"method": "POST", "body": json.dumps(body), "headers": HEADERS, "connections": connections}
    run_wrk(url, duration_s=1, request_timeout_s=30, **wrk)  # type: ignore[arg-type]
    before = _tree_cpu(pid)
    load = run_wrk(url, duration_s=duration, request_timeout_s=30, **wrk)  # type: ignore[arg-type]
    cpu = _tree_cpu(pid) - before
    figures.rps.append(load.rps)
    if load.requests:
        figures.cpu_ms.append(1000 * cpu / load.requests)
        figures.p50_ms.append(load.p50_ms)
        figures.p99_ms.append(load.p99_ms)
    figures.errors += load.error_count


PEER = "Hive Gateway"


def rps_of(results: dict[tuple[str, str], Figures], name: str, title: str) -> float | None:
    got = results.get((name, title))
    return statistics.mean(got.rps) if got is not None and got.cpu_ms else None


def table(names: Sequence[str], titles: Sequence[str], results: dict[tuple[str, str], Figures]) -> str:
    """One row per workload and contestant: req/s, its ratio to the peer's, CPU ms/request, p50/p99, upstream."""
    headers = ["workload", "contestant", "req/s", f"/ {PEER} req/s", "CPU ms/req", "p50 / p99 ms", "upstream requests"]
    rows: list[list[object]] = []
    for title in titles:
        peer_rps = rps_of(results, PEER, title)
        for name in names:
            got = results.get((name, title))
            if got is None:
                continue
            rps = rps_of(results, name, title)
            if rps is None:
                rows.append([title, name, "no answer in time", "—", "—", "—", got.upstream])
                continue
            p50, p99 = statistics.mean(got.p50_ms), max(got.p99_ms)
            errors = f" ({got.errors} errors)" if got.errors else ""
            ratio = f"{rps / peer_rps:.2f}" if peer_rps else "—"
            cells = [f"{rps:,.0f}{errors}", ratio, f"{statistics.mean(got.cpu_ms):.2f}", f"{p50:.1f} / {p99:.1f}"]
            rows.append([title, name, *cells, got.upstream])
    return markdown_table(headers, rows, ["l", "l", "r", "r", "r", "r", "l"])


@dataclass(frozen=True)
class Measured:
    """The figures of every workload and contestant at one plant latency."""

    latency_ms: int
    note: str
    names: list[str]
    titles: list[str]
    results: dict[tuple[str, str], Figures]
    one_connection: dict[str, Figures] = field(default_factory=dict)
    """lotgraph's figures at one connection, by workload title (measured at 0 ms only)."""

    def markdown(self) -> str:
        text = f"### Plant at {self.latency_ms} ms\n\n{self.note}\n\n" + table(self.names, self.titles, self.results)
        if self.one_connection:
            rows = [
                [title, f"{statistics.mean(f.p50_ms):.2f}", f"{max(f.p99_ms):.2f}",
                 f"{max(f.p99_ms) / statistics.mean(f.p50_ms):.1f}"]
                for title, f in self.one_connection.items() if f.p50_ms
            ]  # fmt: skip
            one = markdown_table(["workload", "p50 ms", "p99 ms", "p99 / p50"], rows, ["l", "r", "r", "r"])
            text += f"\n\nlotgraph at one connection (wrk 1 thread x 1 connection, same duration):\n\n{one}"
        return text


@dataclass(frozen=True)
class Setup:
    """What the run started: the plant, the sample, the contestants."""

    plant: Launched
    plant_dir: Path
    sample: Sample
    contestants: list[Contestant]

    @property
    def plant_url(self) -> str:
        return self.plant.url


def _contestants(stack: contextlib.ExitStack, workdir: Path, plant_url: str, sample: Sample) -> list[Contestant]:
    env = {f"LOTGRAPH_{s.upper()}_URL": f"{plant_url}/{s}" for s in SYSTEMS}
    env |= {"LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_LEVEL": "warning", "LOTGRAPH_LIMITS_RATE": "0"}
    env |= {"LOTGRAPH_DATA_DIR": str(workdir / "gateway"), "LOTGRAPH_WORKERS": "1"}
    env |= {"LOTGRAPH_METRICS_SAMPLE_INTERVAL": "600"}  # its reads of the plant would count with the workloads
    ours = _started(stack, gateway(env, log=workdir / "lotgraph.log"))
    uncached = env | {"LOTGRAPH_MES_CACHE_TTL": "0", "LOTGRAPH_DATA_DIR": str(workdir / "gateway-uncached")}
    ours_uncached = _started(stack, gateway(uncached, log=workdir / "lotgraph-uncached.log"))
    home = peer.install()
    theirs = _started(stack, peer.serve(home, peer.compose(home, plant_url), workdir / "hive.log"))
    rest = stack.enter_context(
        serve("bench.rest_client:app", factory=True, env={"BENCH_PLANT_URL": plant_url}, ready_path="/healthz")
    )
    canned = workdir / "ceiling"
    canned.mkdir()
    for workload in workloads(sample):
        url = (ours_uncached if workload.name == "lot" else ours).url + "/graphql"
        body = json.dumps(workload.body())
        answer = http_request(url, method="POST", body=body, headers=HEADERS, timeout_s=60).body
        (canned / f"{workload.name}.json").write_bytes(answer)
    ceiling = stack.enter_context(
        serve("bench.apps:ceilings", factory=True, env={"BENCH_CEILING_DIR": str(canned)}, ready_path="/healthz")
    )
    contestants = [
        Contestant("lotgraph", ours, lambda w: dict(w.body()), by_workload={"lot": ours_uncached}),
        Contestant(PEER, theirs, lambda w: dict(b) if (b := w.peer_body()) else None),
        Contestant("REST client", rest, lambda w: dict(w.variables), path=lambda w: f"/rest/{w.name}"),
        Contestant("Starlette ceiling", ceiling, lambda w: dict(w.body()), path=lambda w: f"/ceiling/{w.name}"),
    ]
    return contestants


def check_rest_client(contestants: Sequence[Contestant], sample: Sample) -> None:
    """The REST client must answer the data lotgraph answers (readiness: but for the time of the decision)."""
    ours, rest = contestants[0], contestants[2]
    for workload in workloads(sample):
        want = _ask(ours.url(workload), workload.body())["data"]
        got = _ask(rest.url(workload), dict(workload.variables))["data"]
        if workload.name == "readiness":
            for answer in (want, got):
                answer["shipmentReadiness"].pop("evaluatedAt")  # type: ignore[index]
        if want != got:
            raise RuntimeError(f"the REST client answers {workload.name} differently:\n{got}\nlotgraph:\n{want}")


def setup(stack: contextlib.ExitStack, workdir: Path, *, lots: int) -> Setup:
    """Generate the plant and start it and every contestant (stopped with ``stack``)."""
    from plant.generator import generate

    manifest = generate(workdir / "plant", seed=7, lots=lots)
    the_plant = _started(stack, plant(workdir / "plant", log=workdir / "plant.log"))
    search = json.dumps({"status": ["PLANNED", "IN_PROGRESS", "SHIPPED"], "limit": 50})
    found = http_request(f"{the_plant.url}/erp/shipments/search", method="POST", body=search, headers=HEADERS)
    items = found.json()["items"]
    sample = sample_ids(manifest, items[0]["lines"][0]["lots"][0]["lot_id"], [s["id"] for s in items])
    contestants = _contestants(stack, workdir, the_plant.url, sample)
    check_rest_client(contestants, sample)
    return Setup(the_plant, workdir / "plant", sample, contestants)


def run(ready: Setup, *, rounds: int, duration: float, connections: int, log: Callable[[str], None]) -> list[Measured]:
    """Every workload, every contestant, at each plant latency; lotgraph at one connection at 0 ms."""
    contestants, sample = ready.contestants, ready.sample
    titles = [w.title for w in workloads(sample)]
    upstream = {
        (c.name, w.title): upstream_requests(c, w, ready.plant_url) for c in contestants for w in workloads(sample)
    }
    sections: list[Measured] = []
    for latency in LATENCIES_MS:
        _set_latency(ready.plant_url, latency)
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
        single: dict[str, Figures] = {}
        if latency == 0:
            for workload in workloads(sample):
                log(f"plant 0 ms: lotgraph at one connection, {workload.name}")
                single[workload.title] = Figures([], [], [], [])
                measure(contestants[0], workload, single[workload.title], duration=duration, connections=1)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        note = (
            f"wrk 1 thread x {connections} connections, {duration:g} s per run, {rounds} alternating rounds; "
            f"load average after: {load}. lotgraph's lot workload is answered by a lotgraph with its MES "
            "master-data cache off (`LOTGRAPH_MES_CACHE_TTL=0`): it asks the MES each time, as the others do."
        )
        sections.append(Measured(latency, note, [c.name for c in contestants], titles, results, single))
    _set_latency(ready.plant_url, 0)
    return sections


def _started(stack: contextlib.ExitStack, process: Launched) -> Launched:
    stack.callback(process.stop)
    return process
