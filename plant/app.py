"""The reference plant as one app (``/erp``, ``/qms``, ``/mes``, ``/wms``) or one app per system, and serving it.

``PlantServer`` binds its sockets when constructed (so the URLs are known and a busy port fails early)
and serves with uvicorn inside the caller's event loop, so the plant and the gateway can share one
process: ``await asyncio.gather(plant.serve(), gateway.serve())``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Callable, Generator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from plant import erp, mes, qms, wms
from plant.generator import generate, load_manifest
from plant.http import EXCEPTION_HANDLERS, PlantError, ok
from plant.service import database_of
from plant.webhooks import WebhookSender, WebhookTarget

SYSTEMS: dict[str, Callable[[Path], Starlette]] = {
    "erp": erp.create_app,
    "qms": qms.create_app,
    "mes": mes.create_app,
    "wms": wms.create_app,
}


def create_system_app(system: str, data_dir: Path) -> Starlette:
    """One system (``erp``, ``qms``, ``mes`` or ``wms``) over its database in ``data_dir``."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; one of {', '.join(SYSTEMS)}")
    return SYSTEMS[system](data_dir / f"{system}.db")


def create_plant_app(
    data_dir: Path, systems: dict[str, Starlette] | None = None, *, webhooks: WebhookTarget | None = None
) -> Starlette:
    """All four systems under ``/erp`` … ``/wms``, plus ``GET /admin/manifest`` (and ``GET /``); with ``webhooks``,
    each system's outbox is delivered to that gateway while the app runs (``plant.webhooks``)."""
    apps = systems or {name: create_system_app(name, data_dir) for name in SYSTEMS}

    async def manifest(request: Request) -> Response:
        found = load_manifest(data_dir)
        if found is None:
            raise PlantError(404, "NO_MANIFEST", f"no generated plant in {data_dir}")
        return ok(found)

    async def index(request: Request) -> Response:
        listing = {name: {"base_url": f"/{name}", "openapi": f"/{name}/openapi.json"} for name in apps}
        return ok({"systems": listing, "manifest": "/admin/manifest"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sender = None
        if webhooks is not None:
            sender = WebhookSender({name: database_of(a) for name, a in apps.items()}, webhooks)
            sender.start()
        app.state.webhooks = sender
        try:
            yield
        finally:
            if sender is not None:
                await sender.stop()
            for system_app in apps.values():
                database_of(system_app).close()

    routes: list[BaseRoute] = [
        Route("/", index, methods=["GET"]),
        Route("/admin/manifest", manifest, methods=["GET"]),
        *(Mount(f"/{name}", app=system_app) for name, system_app in apps.items()),
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.systems = apps
    return app


def ensure_data(data_dir: Path, seed: int = 7, lots: int = 2000) -> dict[str, Any]:
    """Generate a plant into ``data_dir`` unless one is there already; return its manifest."""
    complete = all((data_dir / f"{name}.db").is_file() for name in SYSTEMS)
    manifest = load_manifest(data_dir) if complete else None
    return manifest if manifest is not None else generate(data_dir, seed=seed, lots=lots)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``PlantServer``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket made with protocol ``IPPROTO_TCP``: asyncio sets TCP_NODELAY on accepted connections
    only then, and without it every keep-alive client waits ~40 ms per request (Nagle against delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class PlantServer:
    """The plant served on one port, or (``split_ports``) the combined app on ``port`` and the systems
    on ``port + 1`` … ``port + 4`` (ERP, QMS, MES, WMS), sharing databases and fault knobs."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8100,
        split_ports: bool = False,
        log_level: str = "warning",
        webhooks: WebhookTarget | None = None,
    ) -> None:
        systems = {name: create_system_app(name, data_dir) for name in SYSTEMS}
        plant = create_plant_app(data_dir, systems, webhooks=webhooks)
        apps: list[tuple[str, Starlette, int]] = [("plant", plant, port)]
        if split_ports:  # port 0: every app on a free port of its own
            apps += [(name, systems[name], port + i if port else 0) for i, name in enumerate(SYSTEMS, start=1)]
        self.urls: dict[str, str] = {}
        self._servers: list[tuple[uvicorn.Server, socket.socket]] = []
        try:
            for name, app, app_port in apps:
                sock = _listen(host, app_port)
                config = uvicorn.Config(
                    app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=2
                )
                self._servers.append((_Server(config), sock))
                bound = sock.getsockname()[1]
                self.urls[name] = f"http://{host}:{bound}"
        except OSError:
            self.close()
            raise
        if not split_ports:
            self.urls.update({name: f"{self.urls['plant']}/{name}" for name in SYSTEMS})

    async def serve(self, *, handle_signals: bool = False) -> None:
        """Serve until ``stop()`` (or, with ``handle_signals``, SIGINT/SIGTERM); then close the sockets."""
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in self._servers]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            self.stop()
            await asyncio.gather(*tasks)
        finally:
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            self.close()

    def stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True

    def close(self) -> None:
        for _, sock in self._servers:
            sock.close()


async def serve(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8100,
    split_ports: bool = False,
    log_level: str = "warning",
    handle_signals: bool = False,
) -> None:
    """Serve the plant in ``data_dir`` (which must hold a generated plant) until cancelled or stopped."""
    server = PlantServer(data_dir, host=host, port=port, split_ports=split_ports, log_level=log_level)
    await server.serve(handle_signals=handle_signals)
