"""A live stack for conformance tests: the reference plant and the gateway as real ``lotgraph`` processes on free
ports, as a user runs them; and the npm packages that test them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import launch
from bench.launch import Launched
from tests.conformance.node import ensure_node_modules

SOURCES = ("erp", "qms", "mes", "wms")


def gateway_url(line: str) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry.get("url") if isinstance(entry, dict) and entry.get("msg") == "gateway listening" else None


def gateway_env(plant: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {f"LOTGRAPH_{name.upper()}_URL": f"{plant}/{name}" for name in SOURCES}
    env.update(
        LOTGRAPH_DATA_DIR=str(data_dir),
        LOTGRAPH_LOG_FORMAT="json",
        LOTGRAPH_LOG_LEVEL="info",
        LOTGRAPH_AUTH_MODE="none",  # these tests are about protocols; auth has its own (tests/security)
    )
    env.update(settings)
    return env


def start_gateway(env: dict[str, str], *args: str, log: Path) -> tuple[Launched, str]:
    """``lotgraph serve …``, once it answers ``/healthz``; and its GraphQL endpoint, as its JSON log announces it."""
    process = launch.gateway(env, *args, log=log)
    urls = [url for line in process.output().splitlines() if (url := gateway_url(line))]
    assert urls == [f"{process.url}/graphql"], process.tail()
    return process, urls[0]


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
    plant = launch.plant(tmp_path_factory.mktemp("conformance-plant") / "data")
    try:
        yield plant.url
    finally:
        plant.stop()


@pytest.fixture(scope="session")
def live(live_plant: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    directory = tmp_path_factory.mktemp("conformance-gateway")
    process, url = start_gateway(gateway_env(live_plant, directory / "data"), log=directory / "gateway.log")
    try:
        yield Live(live_plant, url)
    finally:
        assert process.stop() == 0, process.tail()
