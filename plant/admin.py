"""The admin API of every system: fault knobs, request counters and the request log (never faulted, never
counted)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plant.faults import Knobs
from plant.http import bad_request, ok


def admin_routes(knobs: Knobs) -> list[Route]:
    async def get_faults(request: Request) -> Response:
        return ok(knobs.faults.as_dict())

    async def put_faults(request: Request) -> Response:
        try:
            patch = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise bad_request(f"the body is not valid JSON: {exc}", "INVALID_JSON") from exc
        if not isinstance(patch, dict):
            raise bad_request("the body must be a JSON object", "INVALID_JSON")
        knobs.faults.update(patch)
        return ok(knobs.faults.as_dict())

    async def get_stats(request: Request) -> Response:
        return ok(knobs.stats.as_dict())

    async def get_requests(request: Request) -> Response:
        return ok({"items": list(knobs.stats.log)})

    async def reset_stats(request: Request) -> Response:
        knobs.stats.reset()
        return ok(knobs.stats.as_dict())

    return [
        Route("/admin/faults", get_faults, methods=["GET"]),
        Route("/admin/faults", put_faults, methods=["PUT"]),
        Route("/admin/stats", get_stats, methods=["GET"]),
        Route("/admin/stats/reset", reset_stats, methods=["POST"]),
        Route("/admin/requests", get_requests, methods=["GET"]),
    ]
