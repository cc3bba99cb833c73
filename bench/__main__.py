"""``python -m bench all``: every table of issue 16 in one run, into docs/benchmarks.md (docs/benchmarks.md says what).

It refuses to measure while the machine's load average (1 minute) is above 1: the figures would say more about
the other work than about the gateways. ``--allow-busy`` measures anyway, for development runs: the output and the
tables then say so in capitals, and such tables are not to be committed as figures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import more_workloads, side_by_side, targets, workers
from bench.harness import REPO_ROOT, machine_description, require_wrk
from bench.plots import bars
from bench.workloads import Sample, workloads

SAMPLE = Sample("", "", [])
"""Ids do not matter where only the workloads' names and titles are read."""
MAX_LOAD = 1.0
DOC = REPO_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- python -m bench all: begin -->", "<!-- python -m bench all: end -->"
BUSY = "DEVELOPMENT RUN ON A BUSY MACHINE (load average {load:.2f} > {limit:g}): NOT COMPARABLE FIGURES"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    every = commands.add_parser("all", help="every workload of issue 16, every contestant, at 0 and 20 ms")
    every.add_argument("--lots", type=int, default=2000, help="lots in the generated plant (default 2000)")
    every.add_argument("--rounds", type=int, default=2, help="alternating rounds per plant latency (default 2)")
    every.add_argument("--duration", type=float, default=5.0, help="seconds of wrk per run (default 5)")
    every.add_argument("--connections", type=int, default=20, help="wrk connections (default 20)")
    every.add_argument("--trace-lots", type=int, default=200_000, help="lots of the trace's plant (default 200,000)")
    every.add_argument("--trace-runs", type=int, default=3, help="forward traces measured (default 3)")
    every.add_argument("--hold-samples", type=int, default=30, help="placeHold/releaseHold pairs (default 30)")
    every.add_argument("--readiness-samples", type=int, default=30, help="readiness at 50 ms (default 30)")
    every.add_argument("--subscribers", type=int, default=1000, help="fan-out subscribers (default 1000)")
    every.add_argument("--burst", type=int, default=10, help="fan-out burst of events (default 10)")
    every.add_argument("--output", type=Path, default=DOC, help="the Markdown file whose tables are replaced")
    every.add_argument("--allow-busy", action="store_true", help=f"measure even with a load average above {MAX_LOAD:g}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    load = os.getloadavg()[0]
    busy = load > MAX_LOAD
    if busy and not args.allow_busy:
        print(
            f"bench: the load average is {load:.2f} (above {MAX_LOAD:g}): not measuring on a busy machine. "
            "Wait for a quiet machine, or pass --allow-busy for a development run.",
            file=sys.stderr,
        )
        return 2
    if busy:
        print(BUSY.format(load=load, limit=MAX_LOAD), flush=True)
    require_wrk()
    if importlib.util.find_spec("matplotlib") is None:
        print("bench: the plots need matplotlib: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    started = time.monotonic()
    sections, figures = measure_everything(args, log=lambda line: print(line, flush=True))
    header = f"Machine: {machine_description(['strawberry-graphql', 'graphql-core', 'uvicorn', 'aiohttp'])}."
    header += f" Load average (1 min) at the start {load:.2f}, at the end {os.getloadavg()[0]:.2f}."
    header += f" The whole run took {(time.monotonic() - started) / 60:.1f} minutes."
    if busy:
        header = f"**{BUSY.format(load=load, limit=MAX_LOAD)}**\n\n{header}"
    verdicts = f"### Targets\n\n{targets.table(targets.verdicts(figures))}"
    text = "\n\n".join([header, verdicts, *sections])
    write_tables(args.output, text)
    print(text)
    print(f"\nwritten to {args.output}")
    return 0


def measure_everything(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[list[str], targets.Figures]:
    """Every table of the run (Markdown sections) and the figures the targets are judged on."""
    figures = targets.Figures()
    sections = []
    work = Path(tempfile.mkdtemp(prefix="bench-all-"))
    with _kept_on_failure(work), contextlib.ExitStack() as stack:
        ready = side_by_side.setup(stack, work, lots=args.lots)
        measured = side_by_side.run(
            ready, rounds=args.rounds, duration=args.duration, connections=args.connections, log=log
        )
        for one in measured:
            plot = args.output.parent / "plots" / f"side-by-side-{one.latency_ms}ms.png"
            bars(one, plot)
            sections.append(f"{one.markdown()}\n\n![{one.latency_ms} ms]({plot.relative_to(args.output.parent)})")
            _side_by_side_figures(one, figures)
        gateway = ready.contestants[0].process.url
        shipment_ids = list(ready.sample.shipment_ids)
        table, figures.readiness_overhead_p50_ms = more_workloads.readiness_overhead(
            ready.plant_url, gateway, ready.sample.shipment_id, shipment_ids, latency_ms=figures.readiness_upstream_ms,
            samples=args.readiness_samples, log=log,
        )  # fmt: skip
        sections.append(
            f"### Shipment readiness with {figures.readiness_upstream_ms} ms upstreams\n\n"
            "One request at a time through lotgraph, and the same upstream requests made directly in lotgraph's two "
            f"parallel steps (the reference; `bench/readiness.py`):\n\n{table}"
        )
        table = workers.measure(
            ready.plant_url, work, ready.sample, rounds=args.rounds, duration=args.duration,
            connections=args.connections, log=log,
        )  # fmt: skip
        sections.append(
            "### One worker and two\n\n`lotgraph serve --workers 1` and `--workers 2` (Redis store and bus, each "
            "worker on its own `SO_REUSEPORT` socket of one port; `bench/workers.py`), plant at 0 ms, wrk 1 thread x "
            f"{args.connections} connections, {args.duration:g} s per run, {args.rounds} alternating rounds. The plant "
            "and wrk share the two cores: the split shows each worker's share of the gateway's CPU.\n\n" + table
        )
        table = more_workloads.holds_table(ready.plant, ready.plant_dir, gateway, samples=args.hold_samples, log=log)
        sections.append(
            "### placeHold and releaseHold\n\n"
            f"One lot per command, one command at a time, plant at 0 ms, through lotgraph (SQLite store) and as the "
            "same upstream commands sent directly (the reference: hold then block; release then unblock; "
            f"`bench/holds.py`); upstream requests counted by the plant for one command:\n\n{table}"
        )
        fanout = more_workloads.fanout(
            ready.plant, work, subscribers=args.subscribers, burst=args.burst, clients=4, log=log
        )
        sections.append(
            f"### Subscription fan-out\n\n{args.subscribers:,} WebSocket subscribers over 4 client processes, a "
            f'burst of {args.burst} hold events (`bench/subscriptions.py`); "to all": until an event\'s last '
            f"subscriber had it:\n\n{fanout.markdown()}"
        )
        figures.subscribers, figures.burst = args.subscribers, args.burst
        figures.fanout_p99_ms, figures.ceiling_p99_ms = (r.all_p99 for r in fanout.results)
    trace = more_workloads.trace(lots=args.trace_lots, runs=args.trace_runs, log=log)
    figures.trace_seconds, figures.trace_lots = trace.median.seconds, trace.lots
    sections.append(
        f"### Forward trace with dispositions\n\nThe widest raw lot of a {args.trace_lots:,}-lot plant, its "
        f"forward trace with every lot's disposition (`bench/genealogy.py`, `dispositions`), one request after a "
        f"warm-up one, plant at 0 ms, master-data caches cold; the median of {args.trace_runs} runs:\n\n"
        f"{trace.markdown()}"
    )
    return sections, figures


@contextlib.contextmanager
def _kept_on_failure(work: Path) -> Iterator[None]:
    """Remove ``work`` once the block succeeds; keep it (the servers' logs) and say where if it fails."""
    try:
        yield
    except BaseException:
        print(f"bench: the servers' logs are kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)


def _side_by_side_figures(one: side_by_side.Measured, figures: targets.Figures) -> None:
    titles = {w.name: w.title for w in workloads(SAMPLE)}
    figures.list_title = titles["shipments"]
    for title in one.titles:
        ours = side_by_side.rps_of(one.results, "lotgraph", title)
        theirs = side_by_side.rps_of(one.results, side_by_side.PEER, title)
        rest = side_by_side.rps_of(one.results, "REST client", title)
        if ours is not None and theirs:
            figures.peer_ratio[(one.latency_ms, title)] = ours / theirs
            if rest is not None:
                figures.rest_ratio[(one.latency_ms, title)] = rest / theirs
    for name, into in (("shipments", figures.list_cpu_ms), ("readiness", figures.readiness_cpu_ms)):
        got = one.results.get(("lotgraph", titles[name]))
        if got is not None and got.cpu_ms:
            into[one.latency_ms] = statistics.mean(got.cpu_ms)
    for title, single in one.one_connection.items():
        if single.p50_ms:
            figures.one_connection[title] = (statistics.mean(single.p50_ms), max(single.p99_ms))
    if one.latency_ms == 0:
        cells = {key: got.upstream for key, got in one.results.items()}
        figures.upstream = targets.upstream_pairs(cells, "lotgraph", "REST client")


def write_tables(path: Path, section: str) -> None:
    """Replace what is between the markers in ``path`` (or append a section with them)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = (
            text.rstrip("\n") + "\n\n## Side by side with the peer gateway (`python -m bench all`)\n\n" + block + "\n"
        )
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
