"""``lotgraph plant``: generate the reference plant if needed and serve it."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from plant.app import PlantServer, ensure_data
from plant.generator import generate, lots_argument
from plant.webhooks import WebhookTarget

SECRET_ENV = "PLANT_WEBHOOK_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port of the combined plant (default 8100)")
    parser.add_argument("--data-dir", type=Path, default=Path("data/plant"), help="default ./data/plant")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--lots", type=lots_argument, default=2000, help="lots to generate (default 2000)")
    parser.add_argument("--regenerate", action="store_true", help="generate again even if data exists")
    parser.add_argument("--split-ports", action="store_true", help="also serve ERP, QMS, MES, WMS on port+1 … port+4")
    parser.add_argument(
        "--webhook-url",
        help="gateway base URL to send each system's changes to, as signed webhooks (to URL/webhooks/SYSTEM)",
    )
    parser.add_argument(
        "--webhook-secret", help=f"HMAC secret of the webhooks, the same for every system (or {SECRET_ENV})"
    )


def describe(manifest: dict[str, Any], urls: dict[str, str]) -> str:
    counts = manifest["counts"]
    lines = [
        f"reference plant: {counts['lots']} lots, {counts['orders']} orders, {counts['shipments']} shipments"
        f" (seed {manifest['seed']}, base date {manifest['base_date']})",
        *(f"  {name:<5} {url}" for name, url in urls.items()),
        f"  manifest {urls['plant']}/admin/manifest",
        "  try:",
        *(f"    {key:<16} {value}" for key, value in manifest["demo"].items() if value),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    webhooks = None
    if args.webhook_url:
        secret = args.webhook_secret or os.environ.get(SECRET_ENV)
        if not secret:
            print(f"--webhook-url needs a secret: --webhook-secret or {SECRET_ENV}")
            return 2
        webhooks = WebhookTarget.shared(args.webhook_url, secret)
    if args.regenerate:
        manifest = generate(data_dir, seed=args.seed, lots=args.lots)
    else:
        manifest = ensure_data(data_dir, seed=args.seed, lots=args.lots)
    try:
        server = PlantServer(
            data_dir,
            host=args.host,
            port=args.port,
            split_ports=args.split_ports,
            log_level="info",
            webhooks=webhooks,
        )
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}")
        return 1
    print(describe(manifest, server.urls), flush=True)
    asyncio.run(server.serve(handle_signals=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plant", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
