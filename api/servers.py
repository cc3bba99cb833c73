"""Run one or more ASGI apps under uvicorn in this event loop, on sockets bound before anything is printed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


@dataclass(frozen=True, slots=True)
class Listener:
    app: ASGIApp
    sock: socket.socket

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port


def bind(host: str, port: int) -> socket.socket:
    """Bind now (port 0 picks a free one), so the URL is valid before the server loop starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """Signals are handled once for all servers by ``serve_all``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run(listeners: Sequence[Listener]) -> None:
    """Serve until SIGINT or SIGTERM, on uvloop where it is installed (it cuts the gateway's CPU per request)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform but Windows
        asyncio.run(serve_all(listeners))
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_all(listeners))


async def serve_all(listeners: Sequence[Listener], *, graceful_seconds: int = 5) -> None:
    servers = [
        _Server(
            uvicorn.Config(
                listener.app,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=graceful_seconds,
                ws="websockets-sansio",
            )
        )
        for listener in listeners
    ]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        tasks = [
            asyncio.create_task(server.serve(sockets=[listener.sock]))
            for server, listener in zip(servers, listeners, strict=True)
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
