"""``GET /exports/trace``: the file a ``traceExport`` URL names, made and streamed under the caller's own token.

The URL carries the request itself (lot, trace, direction, depth, format, when it was asked for), so any replica
serves it. The caller needs a role that may run ``traceExport`` (``api.authz.POLICY``): 401 without a token, 403
with the wrong role. The trace and its records are read first (a lot that does not exist is 404, a source that
cannot answer 503 naming it); the file is then written chunk by chunk as it goes out. When the last byte has gone,
a log line records the request-to-file times (asked for, first byte, last byte) as evidence of the 24-hour rule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from api.auth import ANONYMOUS, Principal
from api.authz import POLICY
from resolvers.context import Context, Services
from resolvers.errors import InputError
from resolvers.genealogy.model import TraceDirection
from resolvers.traceability import exports
from resolvers.traceability.export_meta import ExportFormat, ExportMeta, ExportRequest, TraceKind
from sources.correlation import current_correlation_id
from sources.errors import SourceError

log = logging.getLogger("lotgraph.exports")
PATH = "/exports/trace"


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def parse_request(params: dict[str, str]) -> tuple[ExportRequest, datetime]:
    """The export a URL asks for; ``InputError`` for anything wrong in it."""
    try:
        request = ExportRequest(
            lot_id=params["lot"],
            trace=TraceKind(params.get("trace", TraceKind.LOT_GENEALOGY.value)),
            direction=TraceDirection(params.get("direction", TraceDirection.FORWARD.value)),
            max_depth=int(params["maxDepth"]) if "maxDepth" in params else None,
            format=ExportFormat(params["format"]),
        )
        requested_at = datetime.fromisoformat(params["requestedAt"]) if "requestedAt" in params else None
    except KeyError as exc:
        raise InputError(f"missing query parameter {exc.args[0]}") from None
    except ValueError as exc:
        raise InputError(f"bad query parameter: {exc}") from None
    if requested_at is not None and requested_at.tzinfo is None:
        raise InputError("requestedAt needs its offset")
    return request, requested_at or datetime.now(UTC)


def export_route(running: Callable[[], Services | None]) -> Route:
    allowed = POLICY.get(("query", "traceExport"), frozenset())

    async def download(request: Request) -> Response:
        services = running()
        if services is None:
            return _problem(503, "NOT_READY", "The gateway is starting or stopping.")
        state = request.scope.get("state") or {}
        principal: Principal = state.get("principal", ANONYMOUS)
        if not principal.roles & allowed:
            if not principal.authenticated:
                return _problem(401, "UNAUTHENTICATED", "Not authenticated: exports need a bearer token.")
            return _problem(403, "FORBIDDEN", f"Forbidden: exports need one of the roles {', '.join(sorted(allowed))}.")
        ctx = Context(services, current_correlation_id() or "", user=principal.subject)
        ctx.roles, ctx.authenticated = principal.roles, principal.authenticated
        try:
            wanted, requested_at = parse_request(dict(request.query_params))
            meta, records = await exports.prepare(ctx, wanted, requested_at)
        except InputError as exc:
            status = 404 if exc.code == "LOT_NOT_FOUND" else 400
            return _problem(status, exc.code, exc.message)
        except SourceError as exc:
            return _problem(503, "SOURCE_UNAVAILABLE", f"{exc.source.upper()}: {exc.message}")
        chunks = exports.render(meta, records, services.config.gs1_company_prefix_length)
        headers = {
            "Content-Disposition": f'attachment; filename="{wanted.filename}"',
            "X-Export-Requested-At": meta.header()["lotgraph:requestedAt"],
            "X-Export-Produced-At": meta.header()["lotgraph:producedAt"],
            "X-Export-Sources": ", ".join(meta.sources),
            "Cache-Control": "no-store",
        }
        return StreamingResponse(_timed(chunks, meta), media_type=wanted.format.media_type, headers=headers)

    return Route(PATH, download, methods=["GET"])


async def _timed(chunks: Iterator[bytes], meta: ExportMeta) -> AsyncIterator[bytes]:
    """The chunks, with the times of the first and last byte logged once the last has gone."""
    started = time.perf_counter()
    first: float | None = None
    size = 0
    for chunk in chunks:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        yield chunk
    finished = datetime.now(UTC)
    log.info(
        "export finished",
        extra={
            "lot": meta.request.lot_id,
            "format": meta.request.format.value,
            "trace": meta.request.trace.value,
            "lots": meta.lots,
            "bytes": size,
            "user": meta.user,
            "requested_at": meta.header()["lotgraph:requestedAt"],
            "first_byte_seconds": round(first or 0.0, 4),
            "seconds_from_request": round((finished - meta.requested_at).total_seconds(), 3),
        },
    )
