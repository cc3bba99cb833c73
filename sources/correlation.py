"""The correlation id of the work in progress: set at the edge, read by every upstream call and log line."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

HEADER = "X-Correlation-ID"

_current: ContextVar[str | None] = ContextVar("lotgraph_correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    return _current.get()


def set_correlation_id(value: str) -> None:
    _current.set(value)


def accept_correlation_id(value: str | None) -> str:
    """Keep a caller's id when it is sane (printable, at most 128 chars); otherwise make a fresh one."""
    if value and len(value) <= 128 and value.isprintable() and " " not in value:
        return value
    return new_correlation_id()
