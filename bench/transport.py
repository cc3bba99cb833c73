"""Upstream HTTP transport benchmark: which client should the shared source client (sources/http.py) use?

Run from the repository root::

    python -m bench.transport                 # all six cases, 5 s each
    python -m bench.transport --rounds 3      # repeat, rotating the order; medians are reported

An upstream Starlette app (its own uvicorn process) answers ``GET /records/{id}`` with a small JSON record. For
each case a gateway (a fresh uvicorn process, one worker) answers each request with one upstream GET made by

* ``httpx``          httpx.AsyncClient with its default transport (httpcore),
* ``httpx-aiohttp``  httpx.AsyncClient(transport=httpx_aiohttp.AiohttpTransport(...)),
* ``aiohttp``        aiohttp.ClientSession used directly,

either from a plain Starlette endpoint (``rest``) or from the resolver of a minimal strawberry schema with the
parser and validation caches (``graphql``). wrk loads the gateway; the gateway's CPU time per request comes
from /proc. Every request carries a unique X-Correlation-ID that the gateway forwards and the upstream echoes;
mismatches, missing or duplicated ids are counted, and after each run a concurrent end-to-end check verifies
that every answer carries its own id. All pools are sized the same (``POOL_SIZE``).
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import aiohttp
import httpx
import strawberry
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from bench.harness import (
    BenchError,
    CpuUsage,
    WrkNotFoundError,
    WrkResult,
    http_request,
    machine_description,
    markdown_table,
    measure_cpu,
    require_wrk,
    run_wrk,
    serve,
)

CLIENTS = ("httpx", "httpx-aiohttp", "aiohttp")
APIS = ("rest", "graphql")
POOL_SIZE = 100  # max connections per upstream, the same in every case
KEEPALIVE_S = 5.0  # idle keep-alive expiry, the same in every case
TIMEOUT_S = 5.0  # connect / read / pool timeout, the same in every case
CORRELATION_HEADER = "X-Correlation-ID"
RECORD_ID = "L-2026-0001"
RECORD_FIELDS = (
    "id lotId productId sku description quantity uom status warehouse location "
    "producedAt expiryDate qaReleased supplier batchSize correlationId"
)
GRAPHQL_QUERY = f"query Record($id: ID!) {{ record(id: $id) {{ {RECORD_FIELDS} }} }}"

ENV_CLIENT = "BENCH_CLIENT"
ENV_UPSTREAM = "BENCH_UPSTREAM_URL"


# ============================================================================================ upstream


def make_record(record_id: str, correlation_id: str | None) -> dict[str, Any]:
    """A lot record of 16 fields, about 500 bytes of JSON."""
    return {
        "id": record_id,
        "lot_id": record_id,
        "product_id": "P-100234",
        "sku": "RESIN-PA66-GF30-25KG",
        "description": "Polyamide 66 resin, 30 % glass fibre, 25 kg bag",
        "quantity": 1250.5,
        "uom": "KG",
        "status": "RELEASED",
        "warehouse": "WH-NORTH-01",
        "location": "A-12-03",
        "produced_at": "2026-11-20T06:42:00Z",
        "expiry_date": "2028-11-20",
        "qa_released": True,
        "supplier": "Acme Polymers GmbH",
        "batch_size": 48,
        "correlation_id": correlation_id or "",
    }


@dataclass
class UpstreamStats:
    requests: int = 0
    missing_id: int = 0
    duplicate_id: int = 0
    seen_ids: set[str] = field(default_factory=set)
    connections: set[tuple[str, int]] = field(default_factory=set)

    def as_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "missing_id": self.missing_id,
            "duplicate_id": self.duplicate_id,
            "connections": len(self.connections),
        }


def upstream_app() -> Starlette:
    """The upstream system: ``GET /records/{id}`` echoes X-Correlation-ID in the body and a header."""
    stats = UpstreamStats()

    async def record(request: Request) -> Response:
        correlation_id = request.headers.get(CORRELATION_HEADER)
        stats.requests += 1
        if request.client is not None:
            stats.connections.add((request.client.host, request.client.port))
        if not correlation_id:
            stats.missing_id += 1
        elif correlation_id in stats.seen_ids:
            stats.duplicate_id += 1
        else:
            stats.seen_ids.add(correlation_id)
        headers = {CORRELATION_HEADER: correlation_id} if correlation_id else None
        return JSONResponse(make_record(request.path_params["record_id"], correlation_id), headers=headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.as_json())

    async def reset(request: Request) -> Response:
        nonlocal stats
        stats = UpstreamStats()
        return JSONResponse({"status": "reset"})

    return Starlette(
        routes=[
            Route("/records/{record_id}", record),
            Route("/health", health),
            Route("/_bench/stats", get_stats),
            Route("/_bench/reset", reset, methods=["POST"]),
        ]
    )


# ============================================================================================ gateway


class UpstreamClient(Protocol):
    name: str

    async def get_record(self, record_id: str, correlation_id: str) -> dict[str, Any]: ...

    def pool(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def upstream_limits() -> httpx.Limits:
    # aiohttp keeps every idle connection up to its limit; make httpx do the same so the pools match.
    return httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=KEEPALIVE_S)


class HttpxClient:
    """httpx.AsyncClient, with its default transport or with httpx-aiohttp's AiohttpTransport."""

    def __init__(self, base_url: str, *, aiohttp_transport: bool) -> None:
        self.name = "httpx-aiohttp" if aiohttp_transport else "httpx"
        timeout = httpx.Timeout(TIMEOUT_S)
        if aiohttp_transport:
            # With transport= httpx ignores the client's limits: they must be given to the transport.
            self._client = httpx.AsyncClient(
                base_url=base_url, transport=AiohttpTransport(limits=upstream_limits()), timeout=timeout
            )
        else:
            self._client = httpx.AsyncClient(
                base_url=base_url, limits=upstream_limits(), timeout=timeout, trust_env=False
            )

    async def get_record(self, record_id: str, correlation_id: str) -> dict[str, Any]:
        response = await self._client.get(f"/records/{record_id}", headers={CORRELATION_HEADER: correlation_id})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def pool(self) -> dict[str, Any]:
        transport = self._client._transport
        if isinstance(transport, AiohttpTransport):
            # The aiohttp session is created lazily, on the first request.
            session = transport.client
            if isinstance(session, aiohttp.ClientSession) and isinstance(session.connector, aiohttp.TCPConnector):
                return {"limit": session.connector.limit, "keepalive_s": session.connector._keepalive_timeout}
            return {"limit": transport.limits.max_connections, "keepalive_s": transport.limits.keepalive_expiry}
        connection_pool = getattr(transport, "_pool", None)
        return {
            "limit": getattr(connection_pool, "_max_connections", None),
            "keepalive_s": getattr(connection_pool, "_keepalive_expiry", None),
        }

    async def aclose(self) -> None:
        await self._client.aclose()


