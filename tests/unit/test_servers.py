"""The servers of api/servers.py: TCP_NODELAY on every accepted connection, whatever the event loop."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvloop
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.servers import bind, bind_workers, server

REQUESTS = 50


def _app() -> Starlette:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)])


async def _nodelay_of_accepted() -> tuple[int, list[int]]:
    """Serve on a pre-bound socket (it queues connections until the server accepts), send ``REQUESTS`` requests on
    one kept-alive connection, and read TCP_NODELAY back from each accepted socket, server side: (requests answered,
    the option per open connection)."""
    sock = bind("127.0.0.1", 0)
    one = server(_app())
    serving = asyncio.create_task(one.serve(sockets=[sock]))
    try:
        answered = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as client:
            for _ in range(REQUESTS):
                answered += (await client.get("/")).text == "hello"
            options = [
                connection.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                for connection in one.server_state.connections
            ]
        return answered, options
    finally:
        one.should_exit = True
        await serving
        sock.close()


async def test_accepted_connections_have_nodelay_under_asyncio() -> None:
    answered, options = await _nodelay_of_accepted()
    assert answered == REQUESTS
    assert len(options) == 1  # one connection served them all
    assert all(options)


def test_accepted_connections_have_nodelay_under_uvloop() -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        answered, options = runner.run(_nodelay_of_accepted())
    assert answered == REQUESTS
    assert len(options) == 1
    assert all(options)


def test_worker_sockets_share_one_port() -> None:
    socks = bind_workers("127.0.0.1", 0, 3)
    try:
        assert len({sock.getsockname()[1] for sock in socks}) == 1
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for sock in socks)
    finally:
        for sock in socks:
            sock.close()
