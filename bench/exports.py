"""Export benchmark: the forward trace of the bench plant's widest raw lot (~30,000 lots) as an EPCIS 2.0 document
and an FSMA 204 spreadsheet (CSV, XLSX), downloaded from the gateway.

Run from the repository root::

    python -m bench.exports                  # 200,000-lot plant (shared with bench.genealogy), 3 rounds
    python -m bench.exports --lots 20000 --rounds 1

The reference plant and the gateway each run in their own uvicorn process. Per format, the bench asks
``traceExport`` for the URL, then downloads it and records the time from the request to the first byte and to the
last, the size, and the gateway's resident memory (sampled every 5 ms from /proc during the download: its peak,
and how far above its level before the download that went). Beside it, the reference: the same trace answered as
GraphQL JSON (``lotGenealogy`` with every node and edge), which the gateway builds whole before it sends it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.genealogy import ENV_PLANT_DIR, gateway_env, wait_for_quiet
from bench.harness import http_request, machine_description, markdown_table, serve
from bench.launch import Launched

FORMATS = ("EPCIS", "FSMA_CSV", "FSMA_XLSX")
EXPORT = """query($lot: ID!, $format: ExportFormat!) {
  traceExport(lotId: $lot, format: $format, trace: LOT_GENEALOGY, direction: FORWARD, maxDepth: 30) { url } }"""
WALK = """query($lot: ID!) { lotGenealogy(lotId: $lot, direction: FORWARD, maxDepth: 30) {
  summary { lots } nodes { depth lot { id quantity uom } } edges { from to quantity uom workOrder occurredAt } } }"""


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """The highest resident set of a process while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.before, self.peak = pid, rss_kib(pid), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Download:
    case: str
    first_byte_s: float
    last_byte_s: float
    size: int
    rss_before_mib: float
    rss_peak_mib: float


def stream(url: str, body: bytes | None = None) -> tuple[float, float, int]:
    """Seconds to the first body byte and to the last, and the size, of one request (POST when there is a body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    started = time.perf_counter()
    first, size = 0.0, 0
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request("POST" if body else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status} {response.read()[:300]!r}")
        while chunk := response.read1(65536):
            if not size:
                first = time.perf_counter() - started
            size += len(chunk)
    finally:
        conn.close()
    return first, time.perf_counter() - started, size


def download(gateway: Launched, lot: str, case: str) -> Download:
    with PeakMemory(gateway.pid) as memory:
        if case == "GraphQL JSON (reference)":
            body = json.dumps({"query": WALK, "variables": {"lot": lot}}).encode()
            first, last, size = stream(f"{gateway.url}/graphql", body)
        else:
            started = time.perf_counter()
            asked = http_request(
                f"{gateway.url}/graphql",
                method="POST",
                body=json.dumps({"query": EXPORT, "variables": {"lot": lot, "format": case}}),
                headers={"Content-Type": "application/json"},
            ).json()
            url = asked["data"]["traceExport"]["url"]
            asked_s = time.perf_counter() - started
            first, last, size = stream(gateway.url + url)
            first, last = first + asked_s, last + asked_s
    return Download(case, first, last, size, memory.before / 1024, memory.peak / 1024)


def table(runs: list[list[Download]]) -> str:
    rows = []
    for group in runs:
        firsts, lasts = [r.first_byte_s for r in group], [r.last_byte_s for r in group]
        peak = max(r.rss_peak_mib for r in group)
        rise = max(r.rss_peak_mib - r.rss_before_mib for r in group)
        rows.append(
            [
                group[0].case,
                f"{statistics.median(firsts):.2f} ({min(firsts):.2f}-{max(firsts):.2f})",
                f"{statistics.median(lasts):.2f} ({min(lasts):.2f}-{max(lasts):.2f})",
                f"{group[0].size / 1e6:,.1f}",
                f"{peak:,.0f}",
                f"{rise:,.0f}",
            ]
        )
    headers = ["case", "first byte, s", "last byte, s", "size, MB", "gateway peak RSS, MiB", "rise, MiB"]
    return markdown_table(headers, rows, ["l", "r", "r", "r", "r", "r"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quiet-load", type=float, default=0.5, help="wait for a load average below this")
    args = parser.parse_args(argv)
    from plant.app import ensure_data

    data_dir = Path("data/bench") / f"genealogy-{args.lots}-seed{args.seed}"
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = ensure_data(data_dir, seed=args.seed, lots=args.lots)
    lot, reach = manifest["lots"]["raw_wide"], manifest["lots"]["raw_wide_reach"]
    runs: list[list[Download]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp,
        serve(
            "bench.genealogy:plant_app", factory=True, env={ENV_PLANT_DIR: str(data_dir)}, ready_path="/admin/manifest"
        ) as plant,
        serve(
            "bench.genealogy:gateway_app", factory=True, env=gateway_env(plant, Path(tmp)), ready_path="/healthz"
        ) as gateway,
    ):
        download(gateway, lot, "FSMA_CSV")  # warm-up: imports, connections, SQLite pages
        load_before = wait_for_quiet(args.quiet_load)
        for case in ("GraphQL JSON (reference)", *FORMATS):
            group = [download(gateway, lot, case) for _ in range(args.rounds)]
            print(f"  {case}: {group[-1].last_byte_s:.2f} s", file=sys.stderr, flush=True)
            runs.append(group)
        load_after = os.getloadavg()[0]
    print(f"Machine: {machine_description(['strawberry-graphql', 'uvicorn', 'aiohttp'])}")
    print(
        f"Plant: {args.lots:,} lots (seed {args.seed}); forward trace of {lot}: {reach + 1:,} lots; {args.rounds} "
        f"rounds (median, min-max); 1-minute load average {load_before:.2f} before and {load_after:.2f} after."
    )
    print()
    print(table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
