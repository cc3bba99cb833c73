"""Real processes for the hold tests: the reference plant and gateway replicas, each a `lotgraph` command on a free
port of 127.0.0.1, started and awaited with deadlines, stopped (or killed) by the test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import free_port

LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
START_DEADLINE = 60.0


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _make(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)


@dataclass
class Process:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start(args: list[str], env: dict[str, str], url: str, ready_path: str, log: Path) -> Process:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOTGRAPH_")}
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            LOTGRAPH, *args, stdout=out, stderr=asyncio.subprocess.STDOUT, env={**base, **env}
        )
    started = Process(process, url, log)
    deadline = time.monotonic() + START_DEADLINE
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"{args[0]} exited with {process.returncode}:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(ready_path)).status_code == 200:
                    return started
            if time.monotonic() > deadline:
                await started.stop(signal.SIGKILL)
                raise AssertionError(f"{args[0]} did not answer within {START_DEADLINE:g} s:\n{_tail(log)}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def plant_process(data_dir: Path) -> AsyncIterator[Process]:
    """The plant generated in ``data_dir``, served on one port."""
    port = free_port()
    process = await start(
        ["plant", "--data-dir", str(data_dir), "--port", str(port)],
        {},
        f"http://127.0.0.1:{port}",
        "/admin/manifest",
        data_dir.parent / f"plant-{port}.log",
    )
    try:
        yield process
    finally:
        await process.stop()


async def start_gateway(plant_url: str, data_dir: Path, **env: str) -> Process:
    port = free_port()
    settings = {
        **{f"LOTGRAPH_{name}_URL": f"{plant_url}/{name.lower()}" for name in ("ERP", "QMS", "MES", "WMS")},
        "LOTGRAPH_PORT": str(port),
        "LOTGRAPH_DATA_DIR": str(data_dir),
        "LOTGRAPH_LOG_LEVEL": "warning",
        "LOTGRAPH_AUTH_MODE": "none",  # storms across replicas; authentication has its own tests (tests/security)
        "LOTGRAPH_LIMITS_RATE": "0",
        "LOTGRAPH_HOLDS_RETRY_BASE_SECONDS": "0.05",
        "LOTGRAPH_HOLDS_RETRY_MAX_SECONDS": "0.2",
        "LOTGRAPH_HOLDS_RETRY_POLL_SECONDS": "0.05",
        "LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS": "200",
        **env,
    }
    _make(data_dir)
    return await start(["serve"], settings, f"http://127.0.0.1:{port}", "/healthz", data_dir / f"gateway-{port}.log")
