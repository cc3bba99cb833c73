"""Start lotgraph's processes (``lotgraph plant``, ``serve``, ``demo``) or any other server as a subprocess on a free
port of 127.0.0.1, wait until it answers (polling, within a deadline), keep its output in a log file whose tail goes
into failure messages, and stop it (SIGTERM, then SIGKILL after a bound).

The one launcher of the tests and the benchmarks. It lives in ``bench/`` because the benchmarks run without the
test dependencies (no pytest) and must not import ``tests/``, while the tests already use ``bench``; it needs only
the standard library. Tests in an event loop start and stop processes through ``running`` / ``started``, which
block in a worker thread rather than in the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
START_DEADLINE = 60.0
STOP_DEADLINE = 30.0
POLL_SECONDS = 0.05

P = ParamSpec("P")
T = TypeVar("T")


class Stoppable(Protocol):
    async def astop(self) -> int: ...


S = TypeVar("S", bound=Stoppable)


class LaunchError(RuntimeError):
    """A process did not become ready: it exited, or did not answer within its deadline (the log's tail says why)."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``GET url`` answers with a status below 500."""
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ValueError(f"no host in {url!r}")
    host, port, path = parts.hostname, parts.port or 80, parts.path or "/"

    def check() -> bool:
        connection = http.client.HTTPConnection(host, port, timeout=2)
        try:
            connection.request("GET", path)
            return connection.getresponse().status < 500
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    return check


@dataclass
class Launched:
    """A started process; ``url`` is its base URL (no trailing slash) when it serves HTTP."""

    args: list[str]
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]

    def stop(self, sig: signal.Signals = signal.SIGTERM, deadline: float = STOP_DEADLINE) -> int:
        """Send ``sig`` to the process (and its children); SIGKILL if it still runs after ``deadline`` seconds.
        Returns the exit code."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(deadline)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(deadline)
        return self.popen.returncode

    def kill(self) -> int:
        """SIGKILL: no graceful shutdown, as when a machine or a container dies."""
        return self.stop(signal.SIGKILL)

    async def astop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        return await asyncio.to_thread(self.stop, sig)


def launch(
    args: Sequence[str],
    *,
    log: Path,
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    url: str = "",
    deadline: float = START_DEADLINE,
) -> Launched:
    """Start ``args`` with our environment (less any ``LOTGRAPH_…`` setting) plus ``env``, output to ``log``; return
    once ``ready()`` holds. Raises ``LaunchError`` (with the log's tail) if it exits first or the deadline passes."""
    base = {name: value for name, value in os.environ.items() if not name.startswith("LOTGRAPH_")}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        popen = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**base, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,  # its own process group: a Ctrl-C reaches only us, and stop() reaches children
        )
    launched = Launched(list(args), popen, log, url)
    end = time.monotonic() + deadline
    while True:
        if popen.poll() is not None:
            raise LaunchError(
                f"{' '.join(args[:2])} exited with {popen.returncode} before it was ready:\n{launched.tail()}"
            )
        if ready():
            return launched
        if time.monotonic() > end:
            launched.kill()
            raise LaunchError(f"{' '.join(args[:2])} was not ready within {deadline:g} s:\n{launched.tail()}")
        time.sleep(POLL_SECONDS)


# -- lotgraph's commands ----------------------------------------------------------------------------------------


def plant(
    data_dir: Path, *args: str, log: Path | None = None, env: Mapping[str, str] | None = None, port: int = 0
) -> Launched:
    """``lotgraph plant`` serving (and, if empty, first generating) ``data_dir``; ready once it serves its manifest."""
    port = port or free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [LOTGRAPH, "plant", "--host", LOOPBACK, "--port", str(port), "--data-dir", str(data_dir), *args]
    log = log or data_dir.parent / f"plant-{port}.log"
    return launch(command, log=log, ready=answers(f"{url}/admin/manifest"), env=env, url=url)


def gateway(env: Mapping[str, str], *args: str, log: Path, port: int = 0) -> Launched:
    """``lotgraph serve`` with the settings in ``env``; ready once it answers ``/healthz``. A given ``port`` lets a
    test start it again where clients expect it."""
    port = port or free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [LOTGRAPH, "serve", "--host", LOOPBACK, "--port", str(port), *args]
    return launch(command, log=log, ready=answers(f"{url}/healthz"), env=env, url=url)


@dataclass(frozen=True)
class Demo:
    """``lotgraph demo``: the gateway (``process.url``), the plant, and what its banner says (tokens by role)."""

    process: Launched
    plant: str

    @property
    def gateway(self) -> str:
        return self.process.url

    @property
    def dashboard(self) -> str:
        return f"{self.gateway}/dashboard/"

    @property
    def banner(self) -> str:
        return self.process.output()

    @property
    def tokens(self) -> dict[str, str]:
        return dict(re.findall(r"^\s+(admin|quality|shipping|viewer): (ey\S+)$", self.banner, flags=re.MULTILINE))

    async def astop(self) -> int:
        return await self.process.astop()


def demo(
    data_dir: Path,
    *args: str,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    deadline: float = START_DEADLINE,
) -> Demo:
    """``lotgraph demo`` in ``data_dir`` with ``args`` (and the settings in ``env``) added; ready once its gateway
    answers (the banner, printed before it serves, is then in the log)."""
    port, plant_port = free_port(), free_port()
    command = [LOTGRAPH, "demo", "--port", str(port), "--plant-port", str(plant_port), "--data-dir", str(data_dir)]
    url = f"http://{LOOPBACK}:{port}"
    log = log or data_dir.parent / f"demo-{port}.log"
    settings = {"LOTGRAPH_LOG_LEVEL": "warning", **(env or {})}
    ready = answers(f"{url}/healthz")
    process = launch([*command, *args], log=log, ready=ready, env=settings, url=url, deadline=deadline)
    return Demo(process, f"http://{LOOPBACK}:{plant_port}")


# -- from an event loop -----------------------------------------------------------------------------------------


async def started(start: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``start(*args, **kwargs)`` in a worker thread, so the event loop goes on while the process comes up."""
    return await asyncio.to_thread(start, *args, **kwargs)


@contextlib.asynccontextmanager
async def running(start: Callable[P, S], *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[S]:
    """``started(...)`` for the ``async with`` block, stopped on the way out."""
    launched = await started(start, *args, **kwargs)
    try:
        yield launched
    finally:
        await launched.astop()
