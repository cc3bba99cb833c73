"""``lotgraph demo --sites N``: the reference plants of N sites (``plant.sites``), each on its own port, and one
gateway over all of them: the first site is the gateway's own (``LOTGRAPH_SITE=a``), the others are declared with
``LOTGRAPH_SITES`` (docs/sites.md)."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Callable
from typing import Any

from api.auth import mint
from api.servers import Listener, bind, run
from api.settings import SOURCES, Settings

MAX_SITES = 4


def site_settings(urls: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides (the first site's systems and its name) and the environment (the other sites) of the gateway
    over plants at ``urls`` (by site, in order)."""
    names = list(urls)
    overrides: dict[str, Any] = {f"sources.{system}.url": f"{urls[names[0]]}/{system}" for system in SOURCES}
    overrides["site"] = names[0]
    env = {"LOTGRAPH_SITES": ",".join(names[1:])}
    for name in names[1:]:
        env |= {f"LOTGRAPH_SITE_{name.upper()}_{system.upper()}_URL": f"{urls[name]}/{system}" for system in SOURCES}
    return overrides, env


def run_demo(
    args: argparse.Namespace,
    settings_for: Callable[[dict[str, Any], dict[str, str]], Settings],
    banner: Callable[[str, str, Settings, dict[str, Any]], str],
) -> int:
    from api.app import create_app
    from plant.app import create_plant_app
    from plant.sites import ensure_sites
    from plant.webhooks import WebhookTarget

    summary = ensure_sites(args.data_dir / "sites", args.sites, args.seed, args.lots)
    names: list[str] = summary["sites"]
    socks = {name: bind(args.host, args.plant_port + i if args.plant_port else 0) for i, name in enumerate(names)}
    gateway_sock = bind(args.host, args.port)
    urls = {name: f"http://{args.host}:{sock.getsockname()[1]}" for name, sock in socks.items()}
    gateway_url = f"http://{args.host}:{gateway_sock.getsockname()[1]}"
    overrides, env = site_settings(urls)
    # every site's plant sends the gateway its events, signed with that site's secret, the others to their site's route
    webhook_secrets = {name: secrets.token_urlsafe(32) for name in names}
    overrides.update({f"webhooks.{system}.secret": webhook_secrets[names[0]] for system in SOURCES})
    for name in names[1:]:
        env |= {f"LOTGRAPH_SITE_{name.upper()}_WEBHOOKS_{system.upper()}_SECRET": webhook_secrets[name]
                for system in SOURCES}  # fmt: skip
    settings = settings_for(overrides, env)
    upstream = "reference plants:                " + "  ".join(f"{n}: {u}/{{erp,qms,mes,wms}}" for n, u in urls.items())
    print(banner(gateway_url, upstream, settings, {"demo": demo_ids(summary)}), flush=True)
    print(scoped_tokens(settings, names), flush=True)
    listeners = [
        Listener(
            create_plant_app(
                args.data_dir / "sites" / name,
                webhooks=WebhookTarget.shared(
                    gateway_url, webhook_secrets[name], site=None if name == names[0] else name
                ),
            ),
            socks[name],
        )
        for name in names
    ]
    run([*listeners, Listener(create_app(settings), gateway_sock)])
    return 0


def demo_ids(summary: dict[str, Any]) -> dict[str, str]:
    """Ids to try: each site's shipment and lot (qualified but the first site's), and a lot that crossed sites."""
    names = summary["sites"]
    ids: dict[str, str] = {}
    for index, name in enumerate(names):
        prefix = "" if index == 0 else f"{name}:"
        demo = summary["demo"][name]
        ids[f"{name}: shipment_ready"] = prefix + demo["shipment_ready"]
        ids[f"{name}: lot_backward"] = prefix + demo["lot_backward"]
    for name, links in summary["links"].items():
        if links:
            ids[f"shipped by {names[0]}, received by {name} (trace it FORWARD)"] = links[0]["lot"]
            ids[f"the same lot at {name}"] = f"{name}:{links[0]['lot']}"
    return ids


def scoped_tokens(settings: Settings, names: list[str]) -> str:
    secret = settings.auth.hs256_secret or ""
    if settings.auth.mode == "none" or not secret:
        return ""
    lines = ["  quality tokens scoped to one site (reads everywhere, holds only there):"]
    for name in names:
        token = mint(secret, f"demo-quality-{name}", ["quality"], ttl_seconds=12 * 3600, sites=[name])
        lines.append(f"    quality@{name}: {token}")
    return "\n".join(lines)
