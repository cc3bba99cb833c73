"""The ``lotgraph`` command: serve, plant, demo, export-schema."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.logs import configure_logging
from api.servers import Listener, bind, run
from api.settings import SOURCES, Settings, SettingsError, load_settings

log = logging.getLogger("lotgraph")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lotgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", type=Path, help="TOML settings file (or LOTGRAPH_CONFIG)")
    serve.add_argument("--host", help="interface to listen on (LOTGRAPH_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (LOTGRAPH_PORT)")

    import plant.cli as plant_cli

    plant = commands.add_parser("plant", help="run the reference plant (ERP, QMS, MES, WMS)")
    plant_cli.add_arguments(plant)

    demo = commands.add_parser("demo", help="run the reference plant and the gateway together on localhost")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="gateway port (0: any free port)")
    demo.add_argument("--plant-port", type=int, default=8100, help="reference plant port (0: any free port)")
    demo.add_argument("--data-dir", type=Path, default=Path("data/demo"), help="where plant and gateway keep data")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated plant")
    demo.add_argument("--lots", type=int, default=2000, help="lots in the generated plant")

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")

    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "plant":
            return plant_cli.run(args)
        if args.command == "demo":
            return _demo(args)
        return _export_schema(args)
    except SettingsError as exc:
        print(f"lotgraph: setting {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ, args.config, host=args.host, port=args.port)
    configure_logging(settings.log_level, settings.log_format)
    from api.app import create_app

    listener = Listener(create_app(settings), bind(settings.host, settings.port))
    log.info("gateway listening", extra={"url": f"http://{settings.host}:{listener.port}/graphql"})
    run([listener])
    return 0


def _demo(args: argparse.Namespace) -> int:
    from api.app import create_app
    from plant.app import create_plant_app, ensure_data

    plant_sock = bind(args.host, args.plant_port)
    gateway_sock = bind(args.host, args.port)
    plant_url = f"http://{args.host}:{plant_sock.getsockname()[1]}"
    gateway_url = f"http://{args.host}:{gateway_sock.getsockname()[1]}"
    overrides: dict[str, Any] = {f"sources.{name}.url": f"{plant_url}/{name}" for name in SOURCES}
    overrides["data_dir"] = str(args.data_dir / "gateway")
    settings = load_settings(os.environ, None, **overrides)
    configure_logging(settings.log_level, "text")
    manifest = ensure_data(args.data_dir / "plant", args.seed, args.lots)
    print(_banner(gateway_url, plant_url, settings, manifest), flush=True)
    listeners = [
        Listener(create_plant_app(args.data_dir / "plant"), plant_sock),
        Listener(create_app(settings), gateway_sock),
    ]
    run(listeners)
    return 0


def _banner(gateway_url: str, plant_url: str, settings: Settings, manifest: dict[str, Any]) -> str:
    demo = manifest.get("demo", {})
    lines = [
        "lotgraph demo",
        f"  GraphQL (GraphiQL in a browser): {gateway_url}/graphql",
        f"  reference plant:                 {plant_url}/{{erp,qms,mes,wms}}  (manifest: {plant_url}/admin/manifest)",
        f"  data:                            {settings.data_dir.parent}",
        "  ids to try:",
    ]
    lines += [f"    {key}: {value}" for key, value in demo.items()]
    order_id = demo.get("order") or next(iter(manifest.get("orders", {}).get("ready", [])), "SO-100001")
    lines += [
        "  try:",
        f'    curl -s {gateway_url}/graphql -H "Content-Type: application/json" -d '
        f'\'{{"query": "{{ order(id: \\"{order_id}\\") {{ status shipments {{ id lines {{ lots {{ id disposition '
        "stock { status } } } } } }\"}'",
    ]
    return "\n".join(lines)


def _export_schema(args: argparse.Namespace) -> int:
    from api.app import build_graphql_schema

    sdl = build_graphql_schema().as_str() + "\n"
    if args.output:
        args.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
