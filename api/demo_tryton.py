"""``lotgraph demo --tryton``: a real Tryton with the demo data set, and the gateway on it (all four systems).

Tryton comes from the ``tryton`` extra (``scripts/demo --tryton`` installs it). Its database is SQLite under the
data directory, or PostgreSQL when ``LOTGRAPH_TRYTON_DB_URI`` names a server (``postgresql://user@host:5432/``,
optionally with the database's name after the slash; ``lotgraph`` when none); the first run initialises it and loads
the data set through Tryton's API (cached per machine for SQLite; PostgreSQL keeps it for the next run).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from api.servers import Listener, bind, run

TRYTON_SYSTEMS = ("erp", "qms", "mes", "wms")
DB_URI_ENV = "LOTGRAPH_TRYTON_DB_URI"


def tryton_overrides(url: str, database: str, login: str, password: str) -> dict[str, Any]:
    """Settings that put every system on the Tryton at ``url``."""
    overrides: dict[str, Any] = {}
    for system in TRYTON_SYSTEMS:
        overrides |= {
            f"sources.{system}.kind": "tryton",
            f"sources.{system}.url": url,
            f"sources.{system}.tryton.database": database,
            f"sources.{system}.tryton.login": login,
            f"sources.{system}.tryton.password": password,
        }
    return overrides


def run_demo(args: argparse.Namespace, settings_for: Any, upstream: Any, banner: Any) -> int:
    """Prepare and start Tryton, then serve the gateway on it until interrupted; Tryton stops with it."""
    from api.app import create_app
    from plant.tryton.prepare import prepare
    from plant.tryton.server import ADMIN_PASSWORD, TrytonMissing, server_for, stop

    server = server_for(args.data_dir / "tryton", os.environ.get(DB_URI_ENV, "sqlite://"), port=args.tryton_port)
    print(f"lotgraph: preparing Tryton under {server.home} (the first run takes a few minutes) …", flush=True)
    try:
        manifest = prepare(server, seed=args.seed, lots=args.tryton_lots)
    except TrytonMissing as exc:
        print(f"lotgraph: {exc}", file=sys.stderr)
        return 2
    gateway_sock = bind(args.host, args.port)
    gateway_url = f"http://{args.host}:{gateway_sock.getsockname()[1]}"
    process = server.start()
    try:
        settings = settings_for(tryton_overrides(server.url, server.database, "admin", ADMIN_PASSWORD))
        print(banner(gateway_url, upstream(server.url, server.database), settings, manifest), flush=True)
        run([Listener(create_app(settings), gateway_sock)])
    finally:
        stop(process)
    return 0
