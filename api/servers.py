"""Run one or more ASGI apps under uvicorn in this event loop, on sockets bound before anything is printed; or one
app in several worker processes, each accepting on its own ``SO_REUSEPORT`` socket of one port."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NoReturn

import uvicorn
from starlette.types import ASGIApp

GC_THRESHOLDS = (10_000, 20, 50)
"""Young collections every 10,000 allocations (Python's default: 700), older ones every 20 young ones (default 10).
A request leaves cyclic garbage (graphql-core's and strawberry's per-operation objects, the loaders) that only a
collection frees, and a young collection's pause grows with what it walks: at 20,000 it freed about 15,000 objects
in 5 to 6 ms every 400 one-lot requests, the one-connection p99. Lower is not better: at 2,000 (older every 200) the
young collections ran inside the 50-shipment list's requests and promoted their live objects, and that list's p99
at one connection was 180 ms (30x its p50); at 10,000 it is 9 ms (docs/benchmarks.md, "One-connection tail")."""


@dataclass(frozen=True, slots=True)
class Listener:
    app: ASGIApp
    sock: socket.socket

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port


def cores() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind now (port 0 picks a free one), so the URL is valid before the server loop starts.

    The socket is made with protocol ``IPPROTO_TCP`` (not 0): asyncio's transports set TCP_NODELAY only on sockets
    that say so, and without it a keep-alive client waits ~40 ms per request (Nagle against delayed ACK).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_workers(host: str, port: int, workers: int) -> list[socket.socket]:
    """One listening ``SO_REUSEPORT`` socket per worker, all on one port: the kernel spreads new connections over
    them evenly (by a hash of the connection), where workers sharing one socket take them unevenly."""
    first = bind(host, port, reuse_port=True)
    port = first.getsockname()[1]
    socks = [first]
    try:
        socks += [bind(host, port, reuse_port=True) for _ in range(workers - 1)]
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


class _Server(uvicorn.Server):
    """Signals are handled once for all servers by ``serve_all``; the heap is frozen once the app has started."""

    def __init__(self, config: uvicorn.Config, *, freeze_heap: bool) -> None:
        super().__init__(config)
        self.freeze_heap = freeze_heap

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.freeze_heap:
            gc.freeze()  # what start-up built lives as long as the process: no collection walks it again


def server(app: ASGIApp, *, graceful_seconds: int = 5, freeze_heap: bool = False) -> uvicorn.Server:
    config = uvicorn.Config(
        app, log_config=None, access_log=False, timeout_graceful_shutdown=graceful_seconds, ws="websockets-sansio"
    )
    return _Server(config, freeze_heap=freeze_heap)


def run(listeners: Sequence[Listener]) -> None:
    """Serve until SIGINT or SIGTERM, on uvloop where it is installed (it cuts the gateway's CPU per request), with
    the start-up heap frozen and the collector's thresholds raised (see ``GC_THRESHOLDS``)."""
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform but Windows
        asyncio.run(serve_all(listeners, freeze_heap=True))
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_all(listeners, freeze_heap=True))


def run_workers(app: ASGIApp, socks: Sequence[socket.socket], started: Callable[[], None]) -> int:
    """Serve ``app`` in one forked process per socket (see ``bind_workers``) until SIGINT or SIGTERM, calling
    ``started`` once every worker is forked. The app is built once, before the fork, so the workers share its pages.
    If a worker dies, the others are stopped and the exit status is 1 (a supervisor restarts the whole)."""
    supervisor = _Supervisor()
    gc.freeze()  # the pages of the built app stay shared after the fork (no collection writes to them)
    with supervisor.handling_signals():
        for index in range(len(socks)):
            if supervisor.stopping:
                break
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child (tests/gateway/test_workers.py watches it from outside)
                _worker(app, socks, index)
            supervisor.pids.append(pid)
        for sock in socks:
            sock.close()
        started()
        return supervisor.wait()


def _worker(app: ASGIApp, socks: Sequence[socket.socket], index: int) -> NoReturn:  # pragma: no cover - in a child
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)  # until the worker's loop handles them
    for other in (*socks[:index], *socks[index + 1 :]):
        other.close()
    status = 1
    try:
        run([Listener(app, socks[index])])
        status = 0
    finally:
        os._exit(status)


class _Supervisor:
    """The workers' parent: forwards SIGINT/SIGTERM as SIGTERM to every worker, and stops them all if one ends."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.stopping = False

    def stop(self, signum: int = signal.SIGTERM, frame: object = None) -> None:
        self.stopping = True
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    @contextlib.contextmanager
    def handling_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def wait(self) -> int:
        status = 0
        while self.pids:
            pid, code = os.wait()
            self.pids.remove(pid)
            if not self.stopping:  # a worker ended on its own: stop the rest
                status = 1
                self.stop()
            elif os.waitstatus_to_exitcode(code) not in (0, -signal.SIGTERM, -signal.SIGINT):
                status = 1
        return status


async def serve_all(listeners: Sequence[Listener], *, graceful_seconds: int = 5, freeze_heap: bool = False) -> None:
    servers = [
        server(listener.app, graceful_seconds=graceful_seconds, freeze_heap=freeze_heap) for listener in listeners
    ]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for one in servers:
            one.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        tasks = [
            asyncio.create_task(one.serve(sockets=[listener.sock]))
            for one, listener in zip(servers, listeners, strict=True)
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
