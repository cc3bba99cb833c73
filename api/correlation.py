"""ASGI middleware: every request and WebSocket gets a correlation id, taken from ``X-Correlation-ID`` or new, and a
W3C trace context, the caller's (``traceparent``, ``tracestate``) or a new trace."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sources.correlation import (
    HEADER,
    TRACEPARENT,
    TRACESTATE,
    accept_correlation_id,
    accept_trace_context,
    set_correlation_id,
    set_trace_context,
)


class CorrelationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = accept_correlation_id(headers.get(HEADER))
        set_correlation_id(correlation_id)
        set_trace_context(accept_trace_context(headers.get(TRACEPARENT), headers.get(TRACESTATE)))
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = correlation_id
            await send(message)

        await self.app(scope, receive, send_with_header)
