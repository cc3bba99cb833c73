"""GraphQL over HTTP (graphql.github.io/graphql-over-http): media types and status codes.

- The answer's media type follows the client's ``Accept``: ``application/graphql-response+json`` when the client
  prefers it (a higher ``q``, or listed first at an equal one), else ``application/json`` — also with no
  ``Accept``, ``*/*`` or ``application/*``, so existing JSON clients see no change.
- Under ``application/graphql-response+json`` a *request error* (the document does not parse or validate, or a
  variable cannot be coerced: nothing was executed) is a ``400`` with no ``data`` entry. Under ``application/json``
  it stays a ``200`` with ``"data": null``, as before.
- Errors of the HTTP exchange itself (a body that is not a JSON object, a bad parameter, a mutation over GET) are
  JSON GraphQL responses too, ``{"errors": [{"message", "extensions": {"code"}}]}``, with their 4xx status; a mutation
  over GET is a ``405`` with ``Allow: POST``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_JSON_RANGES = (JSON, "application/*", "*/*")
STATUS_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE"}


def negotiate(accept: str | None) -> str:
    """The media type to answer with, from an ``Accept`` header."""
    best, best_q = JSON, 0.0
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower()
        if media == GRAPHQL_RESPONSE_JSON:
            candidate = GRAPHQL_RESPONSE_JSON
        elif media in _JSON_RANGES:
            candidate = JSON
        else:
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = candidate, q
    return best


def _quality(params: Sequence[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type


def is_request_error(data: Any, errors: Sequence[GraphQLError] | None) -> bool:
    """Nothing was executed: no data, and no error belongs to a field (parse, validation, variable coercion)."""
    return data is None and bool(errors) and all(error.path is None for error in errors or ())


def error_response(status: int, message: str, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """An error of the HTTP exchange, as a GraphQL response with a stable code and no ``data``."""
    body = {"errors": [{"message": message, "extensions": {"code": STATUS_CODES.get(status, "BAD_REQUEST")}}]}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=content_type(media_type),
        headers=headers,
    )


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a request's JSON (variables, extensions, messages)."""


def _nesting_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` deep; iterative, linear in its size."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


ContextT = TypeVar("ContextT")
RootT = TypeVar("RootT")


class GraphQLOverHTTP(GraphQL[ContextT, RootT], Generic[ContextT, RootT]):
    """strawberry's ASGI view, answering as GraphQL over HTTP asks (see the top of this module)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media_type = negotiate(request.headers.get("accept"))
        request.state.graphql_media_type = media_type
        try:
            response = await self.run(request)
        except HTTPException as exc:
            if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                response = error_response(405, exc.reason, media_type, {"Allow": "POST"})
            else:
                response = error_response(exc.status_code, exc.reason, media_type)
        else:
            if media_type == GRAPHQL_RESPONSE_JSON and response.media_type == JSON:
                response.headers["content-type"] = content_type(media_type)
                if getattr(request.state, "graphql_request_error", False):
                    response.status_code = 400
        await response(scope, receive, send)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        media_type = getattr(request.state, "graphql_media_type", JSON)
        if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result.data, result.errors):
            request.state.graphql_request_error = True
            response.pop("data", None)
        return response

    def decode_json(self, data: str | bytes) -> object:
        """JSON from a client (a body, a query parameter, a WebSocket message). Bytes that are not UTF-8, and values
        nested deeper than ``MAX_JSON_DEPTH``, are a client error like any other text that is not JSON: nothing after
        this point need guard its recursion against a client's nesting."""
        try:
            value = json.loads(data)
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("the body is not UTF-8", "", 0) from exc
        except RecursionError:
            raise json.JSONDecodeError("the JSON is nested too deeply", "", 0) from None
        if _nesting_exceeds(value, MAX_JSON_DEPTH):
            raise json.JSONDecodeError(f"the JSON is nested more than {MAX_JSON_DEPTH} deep", "", 0)
        return value

    def parse_json(self, data: str | bytes) -> Any:
        """A body (or a ``variables``/``extensions`` parameter) must be a JSON object (a list: a batch)."""
        value = super().parse_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, f"Expected a JSON object, got {type(value).__name__} JSON")
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return data
