"""``lotgraph demo --tryton`` as a user runs it: Tryton prepared on SQLite, or on PostgreSQL when
``LOTGRAPH_TRYTON_DB_URI`` names a server (and, here, a database of the test's own, dropped afterwards), ``trytond``
and the gateway started, and the ids of its banner answering as the data set was built to show. Both start from the
data set cached per machine (the tests' own size and seed); on PostgreSQL the first run on a machine initialises and
loads it (about two minutes), later ones restore its ``pg_dump`` archive."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bench import launch
from tests.tryton_server import Tryton, free_port

POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
"""The machine's PostgreSQL (trust authentication for ``postgres`` on loopback)."""

READINESS = "query($ids: [ID!]!) { shipmentsReadiness(shipmentIds: $ids) { shipmentId status blockers { code } } }"


@contextlib.contextmanager
def postgres_database() -> Iterator[tuple[str, str]]:
    """A database name of this test's own on the machine's PostgreSQL, dropped afterwards."""
    name = f"lotgraph_demo_test_{uuid.uuid4().hex[:12]}"
    try:
        psycopg.connect(f"{POSTGRES}postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"this test needs PostgreSQL at {POSTGRES} (user postgres, trust on loopback): {exc}")
    try:
        yield name, f"{POSTGRES}{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def lots_in(name: str) -> int:
    with psycopg.connect(f"{POSTGRES}{name}") as db:
        row = db.execute("SELECT count(*) FROM stock_lot").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_tryton_demo_answers_the_ids_of_its_banner(database: str, tmp_path: Path, tryton: Tryton) -> None:
    data_dir = tmp_path / "demo"
    args = ["--tryton", "--tryton-lots", "100", "--seed", "7", "--tryton-port", str(free_port())]
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if database == "postgresql":
            name, uri = stack.enter_context(postgres_database())
            env["LOTGRAPH_TRYTON_DB_URI"] = uri
        demo = await launch.started(launch.demo, data_dir, *args, env=env, deadline=600)
        try:
            config = (data_dir / "tryton" / "trytond.conf").read_text()
            assert ("uri = postgresql://" in config) is (database == "postgresql")
            manifest: dict[str, Any] = json.loads((data_dir / "tryton" / "manifest.json").read_text())
            if database == "postgresql":
                assert lots_in(name) == manifest["counts"]["lots"]
            ready, blocked = manifest["demo"]["shipment_ready"], manifest["demo"]["shipment_blocked"]
            assert ready in demo.banner
            headers = {"Authorization": f"Bearer {demo.tokens['shipping']}"}
            async with httpx.AsyncClient(base_url=demo.gateway, headers=headers, timeout=60) as client:
                body = {"query": READINESS, "variables": {"ids": [ready, blocked]}}
                answer = (await client.post("/graphql", json=body)).json()
            assert "errors" not in answer, answer
            statuses = {a["shipmentId"]: a["status"] for a in answer["data"]["shipmentsReadiness"]}
            assert statuses == {ready: "READY", blocked: "NOT_READY"}
        finally:
            assert await demo.astop() == 0
