"""``lotgraph serve --workers N``: N processes on one port, connections spread over all of them; and the embedded
store and bus refuse more than one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

import httpx

from api.settings import SOURCES

LOTGRAPH = str(Path(sys.executable).parent / "lotgraph")
CONNECTIONS = 40
START_DEADLINE = 60.0


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, **{f"LOTGRAPH_{name.upper()}_URL": f"http://127.0.0.1:9/{name}" for name in SOURCES}}
    env |= {"LOTGRAPH_DATA_DIR": str(tmp_path), "LOTGRAPH_AUTH_MODE": "none", "LOTGRAPH_LOG_FORMAT": "json"}
    return env | extra


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _established(pid: int, port: int) -> int:
    """Established TCP connections to ``port`` that process ``pid`` holds open (from /proc, server side)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        count += local_port == port and state == "01" and inode in inodes
    return count


async def _url_from_log(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        found = re.search(r"http://127\.0\.0\.1:\d+", json.loads(line).get("url", ""))
        if found:
            return found.group(0)
    raise AssertionError("lotgraph serve exited before it listened")


async def test_two_workers_share_the_connections(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        LOTGRAPH_STORE="redis",
        LOTGRAPH_BUS="redis",
        LOTGRAPH_REDIS_URL="redis://127.0.0.1:6379/0",
        LOTGRAPH_REDIS_PREFIX=f"test-workers-{uuid.uuid4().hex}:",
    )
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH, "serve", "--port", "0", "--workers", "2", stderr=asyncio.subprocess.PIPE, env=env
    )
    held_open: list[socket.socket] = []
    try:
        url = await asyncio.wait_for(_url_from_log(process), START_DEADLINE)
        port = int(url.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=url) as client:  # the workers are forked once the URL is logged
            assert (await client.get("/healthz")).status_code == 200
        children = _children(process.pid)
        assert len(children) == 2
        for _ in range(CONNECTIONS):  # a request not finished yet: each worker keeps the connections it accepted
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: lotgraph\r\n")
            held_open.append(sock)
        held = await _accepted(children, port)
        assert min(held) > 0  # both workers accept (all 40 on one: a chance of 2 in a trillion)
    finally:
        for sock in held_open:
            sock.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def _accepted(children: list[int], port: int) -> list[int]:
    """Connections each worker holds, once they have accepted all ``CONNECTIONS``."""
    deadline = time.monotonic() + START_DEADLINE
    while sum(held := [_established(pid, port) for pid in children]) < CONNECTIONS:
        assert time.monotonic() < deadline, f"the workers accepted {held} of {CONNECTIONS} connections"
        await asyncio.sleep(0.05)
    return held


async def test_more_than_one_worker_needs_redis(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        LOTGRAPH, "serve", "--port", "0", "--workers", "2", stderr=asyncio.subprocess.PIPE, env=_env(tmp_path)
    )
    _, stderr = await asyncio.wait_for(process.communicate(), START_DEADLINE)
    assert process.returncode == 2
    assert "LOTGRAPH_WORKERS: 2 worker processes need LOTGRAPH_STORE=redis and LOTGRAPH_BUS=redis" in stderr.decode()
