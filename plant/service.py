"""Assembling one system's Starlette app: its routes, OpenAPI document, admin API and knobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from plant.admin import admin_routes
from plant.db import Database
from plant.faults import FaultMiddleware, Knobs
from plant.http import EXCEPTION_HANDLERS, ok


def system_app(system: str, db: Database, routes: Sequence[BaseRoute], openapi: dict[str, Any]) -> Starlette:
    """The app of ``system`` over ``db``; closes the database when its lifespan ends."""
    knobs = Knobs()

    async def openapi_json(request: Request) -> Response:
        return ok(openapi)

    all_routes: list[BaseRoute] = [
        *routes,
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *admin_routes(knobs),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            db.close()

    app = Starlette(
        routes=all_routes,
        middleware=[Middleware(FaultMiddleware, knobs=knobs, routes=all_routes)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.system = system
    app.state.db = db
    app.state.knobs = knobs
    return app


def database_of(app: Starlette) -> Database:
    db = app.state.db
    assert isinstance(db, Database)
    return db


def knobs_of(app: Starlette) -> Knobs:
    knobs = app.state.knobs
    assert isinstance(knobs, Knobs)
    return knobs
