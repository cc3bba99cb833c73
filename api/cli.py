"""The ``lotgraph`` command: serve, plant, demo, token, export-schema, settings, migrate, import-epcis, export-trace."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.auth import ROLES, demo_secret, mint
from api.cli_traces import add_commands as trace_commands
from api.logs import configure_logging
from api.servers import Listener, bind, bind_workers, cores, run, run_workers
from api.settings import LEAVES, SOURCES, Settings, SettingsError, configuration_tables, load_settings
from api.settings_tree import postgres_url, render_default

log = logging.getLogger("lotgraph")

DEMO_TOKEN_HOURS = 12


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="lotgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_serve(commands.add_parser("serve", help="run the gateway"))
    plant = commands.add_parser("plant", help="run the reference plant (ERP, QMS, MES, WMS)")
    if _command_of(argv) == "plant":  # the plant is imported only by the commands that run it
        from plant.cli import add_arguments

        add_arguments(plant)

    _add_demo(commands.add_parser("demo", help="run the reference plant and the gateway together on localhost"))

    token = commands.add_parser(
        "token", help="mint a bearer token (HS256) for the demo's key or LOTGRAPH_AUTH_HS256_SECRET"
    )
    token.add_argument("--role", action="append", required=True, choices=ROLES, help="a role; repeat for several")
    token.add_argument("--sub", default="demo-user", help="the token's subject (who)")
    token.add_argument("--hours", type=float, default=8.0, help="how long the token is valid")
    token.add_argument("--data-dir", type=Path, default=Path("data/demo"), help="the demo's data dir (its key)")
    token.add_argument(
        "--site", action="append", help="scope the roles to a site (the sites claim); repeat for several"
    )

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    export.add_argument("--federation", action="store_true", help="the Apollo Federation v2 subgraph's SDL")

    listing = commands.add_parser("settings", help="list every setting (LOTGRAPH_… variables, TOML keys, defaults)")
    listing.add_argument("--markdown", action="store_true", help="as the tables of docs/configuration.md")

    migrate = commands.add_parser(
        "migrate", help="apply the PostgreSQL store's migrations (LOTGRAPH_POSTGRES_URL); serve applies them too"
    )
    migrate.add_argument("--url", help="the database (default: LOTGRAPH_POSTGRES_URL)")

    traces = trace_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command in traces:
            return traces[args.command](args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "plant":
            from plant.cli import run as run_plant

            return run_plant(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "token":
            return _token(args)
        if args.command == "settings":
            return _settings(args)
        if args.command == "migrate":
            return _migrate(args)
        return _export_schema(args)
    except SettingsError as exc:
        print(f"lotgraph: setting {exc}", file=sys.stderr)
        return 2


def _migrate(args: argparse.Namespace) -> int:
    import asyncio

    import asyncpg

    from sources.store.postgres_schema import migrate_url

    raw = args.url or os.environ.get("LOTGRAPH_POSTGRES_URL")
    if not raw:
        raise SettingsError("LOTGRAPH_POSTGRES_URL: missing (the database to migrate; or --url)")
    try:
        url = postgres_url(raw)
    except ValueError as exc:
        raise SettingsError(f"LOTGRAPH_POSTGRES_URL: {exc}") from None
    try:
        applied, version = asyncio.run(migrate_url(url))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        print(f"lotgraph: cannot migrate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    done = f"applied {', '.join(map(str, applied))}" if applied else "nothing to apply"
    print(f"lotgraph: PostgreSQL store at schema version {version} ({done})")
    return 0


def _add_serve(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--config", type=Path, help="TOML settings file (or LOTGRAPH_CONFIG)")
    serve.add_argument("--host", help="interface to listen on (LOTGRAPH_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (LOTGRAPH_PORT)")
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes (LOTGRAPH_WORKERS; default one per core with a Redis store and bus, else 1)",
    )
    serve.add_argument(
        "--federation", action="store_true", default=None, help="serve as an Apollo Federation v2 subgraph"
    )


def _add_demo(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="gateway port (0: any free port)")
    demo.add_argument("--plant-port", type=int, default=8100, help="reference plant port (0: any free port)")
    demo.add_argument("--data-dir", type=Path, default=Path("data/demo"), help="where plant and gateway keep data")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated plant")
    demo.add_argument("--lots", type=_lots, default=2000, help="lots in the generated plant")
    demo.add_argument("--activity", action="store_true", help="simulate plant activity so the dashboard moves")
    demo.add_argument("--activity-rate", type=float, default=0.5, help="activity steps per second (at most 20)")
    demo.add_argument(
        "--tryton",
        action="store_true",
        help="serve all four systems from a real Tryton instead (with --sites 2: site b's ERP, MES, WMS)",
    )
    demo.add_argument("--tryton-port", type=int, default=8200, help="port of Tryton (with --tryton)")
    demo.add_argument("--tryton-lots", type=int, default=300, help="lots of Tryton's data set (with --tryton)")
    demo.add_argument(
        "--sites", type=int, default=1, choices=range(1, 5), metavar="N",
        help="reference plants of N sites (1 to 4), one gateway over all of them (docs/sites.md)",
    )  # fmt: skip


def _command_of(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _lots(raw: str) -> int:
    from plant.generator import lots_argument

    return lots_argument(raw)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(
        os.environ, args.config, host=args.host, port=args.port, workers=args.workers, federation=args.federation
    )
    configure_logging(settings.log_level, settings.log_format)
    from api.app import create_app

    workers = settings.workers or (cores() if settings.shared_store and settings.bus == "redis" else 1)
    app = create_app(settings)
    if workers == 1:
        listener = Listener(app, bind(settings.host, settings.port))
        _listening(settings, listener.port, workers)
        run([listener])
        return 0
    socks = bind_workers(settings.host, settings.port, workers)
    port = socks[0].getsockname()[1]
    return run_workers(app, socks, started=lambda: _listening(settings, port, workers))


def _listening(settings: Settings, port: int, workers: int) -> None:
    url = f"http://{settings.host}:{port}/graphql"
    log.info("gateway listening", extra={"url": url, "workers": workers})
    if workers == 1 and not settings.workers and cores() > 1:
        log.info(
            "one worker process: the SQLite store and the in-process bus belong to one process; with store and "
            "bus on Redis, lotgraph serve starts one worker per core"
        )


def _demo_settings(args: argparse.Namespace, overrides: dict[str, Any], env: dict[str, str] | None = None) -> Settings:
    """The demo's gateway settings: its data directory and token key under ``--data-dir``, over ``overrides`` (and
    ``env`` over the environment)."""
    overrides = {**overrides, "data_dir": str(args.data_dir / "gateway")}
    overrides["auth.hs256_secret"] = demo_secret(args.data_dir / "gateway")  # kept: tokens survive a restart
    settings = load_settings({**os.environ, **(env or {})}, None, **overrides)
    configure_logging(settings.log_level, "text")
    return settings


def _demo(args: argparse.Namespace) -> int:
    if args.sites > 1:
        from api.demo_sites import run_demo as run_sites

        if args.activity or (args.tryton and args.sites != 2):
            print("lotgraph: --sites runs no --activity, and --tryton only with --sites 2", file=sys.stderr)
            return 2
        if args.tryton:
            from api.demo_sites_tryton import run_demo as run_sites_tryton

            return run_sites_tryton(args, lambda overrides, env: _demo_settings(args, overrides, env), _banner)

        return run_sites(args, lambda overrides, env: _demo_settings(args, overrides, env), _banner)
    if args.tryton:
        from api.demo_tryton import run_demo

        def tryton_line(url: str, database: str) -> str:
            return f"Tryton 8.2:                      {url}  (database {database}, user admin, password admin)"

        return run_demo(args, lambda overrides: _demo_settings(args, overrides), tryton_line, _banner)
    from api.app import create_app
    from plant.activity import MAX_RATE, Protected, WithActivity
    from plant.app import create_plant_app, ensure_data
    from plant.webhooks import WebhookTarget

    if args.activity and not 0 < args.activity_rate <= MAX_RATE:
        print(f"lotgraph: --activity-rate must be above 0 and at most {MAX_RATE:g}", file=sys.stderr)
        return 2
    plant_sock = bind(args.host, args.plant_port)
    gateway_sock = bind(args.host, args.port)
    plant_url = f"http://{args.host}:{plant_sock.getsockname()[1]}"
    gateway_url = f"http://{args.host}:{gateway_sock.getsockname()[1]}"
    overrides: dict[str, Any] = {f"sources.{name}.url": f"{plant_url}/{name}" for name in SOURCES}
    webhook_secret = secrets.token_urlsafe(32)  # plant → gateway webhooks, signed with a secret of this run
    overrides.update({f"webhooks.{name}.secret": webhook_secret for name in SOURCES})
    settings = _demo_settings(args, overrides)
    manifest = ensure_data(args.data_dir / "plant", args.seed, args.lots)
    upstream = (
        f"reference plant:                 {plant_url}/{{erp,qms,mes,wms}}  (manifest: {plant_url}/admin/manifest)"
    )
    print(_banner(gateway_url, upstream, settings, manifest), flush=True)
    webhooks = WebhookTarget.shared(gateway_url, webhook_secret)
    plant_app: Any = create_plant_app(args.data_dir / "plant", webhooks=webhooks)
    if args.activity:
        rate, protected = args.activity_rate, Protected.of_manifest(manifest)
        plant_app = WithActivity(plant_app, base_url=plant_url, rate=rate, seed=args.seed, protected=protected)
    listeners = [Listener(plant_app, plant_sock), Listener(create_app(settings), gateway_sock)]
    run(listeners)
    return 0


def _banner(gateway_url: str, upstream: str, settings: Settings, manifest: dict[str, Any]) -> str:
    demo = manifest.get("demo", {})
    secret, authenticated = settings.auth.hs256_secret or "", settings.auth.mode != "none"

    def token(subject: str, roles: list[str]) -> str:
        return mint(secret, subject, roles, ttl_seconds=DEMO_TOKEN_HOURS * 3600)

    # The links sign the browser tab in (the fragment stays in the browser): the dashboard as a viewer, GraphiQL
    # with the roles the README's examples need (shipping and quality).
    dashboard, graphiql = f"{gateway_url}/dashboard/", f"{gateway_url}/graphql"
    if authenticated:
        dashboard += f"#token={token('demo-dashboard', ['viewer'])}"
        graphiql += f"#token={token('demo-graphiql', ['shipping', 'quality'])}"
    lines = [
        "lotgraph demo",
        f"  dashboard (in a browser):        {dashboard}",
        f"  GraphQL (GraphiQL in a browser): {graphiql}",
        f"  {upstream}",
        f"  data:                            {settings.data_dir.parent}",
        "  ids to try:",
    ]
    lines += [f"    {key}: {value}" for key, value in demo.items()]
    order_id = demo.get("order") or next(iter(manifest.get("orders", {}).get("ready", [])), "SO-100001")
    auth = ""
    if not authenticated:
        lines.append("  authentication: OFF (LOTGRAPH_AUTH_MODE=none)")
    else:
        lines.append(f"  tokens, valid {DEMO_TOKEN_HOURS} h (Authorization: Bearer <token>):")
        lines += [f"    {role}: {token(f'demo-{role}', [role])}" for role in ROLES]
        lines.append(f"  more tokens: {_token_command(settings.data_dir.parent)} --role quality --sub alice")
        auth = f' -H "Authorization: Bearer {token("demo-shipping", ["shipping"])}"'
    lines += [
        "  try:",
        f'    curl -s {gateway_url}/graphql{auth} -H "Content-Type: application/json" -d '
        f'\'{{"query": "{{ order(id: \\"{order_id}\\") {{ status shipments {{ id lines {{ lots {{ id disposition '
        "stock { status } } } } } }\"}'",
    ]
    return "\n".join(lines)


def _token_command(data_dir: Path) -> str:
    """``lotgraph token`` as a command that works as printed from any directory: this installation's executable
    (a clone's ``.venv`` is not on PATH) and the demo's data dir, both absolute."""
    executable = Path(sys.executable).parent / "lotgraph"
    program = str(executable) if executable.exists() else "lotgraph"
    return shlex.join([program, "token", "--data-dir", str(data_dir.resolve())])


def _token(args: argparse.Namespace) -> int:
    secret = os.environ.get("LOTGRAPH_AUTH_HS256_SECRET")
    key_file = args.data_dir / "gateway" / "demo-secret.json"
    if not secret:
        if not key_file.exists():
            print(
                f"lotgraph: no key: set LOTGRAPH_AUTH_HS256_SECRET, or run lotgraph demo first ({key_file})",
                file=sys.stderr,
            )
            return 2
        secret = demo_secret(args.data_dir / "gateway")
    roles, sites = list(dict.fromkeys(args.role)), list(dict.fromkeys(args.site)) if args.site else None
    print(mint(secret, args.sub, roles, ttl_seconds=int(args.hours * 3600), sites=sites))
    return 0


def _settings(args: argparse.Namespace) -> int:
    if args.markdown:
        sys.stdout.write("\n".join(configuration_tables().values()))
        return 0
    for leaf in LEAVES:
        print(f"{leaf.env:<42} {leaf.key:<36} {render_default(leaf)}")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from api.app import build_graphql_schema

    sdl = build_graphql_schema(federation=args.federation).as_str() + "\n"
    if args.output:
        args.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
