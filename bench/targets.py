"""The targets of ``python -m bench all`` and their verdicts: met, not met (with the figure), or not measured.

Pure functions over the figures the run measured (``Figures``), so that the verdicts are tested without a
benchmark (tests/unit/test_bench_targets.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.harness import markdown_table

PEER_RATIO = 1.5
LIST_RATIO = 2.0
LIST_CPU_MS = 9.0
READINESS_CPU_MS = 1.0
READINESS_OVERHEAD_MS = 5.0
TRACE_SECONDS = 1.0
FANOUT_RATIO = 1.2
TAIL_RATIO = 3.0


@dataclass
class Figures:
    """What the run measured, by plant latency (ms) and workload title where it applies."""

    peer_ratio: dict[tuple[int, str], float] = field(default_factory=dict)
    """lotgraph req/s / Hive Gateway req/s, for every workload Hive can express."""
    rest_ratio: dict[tuple[int, str], float] = field(default_factory=dict)
    """The plain REST client's req/s / Hive Gateway's: what composing by hand reaches on the same plant (at 20 ms
    every contestant waits on the plant's latency, and this says how far anyone could go)."""
    list_title: str = ""
    list_cpu_ms: dict[int, float] = field(default_factory=dict)
    readiness_cpu_ms: dict[int, float] = field(default_factory=dict)
    readiness_overhead_p50_ms: float | None = None
    readiness_upstream_ms: int = 50
    trace_seconds: float | None = None
    trace_lots: int = 0
    fanout_p99_ms: float | None = None
    ceiling_p99_ms: float | None = None
    subscribers: int = 0
    burst: int = 0
    one_connection: dict[str, tuple[float, float]] = field(default_factory=dict)
    """lotgraph's (p50, p99) ms at one connection, by workload."""
    upstream: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Upstream requests per query by workload: (lotgraph's, the REST client's)."""


@dataclass(frozen=True)
class Verdict:
    target: str
    figure: str
    met: bool | None
    """None: not measured in this run."""

    @property
    def word(self) -> str:
        return "not measured" if self.met is None else "met" if self.met else "**not met**"


def upstream_total(cell: str) -> int:
    """The number of requests in a cell such as ``erp 2 qms 1`` (``none``: 0)."""
    words = cell.split()
    return sum(int(word) for word in words[1::2]) if cell != "none" else 0


def _ratio_verdicts(f: Figures) -> list[Verdict]:
    found = []
    for (latency, title), ratio in sorted(f.peer_ratio.items()):
        limit = LIST_RATIO if title == f.list_title else PEER_RATIO
        target = f"{title}, plant at {latency} ms: lotgraph ≥ {limit:g}x Hive Gateway's req/s"
        rest = f.rest_ratio.get((latency, title))
        figure = f"{ratio:.2f}x" if rest is None else f"{ratio:.2f}x (REST client {rest:.2f}x)"
        found.append(Verdict(target, figure, ratio >= limit))
    for latency, cpu in sorted(f.list_cpu_ms.items()):
        target = f"{f.list_title}, plant at {latency} ms: CPU ≤ {LIST_CPU_MS:g} ms per request"
        found.append(Verdict(target, f"{cpu:.2f} ms", cpu <= LIST_CPU_MS))
    return found


def _readiness_verdicts(f: Figures) -> list[Verdict]:
    found = [
        Verdict(
            f"shipment readiness, plant at {latency} ms: gateway CPU ≤ {READINESS_CPU_MS:g} ms per decision",
            f"{cpu:.2f} ms",
            cpu <= READINESS_CPU_MS,
        )
        for latency, cpu in sorted(f.readiness_cpu_ms.items())
    ]
    target = (
        f"shipment readiness: overhead over the critical path ≤ {READINESS_OVERHEAD_MS:g} ms at p50 with "
        f"{f.readiness_upstream_ms} ms upstreams"
    )
    overhead = f.readiness_overhead_p50_ms
    if overhead is None:
        return [*found, Verdict(target, "—", None)]
    return [*found, Verdict(target, f"{overhead:.1f} ms", overhead <= READINESS_OVERHEAD_MS)]


def _other_verdicts(f: Figures) -> list[Verdict]:
    found = []
    target = f"{f.trace_lots:,}-lot forward trace with dispositions, plant at 0 ms: ≤ {TRACE_SECONDS:g} s end to end"
    if f.trace_seconds is None:
        found.append(Verdict(target, "—", None))
    else:
        found.append(Verdict(target, f"{f.trace_seconds:.2f} s", f.trace_seconds <= TRACE_SECONDS))
    target = (
        f"{f.subscribers:,} subscribers, burst of {f.burst} events: p99 to all ≤ {FANOUT_RATIO:g}x the plain "
        "broadcast's"
    )
    if f.fanout_p99_ms is None or not f.ceiling_p99_ms:
        found.append(Verdict(target, "—", None))
    else:
        ratio = f.fanout_p99_ms / f.ceiling_p99_ms
        figure = f"{f.fanout_p99_ms:,.0f} / {f.ceiling_p99_ms:,.0f} ms = {ratio:.2f}x"
        found.append(Verdict(target, figure, ratio <= FANOUT_RATIO))
    for title, (p50, p99) in f.one_connection.items():
        target = f"{title}, one connection: p99 ≤ {TAIL_RATIO:g}x p50"
        found.append(Verdict(target, f"{p50:.2f} / {p99:.2f} ms", p99 <= TAIL_RATIO * p50))
    for title, (ours, reference) in f.upstream.items():
        target = f"{title}: upstream requests per query no more than the REST client's"
        found.append(Verdict(target, f"{ours} / {reference}", ours <= reference))
    return found


def verdicts(f: Figures) -> list[Verdict]:
    return [*_ratio_verdicts(f), *_readiness_verdicts(f), *_other_verdicts(f)]


def table(found: list[Verdict]) -> str:
    return markdown_table(["target", "figure", "verdict"], [[v.target, v.figure, v.word] for v in found])


def upstream_pairs(
    cells: Mapping[tuple[str, str], str | None], ours: str, reference: str
) -> dict[str, tuple[int, int]]:
    """(lotgraph's, the reference's) upstream requests by workload title, from ``{(contestant, title): cell}``."""
    pairs = {}
    for (name, title), cell in cells.items():
        other = cells.get((reference, title))
        if name == ours and cell is not None and other is not None:
            pairs[title] = (upstream_total(cell), upstream_total(other))
    return pairs