class AiohttpClient:
    """aiohttp.ClientSession used directly, configured like the httpx clients."""

    name = "aiohttp"

    def __init__(self, base_url: str) -> None:
        self._session = aiohttp.ClientSession(
            base_url=base_url,
            connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_S),
            # What AiohttpTransport derives from httpx.Timeout(5.0): connect->sock_connect, read->sock_read,
            # pool->connect (aiohttp's "connect" covers waiting for a pooled connection); no total.
            timeout=aiohttp.ClientTimeout(total=None, connect=TIMEOUT_S, sock_connect=TIMEOUT_S, sock_read=TIMEOUT_S),
        )

    async def get_record(self, record_id: str, correlation_id: str) -> dict[str, Any]:
        async with self._session.get(f"/records/{record_id}", headers={CORRELATION_HEADER: correlation_id}) as response:
            response.raise_for_status()
            data: dict[str, Any] = await response.json()
            return data

    def pool(self) -> dict[str, Any]:
        connector = self._session.connector
        assert isinstance(connector, aiohttp.TCPConnector)
        return {"limit": connector.limit, "keepalive_s": connector._keepalive_timeout}

    async def aclose(self) -> None:
        await self._session.close()


def make_upstream_client(client: str, base_url: str) -> UpstreamClient:
    if client == "httpx":
        return HttpxClient(base_url, aiohttp_transport=False)
    if client == "httpx-aiohttp":
        return HttpxClient(base_url, aiohttp_transport=True)
    if client == "aiohttp":
        return AiohttpClient(base_url)
    raise ValueError(f"unknown client {client!r}; expected one of {', '.join(CLIENTS)}")


class CorrelationMismatchError(Exception):
    pass


