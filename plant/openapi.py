"""A small builder for the OpenAPI 3.1 documents the systems serve at ``/openapi.json``.

Each system module describes its records (JSON Schema) and routes with the helpers below; the shared
conventions (batch answers, search pages, errors, idempotency header, admin API) are written once here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], *, optional: Iterable[str] = (), description: str = "") -> Schema:
    """A closed object; every property is required unless named in ``optional``."""
    skip = set(optional)
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in skip],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def filters(properties: dict[str, Schema]) -> Schema:
    """A search body: optional filters plus ``limit`` and ``after``."""
    page: dict[str, Schema] = {
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
        "after": {"type": "string", "description": "next_after of the previous page"},
    }
    return obj({**properties, **page}, optional=[*properties, *page])


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_SCHEMA = obj({"error": obj({"code": STRING, "message": STRING})})
_ERRORS = {
    "400": "bad input (unknown field, wrong type, more than 500 ids, missing Idempotency-Key)",
    "404": "unknown id",
    "409": "conflict",
    "503": "the system is unavailable",
}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _json(ref("Error"), _ERRORS[status]) for status in ("503", *statuses)}


class Spec:
    """The OpenAPI document of one system under construction."""

    def __init__(self, title: str, description: str, schemas: dict[str, Schema]) -> None:
        self.title = title
        self.description = description
        self.schemas: dict[str, Schema] = {"Error": ERROR_SCHEMA, **schemas}
        self.paths: dict[str, dict[str, Any]] = {}

    def _add(self, path: str, method: str, operation: dict[str, Any]) -> None:
        params = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if params:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": STRING} for name in params
            ] + operation.get("parameters", [])
        self.paths.setdefault(path, {})[method] = operation

    def batch_read(
        self,
        path: str,
        record: str,
        id_params: Sequence[tuple[str, str]],
        summary: str,
        *,
        operation_id: str | None = None,
    ) -> None:
        self.schemas.setdefault(f"{record}Batch", _batch(record))
        self._add(
            path,
            "get",
            {
                "summary": summary,
                "description": "Give exactly one of the id-list parameters (comma-separated, at most 500).",
                "operationId": operation_id or f"list{record}s",
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": STRING, "description": text}
                    for name, text in id_params
                ],
                "responses": {"200": _json(ref(f"{record}Batch"), "found and missing"), **_errors("400")},
            },
        )

    def single_read(self, path: str, record: str, summary: str) -> None:
        self._add(
            path,
            "get",
            {
                "summary": summary,
                "operationId": f"get{record}",
                "responses": {"200": _json(ref(record), record), **_errors("404")},
            },
        )

    def search(self, path: str, record: str, body: Schema, summary: str) -> None:
        self.schemas.setdefault(f"{record}Page", _page(record))
        self._add(
            path,
            "post",
            {
                "summary": summary,
                "operationId": f"search{record}s",
                "requestBody": {"required": False, "content": {"application/json": {"schema": body}}},
                "responses": {"200": _json(ref(f"{record}Page"), "one page of matches"), **_errors("400")},
            },
        )

    def command(
        self,
        path: str,
        operation_id: str,
        body: Schema,
        answer: Schema,
        summary: str,
        *,
        key_required: bool,
        created: bool = False,
    ) -> None:
        first = "201" if created else "200"
        responses = {first: _json(answer, "done")}
        if created:
            responses["200"] = _json(answer, "replayed: the first answer for this Idempotency-Key")
        self._add(
            path,
            "post",
            {
                "summary": summary,
                "operationId": operation_id,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": key_required,
                        "schema": STRING,
                        "description": "the same key with the same body answers the first result again",
                    },
                    {"name": "X-Correlation-ID", "in": "header", "required": False, "schema": STRING},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {**responses, **_errors("400", "404", "409")},
            },
        )

    def build(self) -> dict[str, Any]:
        self._admin()
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": "1.0.0", "description": self.description},
            "paths": self.paths,
            "components": {"schemas": self.schemas},
        }

    def _admin(self) -> None:
        faults = obj(
            {
                "latency_ms": {"type": "number", "minimum": 0},
                "error_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "outage": BOOL,
                "garbage": BOOL,
            },
        )
        stats = obj({"total": INTEGER, "requests": {"type": "object", "additionalProperties": INTEGER}})
        self.schemas["Faults"] = faults
        self.schemas["Stats"] = stats
        patch = {**faults, "required": []}
        self.paths["/admin/faults"] = {
            "get": {
                "summary": "current fault knobs",
                "operationId": "getFaults",
                "tags": ["admin"],
                "responses": {"200": _json(ref("Faults"), "knobs")},
            },
            "put": {
                "summary": "change fault knobs (partial body)",
                "operationId": "putFaults",
                "tags": ["admin"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": patch}}},
                "responses": {"200": _json(ref("Faults"), "knobs"), "400": _json(ref("Error"), "bad knob")},
            },
        }
        self.paths["/admin/stats"] = {
            "get": {
                "summary": "requests counted by method and route template",
                "operationId": "getStats",
                "tags": ["admin"],
                "responses": {"200": _json(ref("Stats"), "counters")},
            }
        }
        self.paths["/admin/stats/reset"] = {
            "post": {
                "summary": "zero the counters",
                "operationId": "resetStats",
                "tags": ["admin"],
                "responses": {"200": _json(ref("Stats"), "counters")},
            }
        }
        logged = obj({name: nullable(STRING) for name in ("route", "x-correlation-id", "traceparent", "tracestate")})
        self.paths["/admin/requests"] = {
            "get": {
                "summary": "the last requests counted, oldest first, with their trace headers",
                "operationId": "getRequests",
                "tags": ["admin"],
                "responses": {"200": _json(obj({"items": array(logged)}), "request log")},
            }
        }
        self.paths["/openapi.json"] = {
            "get": {
                "summary": "this document",
                "operationId": "getOpenapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
            }
        }


def _batch(record: str) -> Schema:
    return obj({"items": array(ref(record)), "missing": array(STRING)})


def _page(record: str) -> Schema:
    return obj({"items": array(ref(record)), "total": INTEGER, "next_after": nullable(STRING)})
