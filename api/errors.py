"""One error policy for every operation: expected errors keep a stable code, unexpected ones are masked.

- a source failure → its message, ``extensions.code`` (``SOURCE_UNAVAILABLE``, ``SOURCE_PROTOCOL_ERROR``, …) and
  ``extensions.source``;
- a client input error → its message and code (``INVALID_INPUT``, ``INVALID_CURSOR``, …);
- a GraphQL syntax or validation error → graphql-core's message, code ``GRAPHQL_PARSE_FAILED`` or
  ``GRAPHQL_VALIDATION_FAILED``;
- anything else → "Unexpected error." with ``extensions.code`` ``INTERNAL`` and ``extensions.correlationId``; the
  full error is logged with that id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.limits import LIMIT_CODES
from resolvers.errors import InputError
from sources.correlation import current_correlation_id
from sources.errors import SourceError

log = logging.getLogger("lotgraph.errors")

UNEXPECTED = "Unexpected error."


def classify(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, SourceError):
        extensions = {"code": original.code, "source": original.source}
        if original.site is not None:
            extensions["site"] = original.site
        return _with(error, original.message, extensions)
    if isinstance(original, InputError):
        return _with(error, original.message, {"code": original.code})
    if original is None:
        return _with(error, error.message, {"code": _pre_execution_code(error.message), **(error.extensions or {})})
    if isinstance(original, GraphQLError):
        return classify(original) if original is not error else error
    correlation_id = current_correlation_id()
    log.error(
        "unexpected error in %s",
        ".".join(str(p) for p in error.path or ()) or "operation",
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(error, UNEXPECTED, {"code": "INTERNAL", "correlationId": correlation_id})


def _pre_execution_code(message: str) -> str:
    for fragment, code in LIMIT_CODES:
        if fragment in message:
            return code
    return "GRAPHQL_PARSE_FAILED" if message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # With ParserCache a syntax error leaves the operation as an exception; strawberry then answers it.
            raise classify(error) from None
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [classify(error) for error in errors]


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?", re.DOTALL)


def without_suggestions(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    return error if message == error.message else _with(error, message, dict(error.extensions or {}))


class HideSuggestions(SchemaExtension):
    """Production mode: no "Did you mean …?" in errors (graphql-core suggests field, argument, type and enum value
    names from the schema, which introspection being off would otherwise not reveal)."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            raise without_suggestions(error) from None
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [without_suggestions(error) for error in errors]


class FreshLoaders(SchemaExtension):
    """New per-operation loaders, also for every operation of one WebSocket connection."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        new_operation = getattr(context, "new_operation", None)
        if new_operation is not None:
            new_operation()
        yield
