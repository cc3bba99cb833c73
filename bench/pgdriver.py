"""``python -m bench.pgdriver``: asyncpg beside psycopg 3 under the PostgreSQL store's two hot operations, in one run.

- claims: ``claim`` of a new idempotency key — a transaction of ``SELECT … FOR UPDATE`` and ``INSERT … ON CONFLICT
  DO NOTHING`` (what every hold command does first);
- leases: ``lease_due`` of up to 10 due actions — one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
  RETURNING`` (what every replica's retry worker does each poll).

Both drivers run the same SQL (the store's own statements; psycopg's with ``%s`` placeholders) from a pool of
``--pool`` connections with ``--concurrency`` tasks, on uvloop, against a database of the run's own (created and
dropped). Reported per driver and operation: operations per second (wall clock) and the client's CPU per
operation (``time.process_time``; the server's CPU is the same SQL for both). Rounds alternate the drivers.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import psycopg_pool
import uvloop

from bench.harness import machine_description
from sources.store.postgres import CLAIM_NEW, CLAIM_READ, LEASE_DUE, PostgresStore
from sources.store.postgres_schema import migrate_url
from sources.store.records import DUE

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _percent(sql: str) -> str:
    """The statement with psycopg's placeholders ($1 → %s, in order; the store's statements use each once)."""
    for n in range(9, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


class Psycopg:
    """The store's claim and lease over psycopg 3's async pool (the same SQL)."""

    def __init__(self, url: str, size: int) -> None:
        self.pool = psycopg_pool.AsyncConnectionPool(url, min_size=size, max_size=size, open=False)

    async def open(self) -> None:
        await self.pool.open(wait=True)

    async def aclose(self) -> None:
        await self.pool.close()

    async def claim(self, key: str) -> bool:
        now = time.time()
        async with self.pool.connection() as conn, conn.transaction():
            row = await (await conn.execute(_percent(CLAIM_READ), (key,))).fetchone()
            if row is not None:
                return False
            values = (key, "fp", uuid.uuid4().hex, now + 60, now + 3600)
            return await (await conn.execute(_percent(CLAIM_NEW), values)).fetchone() is not None

    async def lease(self) -> int:
        now = time.time()
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(_percent(LEASE_DUE), (now + 60, DUE, now, 10))).fetchall()
            await conn.commit()
        return len(rows)


class Asyncpg:
    """The store itself (asyncpg)."""

    def __init__(self, url: str, size: int) -> None:
        self.store = PostgresStore(url, ttl_seconds=3600, pool_size=size)

    async def open(self) -> None:
        await self.store.open()

    async def aclose(self) -> None:
        await self.store.aclose()

    async def claim(self, key: str) -> bool:
        return (await self.store.claim(key, "fp", lease_seconds=60)).token != ""

    async def lease(self) -> int:
        return len(await self.store.lease_due(limit=10, lease_seconds=60))


Driver = Asyncpg | Psycopg


@dataclass
class Figure:
    ops: int
    seconds: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.ops * 1e6


async def _timed(tasks: int, work: Callable[[], Awaitable[int]]) -> Figure:
    """``tasks`` tasks each calling ``work`` until it returns 0; ops = the sum of what it returned."""
    done = [0]

    async def task() -> None:
        while (n := await work()) > 0:
            done[0] += n

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(task() for _ in range(tasks)))
    return Figure(done[0], time.perf_counter() - wall, time.process_time() - cpu)


async def _round(driver: Driver, url: str, claims: int, actions: int, tasks: int) -> tuple[Figure, Figure]:
    keys = iter([f"k-{uuid.uuid4().hex}" for _ in range(claims)])

    async def claim() -> int:
        key = next(keys, None)
        return 0 if key is None else int(await driver.claim(key))

    claimed = await _timed(tasks, claim)
    conn = await asyncpg.connect(url)
    try:
        now = time.time()
        rows = [(uuid.uuid4().hex, DUE, "LOT", now, now, now - 1, "{}") for _ in range(actions)]
        await conn.copy_records_to_table(
            "pending_actions",
            records=rows,
            columns=["id", "status", "lot_id", "created_at", "updated_at", "due_at", "body"],
        )
    finally:
        await conn.close()
    leased = await _timed(tasks, driver.lease)
    assert leased.ops == actions, f"{leased.ops} actions leased of {actions}: an action handed out twice or lost"
    return claimed, leased


async def run(args: argparse.Namespace) -> dict[str, list[tuple[Figure, Figure]]]:
    name = f"lotgraph_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = args.server.rsplit("/", 1)[0] + f"/{name}"
    results: dict[str, list[tuple[Figure, Figure]]] = {"asyncpg": [], "psycopg 3": []}
    try:
        await migrate_url(url)
        for _ in range(args.rounds):
            for label, make in (("asyncpg", Asyncpg), ("psycopg 3", Psycopg)):
                driver: Driver = make(url, args.pool)
                await driver.open()
                try:
                    results[label].append(await _round(driver, url, args.claims, args.actions, args.concurrency))
                finally:
                    await driver.aclose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return results


def table(results: dict[str, list[tuple[Figure, Figure]]]) -> str:
    lines = [
        "| driver | claims/s | client CPU per claim | leases/s (10 actions each) | client CPU per lease |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, rounds in results.items():
        claims = Figure(*(sum(getattr(c, f) for c, _ in rounds) for f in ("ops", "seconds", "cpu")))
        leases = Figure(*(sum(getattr(le, f) for _, le in rounds) for f in ("ops", "seconds", "cpu")))
        lease_calls = leases.ops / 10
        lines.append(
            f"| {label} | {claims.per_second:,.0f} | {claims.cpu_us:,.0f} µs | {lease_calls / leases.seconds:,.0f} | "
            f"{leases.cpu / lease_calls * 1e6:,.0f} µs |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pgdriver", description=__doc__)
    parser.add_argument("--server", default=SERVER, help=f"a PostgreSQL to create the run's database on ({SERVER})")
    parser.add_argument("--claims", type=int, default=3000, help="claims per round and driver (default 3000)")
    parser.add_argument("--actions", type=int, default=10000, help="due actions leased per round (default 10000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent tasks (default 16)")
    parser.add_argument("--pool", type=int, default=8, help="connections in each driver's pool (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args(argv)
    results = uvloop.run(run(args))
    print(machine_description(["asyncpg", "psycopg", "psycopg-pool"]))
    print(f"{args.rounds} rounds; {args.claims} claims and {args.actions} actions per round and driver; "
          f"{args.concurrency} tasks over {args.pool} connections")  # fmt: skip
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
