"""ASGI factories for benchmark subprocesses (``uvicorn --factory bench.apps:<name>``), configured by environment.

- ``gateway``: ``api.app.create_app`` with settings from the ``LOTGRAPH_…`` environment, as ``lotgraph serve``.
- ``plant``: the combined reference plant over ``BENCH_PLANT_DIR`` (generated beforehand).
- ``ceiling``: a plain Starlette endpoint answering ``POST /graphql`` with the bytes in ``BENCH_CEILING_FILE`` —
  the fastest this stack can answer the same JSON on this machine.
- ``ceilings``: the same for several answers: ``POST /ceiling/<name>`` answers the bytes of ``<name>.json`` in the
  directory ``BENCH_CEILING_DIR`` (read once, at start).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def gateway() -> Starlette:
    from api.app import create_app
    from api.logs import configure_logging
    from api.settings import load_settings

    settings = load_settings(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def plant() -> Starlette:
    from plant.app import create_plant_app

    return create_plant_app(Path(os.environ["BENCH_PLANT_DIR"]))


def ceiling() -> Starlette:
    body = Path(os.environ["BENCH_CEILING_FILE"]).read_bytes()

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["POST"]), Route("/", answer, methods=["GET"])])


def ceilings() -> Starlette:
    answers = {path.stem: path.read_bytes() for path in Path(os.environ["BENCH_CEILING_DIR"]).glob("*.json")}

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(answers[request.path_params["name"]], media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(routes=[Route("/ceiling/{name}", answer, methods=["POST"]), Route("/healthz", healthz)])