@dataclass
class Gateway:
    """Per-process gateway state: the upstream client and correctness counters."""

    upstream: UpstreamClient
    requests: int = 0
    mismatches: int = 0
    errors: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    async def fetch_record(self, record_id: str, correlation_id: str) -> dict[str, Any]:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            data = await self.upstream.get_record(record_id, correlation_id)
        except Exception:
            self.errors += 1
            raise
        finally:
            self.in_flight -= 1
        if data.get("correlation_id") != correlation_id:
            self.mismatches += 1
            raise CorrelationMismatchError(f"sent {correlation_id!r}, upstream saw {data.get('correlation_id')!r}")
        return data

    def stats(self) -> dict[str, Any]:
        return {
            "client": self.upstream.name,
            "requests": self.requests,
            "mismatches": self.mismatches,
            "errors": self.errors,
            "max_in_flight": self.max_in_flight,
            "pool": self.upstream.pool(),
        }

    def reset(self) -> None:
        self.requests = self.mismatches = self.errors = self.max_in_flight = 0


def correlation_id_of(request: Request) -> str:
    return request.headers.get(CORRELATION_HEADER) or os.urandom(8).hex()


@strawberry.type
class Record:
    id: strawberry.ID
    lot_id: str
    product_id: str
    sku: str
    description: str
    quantity: float
    uom: str
    status: str
    warehouse: str
    location: str
    produced_at: str
    expiry_date: str
    qa_released: bool
    supplier: str
    batch_size: int
    correlation_id: str


@strawberry.type
class Query:
    @strawberry.field
    async def record(self, info: strawberry.Info, id: strawberry.ID) -> Record:
        request: Request = info.context["request"]
        gateway: Gateway = request.app.state.gateway
        data = await gateway.fetch_record(str(id), correlation_id_of(request))
        return Record(**data)


def graphql_schema() -> strawberry.Schema:
    # Extensions as classes (factories), never instances: instances would be shared across requests.
    return strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])


