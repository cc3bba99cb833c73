"""`lotgraph demo` as a real process on free ports: start it, read its banner (URLs and tokens), stop it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
START_DEADLINE = 60.0


@dataclass
class Demo:
    process: asyncio.subprocess.Process
    banner: list[str]
    gateway: str = field(init=False)
    plant: str = field(init=False)
    dashboard: str = field(init=False)
    tokens: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        text = "\n".join(self.banner)
        gateway = re.search(r"(http://127\.0\.0\.1:\d+)/graphql", text)
        plant = re.search(r"reference plant:\s+(http://127\.0\.0\.1:\d+)", text)
        dashboard = re.search(r"dashboard \(in a browser\):\s+(http://127\.0\.0\.1:\d+/dashboard/)", text)
        assert gateway, text
        assert plant, text
        assert dashboard, text
        self.gateway, self.plant, self.dashboard = gateway.group(1), plant.group(1), dashboard.group(1)
        self.tokens = dict(re.findall(r"^\s+(admin|quality|shipping|viewer): (ey\S+)$", text, flags=re.M))


async def _read_banner(process: asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise AssertionError("demo exited before printing its URLs: " + "\n".join(lines))
        lines.append(line.rstrip())
        if line.strip().startswith("try:"):
            return lines


@contextlib.asynccontextmanager
async def running_demo(data_dir: Path, *args: str) -> AsyncIterator[Demo]:
    """The demo on free ports with ``args`` added; stopped with SIGTERM on the way out (if still running)."""
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH,
        "demo",
        "--port",
        "0",
        "--plant-port",
        "0",
        "--data-dir",
        str(data_dir),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "LOTGRAPH_LOG_LEVEL": "warning"},
    )
    try:
        yield Demo(process, await asyncio.wait_for(_read_banner(process), START_DEADLINE))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
