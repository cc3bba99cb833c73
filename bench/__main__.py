"""``python -m bench all``: lotgraph side by side with the peer gateway on every workload, into docs/benchmarks.md.

It refuses to measure while the machine's load average (1 minute) is above 1: the figures would say more about
the other work than about the gateways. ``--allow-busy`` measures anyway, for development runs: the output and the
tables then say so in capitals, and such tables are not to be committed as figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from bench import side_by_side
from bench.harness import REPO_ROOT, machine_description, require_wrk
from bench.plots import bars

MAX_LOAD = 1.0
DOC = REPO_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- python -m bench all: begin -->", "<!-- python -m bench all: end -->"
BUSY = "DEVELOPMENT RUN ON A BUSY MACHINE (load average {load:.2f} > {limit:g}): NOT COMPARABLE FIGURES"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    every = commands.add_parser("all", help="every workload, lotgraph and the peer gateway, at 0 and 20 ms")
    every.add_argument("--lots", type=int, default=2000, help="lots in the generated plant (default 2000)")
    every.add_argument("--rounds", type=int, default=2, help="alternating rounds per plant latency (default 2)")
    every.add_argument("--duration", type=float, default=10.0, help="seconds of wrk per run (default 10)")
    every.add_argument("--connections", type=int, default=20, help="wrk connections (default 20)")
    every.add_argument("--output", type=Path, default=DOC, help="the Markdown file whose tables are replaced")
    every.add_argument("--allow-busy", action="store_true", help=f"measure even with a load average above {MAX_LOAD:g}")
    args = parser.parse_args(argv)
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
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        measured = side_by_side.run(
            Path(tmp),
            lots=args.lots,
            rounds=args.rounds,
            duration=args.duration,
            connections=args.connections,
            log=lambda line: print(line, flush=True),
        )
    sections = []
    for one in measured:
        plot = args.output.parent / "plots" / f"side-by-side-{one.latency_ms}ms.png"
        bars(one, plot)
        sections.append(f"{one.markdown()}\n\n![{one.latency_ms} ms]({plot.relative_to(args.output.parent)})")
    tables = "\n\n".join(sections)
    header = f"Machine: {machine_description(['strawberry-graphql', 'graphql-core', 'uvicorn', 'aiohttp'])}."
    if busy:
        header = f"**{BUSY.format(load=load, limit=MAX_LOAD)}**\n\n{header}"
    write_tables(args.output, f"{header}\n\n{tables}")
    print(tables)
    print(f"\nwritten to {args.output}")
    return 0


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
