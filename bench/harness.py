"""Reusable pieces for lotgraph benchmarks.

Everything here targets this machine only: servers listen on 127.0.0.1 and the load generator refuses any
non-loopback URL. Every wait and every load run is bounded in time.

Typical use::

    with serve("bench.transport:upstream_app", factory=True, ready_path="/health") as upstream:
        run_wrk(f"{upstream.url}/health", duration_s=1)  # warm-up
        with measure_cpu(upstream.pid) as cpu:
            result = run_wrk(f"{upstream.url}/health", connections=20, duration_s=5)
        print(result.rps, result.p99_ms, cpu.ms_per_request(result.requests))
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.launch import LOOPBACK, Launched, LaunchError, answers, free_port, launch

REPO_ROOT = Path(__file__).resolve().parent.parent
WRK_INSTALL_HINT = (
    "wrk (HTTP load generator) is not installed. Install it with:\n"
    "    apt-get update && apt-get install -y wrk\n"
    "(Debian/Ubuntu package `wrk`), then run the benchmark again."
)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_WRK_MARKER = "BENCH_WRK_JSON "


class BenchError(RuntimeError):
    """A benchmark could not run (a server did not start, the load generator failed, ...)."""


class WrkNotFoundError(BenchError):
    """``wrk`` is not on PATH; the message says how to install it."""


# --------------------------------------------------------------------------------------------- addresses


def ensure_loopback(host: str) -> None:
    """Raise ``ValueError`` unless ``host`` is a loopback address (benchmarks never leave this machine)."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"benchmarks only target loopback addresses, not {host!r}")


# --------------------------------------------------------------------------------------------- CPU time


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far, from ``/proc/<pid>/stat``.

    Children are not included. The resolution is one clock tick (usually 10 ms): measure over seconds.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _CLOCK_TICKS


@dataclass
class CpuUsage:
    """CPU time one process used over a wall-clock interval; filled in when ``measure_cpu`` exits."""

    pid: int
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def utilization(self) -> float:
        """Cores busy on average (1.0 = one core fully used)."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def ms_per_request(self, requests: int) -> float:
        return 1000.0 * self.cpu_s / requests if requests > 0 else math.nan


@contextlib.contextmanager
def measure_cpu(pid: int) -> Iterator[CpuUsage]:
    """Measure the CPU time ``pid`` uses inside the ``with`` block."""
    usage = CpuUsage(pid)
    cpu_start, wall_start = cpu_seconds(pid), time.perf_counter()
    try:
        yield usage
    finally:
        usage.cpu_s = cpu_seconds(pid) - cpu_start
        usage.wall_s = time.perf_counter() - wall_start


# --------------------------------------------------------------------------------------------- plain HTTP


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
) -> HttpResponse:
    """One blocking HTTP/1.1 request to a loopback URL (stdlib only, ignores proxy settings)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"expected an http:// URL, got {url!r}")
    ensure_loopback(parts.hostname)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    payload = body.encode() if isinstance(body, str) else body
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout_s)
    try:
        conn.request(method, path, body=payload, headers=dict(headers or {}))
        resp = conn.getresponse()
        return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------- servers


