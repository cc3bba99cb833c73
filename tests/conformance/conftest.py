"""A live stack for conformance tests: the reference plant and the gateway as real ``lotgraph`` processes on free
ports, as a user runs them; and the npm packages that test them."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conformance.node import ensure_node_modules

LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
START_DEADLINE = 60.0
SOURCES = ("erp", "qms", "mes", "wms")


@dataclass
class Process:
    """A child process whose output is read on threads, so tests can wait for a line without polling."""

    popen: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    pumps: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, args: list[str], env: dict[str, str]) -> Process:
        popen = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        process = cls(popen)
        for stream in (popen.stdout, popen.stderr):
            assert stream is not None
            pump = threading.Thread(target=process._pump, args=(stream,), daemon=True)
            pump.start()
            process.pumps.append(pump)
        return process

    def _pump(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self.lines.put(line.rstrip("\n"))

    def wait_for(self, matches: Callable[[str], str | None], deadline: float = START_DEADLINE) -> str:
        """The first value ``matches`` finds in an output line, waiting at most ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while (left := end - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if (found := matches(line)) is not None:
                return found
        output = "\n".join(self.seen[-40:])
        raise AssertionError(f"{self.popen.args} did not start in {deadline:g} s; its output:\n{output}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        for pump in self.pumps:
            pump.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.popen.returncode


def plant_url(line: str) -> str | None:
    found = re.match(r"\s+plant\s+(http://127\.0\.0\.1:\d+)$", line)
    return found.group(1) if found else None


def gateway_url(line: str) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry.get("url") if isinstance(entry, dict) and entry.get("msg") == "gateway listening" else None


def gateway_env(plant: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTGRAPH_")}
    env.update({f"LOTGRAPH_{name.upper()}_URL": f"{plant}/{name}" for name in SOURCES})
    env.update(
        LOTGRAPH_HOST="127.0.0.1",
        LOTGRAPH_PORT="0",
        LOTGRAPH_DATA_DIR=str(data_dir),
        LOTGRAPH_LOG_FORMAT="json",
        LOTGRAPH_LOG_LEVEL="info",
        LOTGRAPH_AUTH_MODE="none",  # these tests are about protocols; auth has its own (tests/security)
    )
    env.update(settings)
    return env


def start_gateway(args: list[str], env: dict[str, str]) -> tuple[Process, str]:
    """``lotgraph serve …``; returns once it answers ``/healthz``. The URL is the GraphQL endpoint."""
    process = Process.start(args, env)
    url = process.wait_for(gateway_url)
    base = url.removesuffix("/graphql")
    response = httpx.get(f"{base}/healthz", timeout=START_DEADLINE)
    assert response.status_code == 200, response.text
    return process, url


@dataclass(frozen=True)
class Live:
    plant: str
    gateway: str  # the GraphQL endpoint, http://127.0.0.1:<port>/graphql

    @property
    def base(self) -> str:
        return self.gateway.removesuffix("/graphql")


@pytest.fixture(scope="session")
def npm() -> Path:
    return ensure_node_modules()


@pytest.fixture(scope="session")
def live_plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("conformance-plant")
    plant = Process.start(
        [LOTGRAPH, "plant", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data)], dict(os.environ)
    )
    try:
        yield plant.wait_for(plant_url)
    finally:
        plant.stop()


@pytest.fixture(scope="session")
def live(live_plant: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    env = gateway_env(live_plant, tmp_path_factory.mktemp("conformance-gateway"))
    process, url = start_gateway([LOTGRAPH, "serve"], env)
    try:
        yield Live(live_plant, url)
    finally:
        assert process.stop() == 0, "\n".join(process.seen[-40:])
