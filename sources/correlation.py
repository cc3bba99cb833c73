"""The correlation id and the W3C trace context of the work in progress: set at the edge, read by every upstream
call and log line."""

from __future__ import annotations

import re
import secrets
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

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


# -- W3C trace context (https://www.w3.org/TR/trace-context/) -------------------------------------------------------
# A caller's ``traceparent`` (and ``tracestate``) is kept for the request; every upstream call carries the same
# trace id with a span id of its own, and the caller's ``tracestate`` unchanged. Without a valid ``traceparent`` the
# trace starts here (a new trace id, marked sampled so the systems of record keep their side of it). The
# correlation id stays: it is lotgraph's own key, and the one its events carry.

TRACEPARENT, TRACESTATE = "traceparent", "tracestate"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_TRACESTATE_MAX = 512  # characters; the spec's limit for what a participant must propagate
_TRACESTATE_MEMBERS = 32


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex digits, not all zero
    parent_id: str | None  # the caller's span id (16 hex digits); None when the trace started here
    flags: str  # 2 hex digits; 01 is "sampled"
    state: str | None  # the caller's tracestate, passed on as received

    def traceparent(self) -> str:
        """The ``traceparent`` of one outgoing call: this trace, a fresh span id."""
        return f"00-{self.trace_id}-{secrets.token_hex(8)}-{self.flags}"


_trace: ContextVar[TraceContext | None] = ContextVar("lotgraph_trace_context", default=None)


def current_trace_context() -> TraceContext | None:
    return _trace.get()


def set_trace_context(value: TraceContext) -> None:
    _trace.set(value)


def accept_trace_context(traceparent: str | None, tracestate: str | None) -> TraceContext:
    """The caller's trace when its ``traceparent`` is valid; a new trace otherwise (its ``tracestate`` is then
    dropped, as the spec says). Version ff is invalid; a later version is read for its first four fields."""
    match = _TRACEPARENT.fullmatch(traceparent.strip().lower()) if traceparent else None
    if match:
        version, trace_id, parent_id, flags, rest = match.groups()
        zero = not trace_id.strip("0") or not parent_id.strip("0")
        if version != "ff" and not (version == "00" and rest) and not zero:
            return TraceContext(trace_id, parent_id, flags, _sane_tracestate(tracestate))
    return TraceContext(secrets.token_hex(16), None, "01", None)


def _sane_tracestate(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    members = [member for member in value.split(",") if member.strip()]
    if len(value) > _TRACESTATE_MAX or len(members) > _TRACESTATE_MEMBERS or not value.isascii():
        return None
    return value if value.isprintable() else None
