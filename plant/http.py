"""HTTP pieces every system shares: the error shape, id lists, JSON bodies and typed field readers.

Errors are ``{"error": {"code", "message"}}``; handlers raise ``PlantError`` and the exception handlers
below turn it, Starlette's own 404/405 and anything unexpected into that shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_IDS = 500
logger = logging.getLogger("plant")

Record = dict[str, Any]


class PlantError(Exception):
    """An expected failure with its HTTP status and stable error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str, code: str = "BAD_REQUEST") -> PlantError:
    return PlantError(400, code, message)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _plant_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PlantError)
    return error_response(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    code = codes.get(exc.status_code, "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL")
    return error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "INTERNAL", "internal error")


EXCEPTION_HANDLERS = {PlantError: _plant_error, HTTPException: _http_error, Exception: _unexpected}


def ok(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status)


# --- id lists ------------------------------------------------------------------------------------


def id_list(request: Request, name: str) -> list[str] | None:
    """The comma-separated ids of query parameter ``name`` (deduplicated), ``None`` when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(ids) > MAX_IDS:
        raise bad_request(f"at most {MAX_IDS} ids per call, got {len(ids)} in '{name}'", "TOO_MANY_IDS")
    return ids


def one_id_list(request: Request, names: Iterable[str]) -> tuple[str, list[str]]:
    """Exactly one of the id-list parameters ``names``: which one, and its ids."""
    given = [(name, ids) for name in names if (ids := id_list(request, name)) is not None]
    if len(given) != 1:
        wanted = ", ".join(f"'{name}'" for name in names)
        raise bad_request(f"give exactly one of the query parameters {wanted}")
    return given[0]


def batch(items: list[Record], requested: list[str], key: str = "id") -> Record:
    """The batch answer: the records found and the requested ids that are not."""
    found = {item[key] for item in items}
    return {"items": items, "missing": [i for i in requested if i not in found]}


# --- JSON bodies ---------------------------------------------------------------------------------


async def json_object(request: Request, allowed: Collection[str]) -> Record:
    """The request body as a JSON object with no keys outside ``allowed`` (an empty body is ``{}``)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}", "INVALID_JSON") from exc
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object", "INVALID_JSON")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return body


def opt_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"'{name}' must be a string")
    return value


def req_str(body: Mapping[str, Any], name: str) -> str:
    value = opt_str(body, name)
    if not value:
        raise bad_request(f"'{name}' is required (a non-empty string)")
    return value


def opt_enum(body: Mapping[str, Any], name: str, values: Collection[str]) -> str | None:
    value = opt_str(body, name)
    if value is not None and value not in values:
        raise bad_request(f"'{name}' must be one of {', '.join(values)}, not '{value}'")
    return value


def req_enum(body: Mapping[str, Any], name: str, values: Collection[str]) -> str:
    value = opt_enum(body, name, values)
    if value is None:
        raise bad_request(f"'{name}' is required (one of {', '.join(values)})")
    return value


def opt_enum_list(body: Mapping[str, Any], name: str, values: Collection[str]) -> list[str] | None:
    """A filter that takes one value or a list of values."""
    value = body.get(name)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise bad_request(f"'{name}' must be a value or a non-empty list of values")
    for item in items:
        opt_enum({name: item}, name, values)
    return list(items)


def opt_str_list(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f"'{name}' must be a list of strings")
    return value


def req_number(body: Mapping[str, Any], name: str, *, positive: bool = True) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"'{name}' is required (a number)")
    if positive and value <= 0:
        raise bad_request(f"'{name}' must be greater than 0")
    return float(value)


def req_int(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' is required (an integer)")
    return value


def opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false")
    return value


def opt_date(body: Mapping[str, Any], name: str) -> str | None:
    value = opt_str(body, name)
    if value is not None:
        try:
            date.fromisoformat(value)
            valid = len(value) == 10
        except ValueError:
            valid = False
        if not valid:
            raise bad_request(f"'{name}' must be a date YYYY-MM-DD, not '{value}'")
    return value
