"""EPCIS fixtures: the example documents, plants loaded from them, and GraphQL over either MES kind.

The GS1 examples are read from the shared example folder beside the clone (``../shared/epcis``, or the folder
``LOTGRAPH_EPCIS_EXAMPLES`` names); the GDST chain (MIT, with its licence) is copied under ``data/``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from plant.app import create_plant_app
from plant.epcis_import import import_documents, read_files
from resolvers.context import Context, ReadingServices
from schema import build_schema
from sources.bundle import Sources
from sources.contract.erp import ErpSource
from sources.contract.mes import MesSource
from sources.contract.qms import QmsSource
from sources.contract.wms import WmsSource
from sources.epcis.adapter import EpcisMesSource
from sources.http import SourceClient
from tests.conftest import PLANT

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
GDST = DATA / "gdst_data_withmasterdata.jsonld"


def examples_dir() -> Path:
    folder = Path(os.environ.get("LOTGRAPH_EPCIS_EXAMPLES") or REPO.parent / "shared" / "epcis")
    if not folder.is_dir():
        pytest.fail(f"the EPCIS examples are not at {folder}: set LOTGRAPH_EPCIS_EXAMPLES", pytrace=False)
    return folder


def load_plant(folder: Path, *files: Path) -> Path:
    import_documents(folder, read_files(list(files)))
    return folder


@contextlib.asynccontextmanager
async def plant_app(folder: Path) -> AsyncIterator[Starlette]:
    app = create_plant_app(folder)
    async with app.router.lifespan_context(app):
        yield app


def sources_over(plant: Starlette, *, mes_kind: str, per_page: int = 1000) -> Sources:
    transport = httpx.ASGITransport(app=plant)

    def client(name: str, path: str = "") -> SourceClient:
        return SourceClient(name, f"{PLANT}/{name}{path}", timeout=10.0, transport=transport)

    mes = (
        EpcisMesSource(client("mes", "/epcis"), per_page=per_page) if mes_kind == "epcis" else MesSource(client("mes"))
    )
    return Sources(
        erp=ErpSource(client("erp"), cache_ttl=0.0), qms=QmsSource(client("qms")), mes=mes, wms=WmsSource(client("wms"))
    )


Run = Callable[[str, dict[str, Any] | None], Any]


@contextlib.asynccontextmanager
async def graphql_over(plant: Starlette, *, mes_kind: str, per_page: int = 1000) -> AsyncIterator[Run]:
    """GraphQL (the schema alone, no HTTP edge) over the plant, the MES read as ``contract`` or ``epcis``."""
    schema = build_schema()
    sources = sources_over(plant, mes_kind=mes_kind, per_page=per_page)

    async def run(query: str, variables: dict[str, Any] | None = None) -> Any:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context(ReadingServices(sources), "test")
        )
        assert not result.errors, result.errors
        return result.data

    try:
        yield run
    finally:
        await sources.aclose()
