"""``lotgraph serve --workers N``: N processes on one port, connections spread over all of them; and the embedded
store and bus refuse more than one."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from api.settings import SOURCES
from bench.launch import LaunchError, gateway, started
from tests.waits import eventually

CONNECTIONS = 40
DEADLINE = 60.0


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"http://127.0.0.1:9/{name}" for name in SOURCES}
    env |= {"LOTGRAPH_DATA_DIR": str(tmp_path), "LOTGRAPH_AUTH_MODE": "none"}
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


async def _accepted(parent: int, port: int) -> list[int]:
    """Connections each worker holds, once the workers have accepted all ``CONNECTIONS``."""

    async def all_held() -> list[int] | None:
        held = [_established(pid, port) for pid in _children(parent)]
        return held if sum(held) >= CONNECTIONS else None

    return await eventually(all_held, f"the workers accepted all {CONNECTIONS} connections", DEADLINE, every=0.05)


async def test_two_workers_share_the_connections(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        LOTGRAPH_STORE="redis",
        LOTGRAPH_BUS="redis",
        LOTGRAPH_REDIS_URL="redis://127.0.0.1:6379/0",
        LOTGRAPH_REDIS_PREFIX=f"test-workers-{uuid.uuid4().hex}:",
    )
    served = await started(gateway, env, "--workers", "2", log=tmp_path / "gateway.log")
    held_open: list[socket.socket] = []
    try:
        port = int(served.url.rsplit(":", 1)[1])
        for _ in range(CONNECTIONS):  # a request not finished yet: each worker keeps the connections it accepted
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: lotgraph\r\n")
            held_open.append(sock)
        held = await _accepted(served.pid, port)
        assert len(held) == 2
        assert min(held) > 0  # both workers accept (all 40 on one: a chance of 2 in a trillion)
    finally:
        for sock in held_open:
            sock.close()
        assert await served.astop() == 0, served.tail()


async def test_more_than_one_worker_needs_a_shared_store(tmp_path: Path) -> None:
    with pytest.raises(
        LaunchError, match=r"LOTGRAPH_WORKERS: 2 worker processes need LOTGRAPH_STORE=postgres \(or redis\)"
    ):
        await started(gateway, _env(tmp_path), "--workers", "2", log=tmp_path / "gateway.log")
