"""The Tryton adapters over the session's Tryton (tests/tryton_server.py), through its counting proxy."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sources.bundle import Sources
from tests.tryton_server import Tryton, tryton_sources


@pytest.fixture
async def sources(tryton: Tryton) -> AsyncIterator[Sources]:
    bundle = tryton_sources(tryton)
    yield bundle
    with contextlib.suppress(Exception):
        await bundle.aclose()


@pytest.fixture
def manifest(tryton: Tryton) -> dict[str, Any]:
    return tryton.manifest


@pytest.fixture
def tryton_home(tryton: Tryton) -> Path:
    return tryton.server.home
