"""Fixtures for the reference plant: one generated plant per session, a fresh copy per test."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from plant.app import create_plant_app
from plant.generator import generate

BASE_DATE = date(2026, 11, 23)
FILES = ("erp.db", "qms.db", "mes.db", "wms.db", "manifest.json")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-lot plant, generated once; tests work on copies of it."""
    path = tmp_path_factory.mktemp("plant-source")
    generate(path, seed=7, lots=2000, base_date=BASE_DATE)
    return path


@pytest.fixture(scope="session")
def plant_manifest(generated: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((generated / "manifest.json").read_text())
    return manifest


@pytest.fixture
def data_dir(generated: Path, tmp_path: Path) -> Path:
    target = tmp_path / "plant"
    target.mkdir()
    for name in FILES:
        shutil.copy(generated / name, target / name)
    return target


@pytest.fixture
async def plant_app(data_dir: Path) -> AsyncIterator[Starlette]:
    """The combined plant over a copy of the generated data; its lifespan closes the databases."""
    app = create_plant_app(data_dir)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(plant_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plant_app), base_url="http://plant") as c:
        yield c
