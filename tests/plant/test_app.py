"""The combined app, the per-system apps, serving on real sockets, and the CLI's arguments."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from plant.app import PlantServer, create_system_app
from plant.cli import add_arguments, describe


async def test_index_and_manifest(client: httpx.AsyncClient, plant_manifest: dict[str, Any]) -> None:
    index = (await client.get("/")).json()
    assert set(index["systems"]) == {"erp", "qms", "mes", "wms"}
    assert (await client.get("/admin/manifest")).json() == plant_manifest
    unknown = await client.get("/nowhere")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = await client.delete("/qms/lots/LOT-000001")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_correlation_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/mes/lots/LOT-000001", headers={"X-Correlation-ID": "abc-123"})
    assert response.headers["x-correlation-id"] == "abc-123"
    assert "x-correlation-id" not in (await client.get("/mes/lots/LOT-000001")).headers


def test_unknown_system_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown system"):
        create_system_app("crm", tmp_path)


async def test_server_on_real_sockets_shares_knobs_between_ports(data_dir: Path) -> None:
    server = PlantServer(data_dir, port=0, split_ports=True)
    assert set(server.urls) == {"plant", "erp", "qms", "mes", "wms"}
    assert len(set(server.urls.values())) == 5
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{server.urls['plant']}/admin/manifest")).status_code == 200
            assert (await http.get(f"{server.urls['qms']}/lots/LOT-000001")).status_code == 200
            await http.put(f"{server.urls['plant']}/qms/admin/faults", json={"outage": True})
            assert (await http.get(f"{server.urls['qms']}/lots/LOT-000001")).status_code == 503
            stats = (await http.get(f"{server.urls['qms']}/admin/stats")).json()
            assert stats["requests"] == {"GET /lots/{id}": 2}
    finally:
        server.stop()
        await serving


async def test_server_sets_nodelay_on_accepted_connections(data_dir: Path) -> None:
    """Without TCP_NODELAY a kept-alive client waits ~40 ms per request (Nagle against delayed ACK)."""
    server = PlantServer(data_dir, port=0)
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(20):
                assert (await http.get(f"{server.urls['qms']}/lots/LOT-000001")).status_code == 200
            uvicorn_server = server._servers[0][0]  # the combined plant's; its open connections, server side
            options = [
                connection.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                for connection in uvicorn_server.server_state.connections
            ]
        assert len(options) == 1  # one connection answered all 20
        assert all(options)
    finally:
        server.stop()
        await serving


def test_cli_arguments_and_summary() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.data_dir, args.seed, args.lots) == (
        "127.0.0.1",
        8100,
        Path("data/plant"),
        7,
        2000,
    )
    assert not args.regenerate
    assert not args.split_ports
    args = parser.parse_args(["--port", "9000", "--lots", "20000", "--split-ports", "--regenerate"])
    assert (args.port, args.lots, args.split_ports, args.regenerate) == (9000, 20000, True, True)


def test_summary_lists_urls_and_demo_ids(plant_manifest: dict[str, Any]) -> None:
    text = describe(plant_manifest, {"plant": "http://127.0.0.1:8100", "qms": "http://127.0.0.1:8100/qms"})
    assert "http://127.0.0.1:8100/admin/manifest" in text
    assert plant_manifest["demo"]["shipment_ready"] in text