def server_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a server subprocess gets on top of ours: the repo on PYTHONPATH, loopback exempt from proxies."""
    merged = {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    for name in ("NO_PROXY", "no_proxy"):
        merged[name] = ",".join(p for p in (os.environ.get(name, ""), "127.0.0.1,localhost") if p)
    # Benchmarks measure the gateway's work, not token verification (about 30 µs of CPU per request with HS256,
    # measured in docs/benchmarks.md): servers run in development mode unless a bench sets LOTGRAPH_AUTH_MODE.
    merged["LOTGRAPH_AUTH_MODE"] = "none"
    merged["LOTGRAPH_LIMITS_RATE"] = "0"
    merged.update(env or {})
    return merged


@contextlib.contextmanager
def serve(
    app: str,
    *,
    factory: bool = False,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/",
    ready_timeout_s: float = 30.0,
    uvicorn_args: Sequence[str] = (),
) -> Iterator[Launched]:
    """``uvicorn <app>`` (one worker, no access log) in a subprocess on a free loopback port, ready once it answers
    ``GET ready_path``, stopped when the block ends (started and stopped by ``bench.launch``).

    ``app`` is an import string (``"pkg.mod:app"``, or a factory with ``factory=True``) importable from the
    repository root. ``env`` is added to the environment. Output goes to a log file, kept if the server fails.
    """
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-m", "uvicorn", app, "--host", LOOPBACK, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5"]
    command += ["--factory"] if factory else []
    command += list(uvicorn_args)
    fd, log_name = tempfile.mkstemp(prefix=f"bench-{''.join(c if c.isalnum() else '-' for c in app)}-", suffix=".log")
    os.close(fd)
    log = Path(log_name)
    try:
        server = launch(command, log=log, ready=answers(url + ready_path), env=server_env(env), url=url,
                        deadline=ready_timeout_s)  # fmt: skip
    except LaunchError as exc:
        raise BenchError(f"server {app}: {exc}") from exc
    try:
        yield server
    finally:
        code = server.stop(deadline=10)
        if code not in (0, -signal.SIGTERM):  # stopped by the SIGTERM sent here: a clean stop
            print(f"note: server {app} exited with code {code}; log kept at {log}", file=sys.stderr)
        else:
            log.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------- load (wrk)


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Latencies are in milliseconds; ``errors`` has wrk's connect/read/write/status/timeout."""

    requests: int
    duration_s: float
    bytes_read: int
    latency_ms: Mapping[str, float]  # mean, stdev, max, p50, p75, p90, p99, p99.9
    errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return self.latency_ms["p50"]

    @property
    def p99_ms(self) -> float:
        return self.latency_ms["p99"]

    @property
    def error_count(self) -> int:
        """Socket errors plus answers with status >= 400."""
        return sum(self.errors.values())