def gateway_app() -> Starlette:
    """The gateway under test; ``BENCH_CLIENT`` picks the upstream client, ``BENCH_UPSTREAM_URL`` the upstream."""
    client = os.environ.get(ENV_CLIENT, "httpx")
    upstream_url = os.environ.get(ENV_UPSTREAM, "http://127.0.0.1:8001")
    if client not in CLIENTS:
        raise ValueError(f"{ENV_CLIENT}={client!r}; expected one of {', '.join(CLIENTS)}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One client per upstream, opened in the lifespan (inside the running event loop).
        upstream = make_upstream_client(client, upstream_url)
        app.state.gateway = Gateway(upstream)
        try:
            yield
        finally:
            await upstream.aclose()

    async def record(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        correlation_id = correlation_id_of(request)
        try:
            data = await gateway.fetch_record(request.path_params["record_id"], correlation_id)
        except CorrelationMismatchError as exc:
            return JSONResponse({"error": str(exc)}, status_code=502)
        return JSONResponse(data, headers={CORRELATION_HEADER: correlation_id})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_stats(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        return JSONResponse(gateway.stats())

    async def reset(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        gateway.reset()
        return JSONResponse({"status": "reset"})

    graphql: GraphQL[Any, None] = GraphQL(graphql_schema(), graphql_ide=None)
    return Starlette(
        routes=[
            Route("/records/{record_id}", record),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/_bench/stats", get_stats),
            Route("/_bench/reset", reset, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


# ============================================================================================ benchmark


@dataclass(frozen=True)
class Case:
    api: str
    client: str

    @property
    def name(self) -> str:
        return f"{self.api}/{self.client}"


@dataclass(frozen=True)
class Target:
    url: str
    method: str
    body: str | None
    headers: dict[str, str]


def target_for(case: Case, base_url: str) -> Target:
    if case.api == "rest":
        return Target(f"{base_url}/records/{RECORD_ID}", "GET", None, {})
    body = json.dumps({"query": GRAPHQL_QUERY, "variables": {"id": RECORD_ID}})
    return Target(f"{base_url}/graphql", "POST", body, {"Content-Type": "application/json"})


@dataclass
class CheckResult:
    requests: int = 0
    ok: int = 0
    failures: list[str] = field(default_factory=list)


async def check_correlation(case: Case, target: Target, requests: int, concurrency: int) -> CheckResult:
    """Send ``requests`` requests, ``concurrency`` at a time, each with its own correlation id, and verify
    that every answer carries the id of its own request (as echoed by the upstream)."""
    result = CheckResult(requests=requests)
    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    data = target.body.encode() if target.body else None

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        sent = f"check-{case.client}-{case.api}-{n}"
        async with semaphore:
            try:
                async with session.request(
                    target.method, target.url, data=data, headers={**target.headers, CORRELATION_HEADER: sent}
                ) as response:
                    body = await response.json(content_type=None)
                    if case.api == "rest":
                        got = [response.headers.get(CORRELATION_HEADER), body.get("correlation_id")]
                    else:
                        record = (body.get("data") or {}).get("record") or {}
                        got = [record.get("correlationId")]
                        if body.get("errors"):
                            got.append(json.dumps(body["errors"])[:200])
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                got = [repr(exc)]
        if all(g == sent for g in got):
            result.ok += 1
        elif len(result.failures) < 5:
            result.failures.append(f"sent {sent}, got {got}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one(session, n) for n in range(requests)))
    return result


@dataclass
class Measurement:
    case: Case
    wrk: WrkResult
    gateway_cpu: CpuUsage
    upstream_cpu: CpuUsage
    gateway_stats: dict[str, Any]  # counters of the load run only
    upstream_stats: dict[str, Any]  # counters of the load run only
    check: CheckResult
    final_gateway_stats: dict[str, Any]  # counters of the load run and the end-to-end check
    final_upstream_stats: dict[str, Any]

    @property
    def gateway_ms_per_request(self) -> float:
        return self.gateway_cpu.ms_per_request(self.wrk.requests)

    @property
    def correct(self) -> bool:
        return (
            self.final_gateway_stats["mismatches"] == 0
            and self.final_gateway_stats["errors"] == 0
            and self.final_upstream_stats["missing_id"] == 0
            and self.final_upstream_stats["duplicate_id"] == 0
            and self.check.ok == self.check.requests
            and self.wrk.error_count == 0
        )


def run_case(case: Case, upstream_url: str, upstream_pid: int, args: argparse.Namespace) -> Measurement:
    env = {ENV_CLIENT: case.client, ENV_UPSTREAM: upstream_url}
    with serve("bench.transport:gateway_app", factory=True, env=env, ready_path="/health") as gateway:
        target = target_for(case, gateway.url)
        load = {
            "connections": args.connections,
            "threads": args.threads,
            "method": target.method,
            "body": target.body,
            "headers": target.headers,
            "unique_header": CORRELATION_HEADER,
        }
        if args.warmup > 0:
            run_wrk(target.url, duration_s=args.warmup, unique_prefix="warmup", **load)
            time.sleep(1.0)  # requests of closed warm-up connections may still be running in the gateway
        http_request(f"{gateway.url}/_bench/reset", method="POST")
        http_request(f"{upstream_url}/_bench/reset", method="POST")
        with measure_cpu(gateway.pid) as gateway_cpu, measure_cpu(upstream_pid) as upstream_cpu:
            result = run_wrk(target.url, duration_s=args.duration, unique_prefix="load", **load)
        time.sleep(0.2)  # let requests still in flight when wrk stopped finish before reading counters
        gateway_stats = http_request(f"{gateway.url}/_bench/stats").json()
        upstream_stats = http_request(f"{upstream_url}/_bench/stats").json()
        check = asyncio.run(check_correlation(case, target, args.check_requests, args.check_concurrency))
        final_gateway_stats = http_request(f"{gateway.url}/_bench/stats").json()
        final_upstream_stats = http_request(f"{upstream_url}/_bench/stats").json()
    return Measurement(
        case,
        result,
        gateway_cpu,
        upstream_cpu,
        gateway_stats,
        upstream_stats,
        check,
        final_gateway_stats,
        final_upstream_stats,
    )


def limits_trap() -> str:
    """Show that httpx ignores the client's ``limits`` when a transport is passed."""
    client = httpx.AsyncClient(transport=AiohttpTransport(), limits=httpx.Limits(max_connections=10))
    transport = client._transport
    assert isinstance(transport, AiohttpTransport)
    return (
        "AsyncClient(transport=AiohttpTransport(), limits=Limits(max_connections=10)) -> "
        f"effective pool limit {transport.limits.max_connections} (the client's limits are ignored)"
    )


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def summary_rows(measurements: Sequence[Measurement], cases: Sequence[Case]) -> list[list[str]]:
    rows = []
    for case in cases:
        runs = [m for m in measurements if m.case == case]
        if not runs:
            continue
        rps = [m.wrk.rps for m in runs]
        rps_cell = _fmt(statistics.median(rps), 0)
        if len(runs) > 1:
            rps_cell += f" ({_fmt(min(rps), 0)}-{_fmt(max(rps), 0)})"
        pools = {f"{m.gateway_stats['pool']['limit']} / {m.gateway_stats['pool']['keepalive_s']} s" for m in runs}
        checked = sum(m.check.requests for m in runs)
        rows.append(
            [
                case.api,
                case.client,
                rps_cell,
                _fmt(statistics.median(m.wrk.p50_ms for m in runs)),
                _fmt(statistics.median(m.wrk.p99_ms for m in runs)),
                _fmt(statistics.median(m.gateway_ms_per_request for m in runs), 3),
                f"{statistics.median(m.gateway_cpu.utilization for m in runs):.0%}",
                _fmt(statistics.median(m.upstream_cpu.ms_per_request(m.wrk.requests) for m in runs), 3),
                ", ".join(
                    sorted({f"{m.upstream_stats['connections']} ({m.gateway_stats['max_in_flight']})" for m in runs})
                ),
                ", ".join(sorted(pools)),
                f"ok ({sum(m.wrk.requests for m in runs):,} + {checked:,})"
                if all(m.correct for m in runs)
                else "FAILED",
            ]
        )
    return rows


TABLE_HEADERS = (
    "API",
    "client",
    "req/s",
    "p50 ms",
    "p99 ms",
    "gateway CPU ms/req",
    "gateway CPU",
    "upstream CPU ms/req",
    "upstream conns (max in flight)",
    "pool limit / keep-alive",
    "correlation ids",
)
TABLE_ALIGN = ("l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "l")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.transport", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per case (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per case (default 2)")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections (default 20)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat all cases, rotating order (default 1)")
    parser.add_argument("--check-requests", type=int, default=500, help="end-to-end id checks per case")
    parser.add_argument("--check-concurrency", type=int, default=50, help="concurrency of those checks")
    parser.add_argument(
        "--cases",
        default="all",
        help="comma-separated API/client pairs, e.g. rest/httpx,graphql/aiohttp (default all)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON to PATH")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.rounds, args.check_concurrency) < 1:
        parser.error("--duration, --connections, --threads, --rounds and --check-concurrency must be >= 1")
    if args.duration > 120 or args.warmup > 60 or args.rounds > 20 or args.check_requests > 100_000:
        parser.error("keep runs bounded: --duration <= 120, --warmup <= 60, --rounds <= 20")
    return args


def select_cases(spec: str) -> list[Case]:
    every = [Case(api, client) for api in APIS for client in CLIENTS]
    if spec == "all":
        return every
    by_name = {case.name: case for case in every}
    unknown = [name for name in spec.split(",") if name not in by_name]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[name] for name in spec.split(",")]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = select_cases(args.cases)
    try:
        require_wrk()
    except WrkNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(limits_trap())
    measurements: list[Measurement] = []
    try:
        with serve("bench.transport:upstream_app", factory=True, ready_path="/health") as upstream:
            for round_no in range(args.rounds):
                shift = round_no % len(cases)
                for case in cases[shift:] + cases[:shift]:
                    m = run_case(case, upstream.url, upstream.pid, args)
                    measurements.append(m)
                    log(
                        f"[{round_no + 1}/{args.rounds}] {case.name:<22} {m.wrk.rps:8,.0f} req/s  "
                        f"p50 {m.wrk.p50_ms:6.1f} ms  p99 {m.wrk.p99_ms:6.1f} ms  "
                        f"gateway {m.gateway_ms_per_request:.3f} CPU ms/req ({m.gateway_cpu.utilization:.0%})  "
                        f"upstream {m.upstream_cpu.ms_per_request(m.wrk.requests):.3f} CPU ms/req "
                        f"({m.upstream_cpu.utilization:.0%}), {m.upstream_stats['connections']} conns  "
                        f"{'ok' if m.correct else 'FAILED'}"
                    )
                    if not m.correct:
                        log(f"    wrk errors {dict(m.wrk.errors)}, gateway {m.gateway_stats}")
                        log(f"    upstream {m.upstream_stats}, check failures {m.check.failures}")
    except BenchError as exc:
        log(f"benchmark failed: {exc}")
        return 1

    print(f"Machine: {machine_description(['httpx', 'httpx-aiohttp', 'aiohttp', 'uvicorn', 'strawberry-graphql'])}")
    print(
        f"Load: wrk -t{args.threads} -c{args.connections}, {args.duration} s per case after {args.warmup} s "
        f"warm-up, {args.rounds} round(s); req/s is the median (min-max over rounds)"
    )
    print()
    print(markdown_table(TABLE_HEADERS, summary_rows(measurements, cases), TABLE_ALIGN))
    if args.json:
        with open(args.json, "w") as out:
            json.dump([asdict(m) | {"case": m.case.name} for m in measurements], out, indent=2, default=list)
    return 0 if all(m.correct for m in measurements) else 1


if __name__ == "__main__":
    sys.exit(main())
