"""``lotgraph demo --sites 2 --tryton``: two plants on different systems (docs/sites.md#two-sites-on-different-systems).

Site a is a reference plant, the gateway's own. Site b runs ERP, MES and WMS on a real Tryton, its QMS a contract
QMS beside it (the reference plant's QMS over b's lots), as the first Tryton deployment has it. Tryton's data set
received some of the finished lots a shipped, on a supplier shipment from the party of a's supplier code, and made
them into b's lots (plant/tryton/receipts.py): a trace from a's lot crosses into Tryton's genealogy, a hold spreads
from a's WMS into Tryton's quarantine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from typing import Any

from api.demo_sites import demo_ids, scoped_tokens, site_settings
from api.demo_tryton import DB_URI_ENV
from api.servers import Listener, bind, run
from api.settings import SOURCES, Settings

RECEIVED = 12
"""Finished lots of site a that Tryton's site b received (as with two reference plants)."""
TRYTON_SYSTEMS = ("erp", "mes", "wms")


def site_b_env(url: str, database: str, password: str, qms_url: str) -> dict[str, str]:
    """Settings (as environment) of site b: ERP, MES and WMS on the Tryton at ``url``, the QMS at ``qms_url``."""
    env = {"LOTGRAPH_SITES": "b", "LOTGRAPH_SITE_B_QMS_URL": qms_url}
    for system in TRYTON_SYSTEMS:
        prefix = f"LOTGRAPH_SITE_B_{system.upper()}_"
        env |= {prefix + "KIND": "tryton", prefix + "URL": url, prefix + "TIMEOUT": "10"}
        env |= {prefix + "TRYTON_DATABASE": database, prefix + "TRYTON_PASSWORD": password}
    return env


def run_demo(
    args: argparse.Namespace,
    settings_for: Callable[[dict[str, Any], dict[str, str]], Settings],
    banner: Callable[[str, str, Settings, dict[str, Any]], str],
) -> int:
    from api.app import create_app
    from plant.app import create_plant_app
    from plant.qms import create_app as create_qms_app
    from plant.sites import ensure_sites, shipped_finished_lots
    from plant.tryton.beside import contract_qms
    from plant.tryton.prepare import prepare
    from plant.tryton.receipts import Receipt
    from plant.tryton.server import ADMIN_PASSWORD, TrytonMissing, server_for, stop
    from plant.webhooks import WebhookTarget

    root = args.data_dir / "sites-tryton"
    summary = ensure_sites(root, 1, args.seed, args.lots)
    received = tuple(shipped_finished_lots(root / "a")[:RECEIVED])
    server = server_for(root / "b-tryton", os.environ.get(DB_URI_ENV, "sqlite://"), port=args.tryton_port)
    print(f"lotgraph: preparing site b's Tryton under {server.home} (the first run takes a few minutes) …", flush=True)
    try:
        manifest = prepare(server, seed=args.seed + 1, lots=args.tryton_lots, receipt=Receipt("a", received))
    except TrytonMissing as exc:
        print(f"lotgraph: {exc}", file=sys.stderr)
        return 2
    qms = create_qms_app(contract_qms(root / "b-qms", manifest["lot_products"]))
    socks = {"a": bind(args.host, args.plant_port), "b": bind(args.host, args.plant_port + 1 if args.plant_port else 0)}
    gateway_sock = bind(args.host, args.port)
    urls = {name: f"http://{args.host}:{sock.getsockname()[1]}" for name, sock in socks.items()}
    gateway_url = f"http://{args.host}:{gateway_sock.getsockname()[1]}"
    overrides, _ = site_settings({"a": urls["a"]})
    webhook_secret = secrets.token_urlsafe(32)  # site a's plant sends the gateway its events
    overrides.update({f"webhooks.{name}.secret": webhook_secret for name in SOURCES})
    env = site_b_env(server.url, server.database, ADMIN_PASSWORD, f"{urls['b']}/qms")
    b_secret = secrets.token_urlsafe(32)  # b's QMS sends its events to b's route; b's Tryton is polled
    env["LOTGRAPH_SITE_B_WEBHOOKS_QMS_SECRET"] = b_secret
    process = server.start()
    try:
        settings = settings_for(overrides, env)
        upstream = (
            f"site a, reference plant:         {urls['a']}/{{erp,qms,mes,wms}}\n"
            f"  site b, Tryton 8.2:              {server.url}  (database {server.database}, user admin, password "
            f"admin; ERP, MES, WMS)\n  site b, QMS beside Tryton:       {urls['b']}/qms"
        )
        print(banner(gateway_url, upstream, settings, {"demo": ids(summary, manifest)}), flush=True)
        print(scoped_tokens(settings, ["a", "b"]), flush=True)
        to_b = WebhookTarget.shared(gateway_url, b_secret, systems=("qms",), site="b")
        plant_b = create_plant_app(root / "b-qms", {"qms": qms}, webhooks=to_b)
        plant_a = create_plant_app(root / "a", webhooks=WebhookTarget.shared(gateway_url, webhook_secret))
        run(
            [Listener(plant_a, socks["a"]), Listener(plant_b, socks["b"]), Listener(create_app(settings), gateway_sock)]
        )
    finally:
        stop(process)
    return 0


def ids(summary: dict[str, Any], manifest: dict[str, Any]) -> dict[str, str]:
    """Site a's ids, site b's (Tryton's, qualified), and a lot a shipped that b received and used."""
    found = demo_ids(summary)
    demo = manifest.get("demo", {})
    for key in ("shipment_ready", "lot_backward"):
        if key in demo:
            found[f"b (Tryton): {key}"] = f"b:{demo[key]}"
    received = manifest["received"]
    found["shipped by a, received by b on Tryton (trace it FORWARD)"] = received["lots"][0]
    found["b's lot made from it (trace it BACKWARD)"] = f"b:{received['made'][-1]}"
    return found