def require_wrk() -> str:
    """Path of the ``wrk`` binary, or ``WrkNotFoundError`` whose message says how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkNotFoundError(WRK_INSTALL_HINT)
    return path


def _lua_string(value: bytes | str) -> str:
    """A Lua 5.1 string literal for ``value``; non-printable bytes, quotes and backslashes as \\ddd."""
    data = value.encode() if isinstance(value, str) else value
    safe = set(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in data) + '"'


def wrk_script(
    *,
    method: str = "GET",
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    unique_header: str | None = None,
    unique_prefix: str = "bench",
) -> str:
    """The Lua script ``run_wrk`` passes to wrk.

    It sets the method, body and headers; with ``unique_header`` every request carries that header with a
    value unique in the run (``<prefix>-<thread>-<n>``), e.g. a correlation id. Its ``done`` hook prints the
    summary as one JSON line that ``run_wrk`` parses.
    """
    lines = ["-- generated by bench/harness.py", f"wrk.method = {_lua_string(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items()]
    if unique_header is not None:
        lines += [
            "local thread_count = 0",
            "function setup(thread)",
            "  thread_count = thread_count + 1",
            '  thread:set("bench_thread_id", thread_count)',
            "end",
            "local counter = 0",
            "local prefix = nil",
            "function init(args)",
            f'  prefix = {_lua_string(unique_prefix)} .. "-" .. tostring(bench_thread_id) .. "-"',
            "end",
            "function request()",
            "  counter = counter + 1",
            f"  wrk.headers[{_lua_string(unique_header)}] = prefix .. tostring(counter)",
            "  return wrk.format()",
            "end",
        ]
    percentiles = {"p50": 50, "p75": 75, "p90": 90, "p99": 99, "p99.9": 99.9}
    latency_fields = ", ".join(f'\\"{name}\\": %.1f' for name in percentiles)
    latency_args = ", ".join(f"latency:percentile({p})" for p in percentiles.values())
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format(",
        f'    "{_WRK_MARKER}{{\\"requests\\": %.0f, \\"duration_us\\": %.0f, \\"bytes\\": %.0f, "',
        '    .. "\\"errors\\": {\\"connect\\": %.0f, \\"read\\": %.0f, \\"write\\": %.0f, '
        '\\"status\\": %.0f, \\"timeout\\": %.0f}, "',
        f'    .. "\\"latency_us\\": {{\\"mean\\": %.1f, \\"stdev\\": %.1f, \\"max\\": %.1f, {latency_fields}}}}}\\n",',
        "    summary.requests, summary.duration, summary.bytes,",
        "    e.connect, e.read, e.write, e.status, e.timeout,",
        f"    latency.mean, latency.stdev, latency.max, {latency_args}))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def parse_wrk_output(output: str) -> WrkResult:
    """Parse the JSON line printed by the ``done`` hook of ``wrk_script``."""
    for line in output.splitlines():
        if line.startswith(_WRK_MARKER):
            data = json.loads(line[len(_WRK_MARKER) :])
            break
    else:
        raise BenchError(f"wrk printed no summary line:\n{output}")
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        bytes_read=int(data["bytes"]),
        latency_ms={name: us / 1000.0 for name, us in data["latency_us"].items()},
        errors={name: int(n) for name, n in data["errors"].items()},
    )


def run_wrk(
    url: str,
    *,
    connections: int = 20,
    threads: int = 1,
    duration_s: float = 5.0,
    method: str = "GET",
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    unique_header: str | None = None,
    unique_prefix: str = "bench",
    request_timeout_s: float = 2.0,
) -> WrkResult:
    """Load ``url`` (loopback only) with wrk for ``duration_s`` (whole seconds, at least 1).

    ``connections`` keep-alive connections shared by ``threads`` wrk threads. Requests slower than
    ``request_timeout_s`` count as timeouts. See ``wrk_script`` for ``unique_header``.
    """
    host = urlsplit(url).hostname
    if host is None:
        raise ValueError(f"no host in {url!r}")
    ensure_loopback(host)
    if connections < threads:
        raise ValueError("wrk needs at least one connection per thread")
    wrk = require_wrk()
    seconds = max(1, math.ceil(duration_s))
    script = wrk_script(
        method=method, body=body, headers=headers, unique_header=unique_header, unique_prefix=unique_prefix
    )
    with tempfile.NamedTemporaryFile("w", prefix="bench-wrk-", suffix=".lua") as script_file:
        script_file.write(script)
        script_file.flush()
        cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
        cmd += ["--timeout", f"{math.ceil(request_timeout_s)}s", "-s", script_file.name, url]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish within {seconds + 30} s") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed with code {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return parse_wrk_output(done.stdout)


# --------------------------------------------------------------------------------------------- reporting


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: Sequence[str] | None = None) -> str:
    """A Markdown table with padded columns. ``align`` has one of ``l``, ``r``, ``c`` per column; by default
    columns whose cells are all numbers are right-aligned. Cells are rendered with ``str`` (format floats
    before passing them)."""
    body = [list(row) for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, table has {len(headers)} columns: {row!r}")
    if align is None:
        align = [
            "r" if body and all(isinstance(row[i], int | float) for row in body) else "l" for i in range(len(headers))
        ]
    cells = [[str(h) for h in headers]] + [[str(c).replace("|", "\\|") for c in row] for row in body]
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(headers))]

    def render(row: Sequence[str]) -> str:
        padded = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "| " + " | ".join(padded) + " |"

    separator = []
    for w, a in zip(widths, align, strict=True):
        rules = {"l": "-" * w, "r": "-" * (w - 1) + ":", "c": ":" + "-" * (w - 2) + ":"}
        separator.append(rules[a])
    return "\n".join([render(cells[0]), "| " + " | ".join(separator) + " |", *map(render, cells[1:])])


def print_markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], align: Sequence[str] | None = None
) -> None:
    print(markdown_table(headers, rows, align))


def machine_description(packages: Sequence[str] = ()) -> str:
    """One line describing this machine and the given packages' versions, for benchmark reports."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]  # MemTotal: N kB
        mem_gib = int(first.split()[1]) / 1024 / 1024
    cores = len(os.sched_getaffinity(0))
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    parts = [
        f"{cores} cores ({cpu})",
        f"{mem_gib:.0f} GiB RAM",
        f"Linux {platform.release()}",
        f"Python {platform.python_version()}",
        *versions,
    ]
    return ", ".join(parts)
