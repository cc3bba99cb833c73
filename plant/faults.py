"""Fault injection and request counting for one system, as a pure ASGI middleware.

Every non-admin request is counted under ``"<METHOD> <route template>"``, then the configured faults
apply in order: latency, outage (503), random errors (500), garbage (a 200 whose body is not JSON, for
reads). Admin routes are never counted or faulted. The request's ``X-Correlation-ID`` is echoed. The trace headers
of the last requests (correlation id, W3C ``traceparent`` and ``tracestate``) are kept, as a system's request log
would: ``GET /admin/requests``.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plant.http import bad_request, error_response

GARBAGE = b'{"items": [{"id": "\x00<html>502 Bad Gateway</html>'
READ_METHODS = ("GET", "HEAD")
LOGGED_HEADERS = (b"x-correlation-id", b"traceparent", b"tracestate")
LOG_SIZE = 200


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    outage: bool = False
    garbage: bool = False

    def update(self, patch: Mapping[str, Any]) -> None:
        """Apply a partial update; nothing changes unless every given knob is valid."""
        unknown = sorted(set(patch) - {"latency_ms", "error_rate", "outage", "garbage"})
        if unknown:
            raise bad_request(f"unknown fault knob(s) {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        for name in ("latency_ms", "error_rate"):
            if name in patch:
                value = patch[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise bad_request(f"'{name}' must be a number >= 0")
                if name == "error_rate" and value > 1:
                    raise bad_request("'error_rate' must be between 0 and 1")
                changes[name] = float(value)
        for name in ("outage", "garbage"):
            if name in patch:
                if not isinstance(patch[name], bool):
                    raise bad_request(f"'{name}' must be true or false")
                changes[name] = patch[name]
        for name, value in changes.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    requests: dict[str, int] = field(default_factory=dict)
    log: deque[dict[str, str | None]] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))

    def count(self, key: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self.requests[key] = self.requests.get(key, 0) + 1
        logged = {name.decode(): value.decode("latin-1") for name, value in headers if name in LOGGED_HEADERS}
        self.log.append({"route": key, **{name.decode(): logged.get(name.decode()) for name in LOGGED_HEADERS}})

    def reset(self) -> None:
        self.requests.clear()
        self.log.clear()

    def as_dict(self) -> dict[str, Any]:
        return {"total": sum(self.requests.values()), "requests": dict(sorted(self.requests.items()))}


@dataclass
class Knobs:
    """The in-memory run-time state of one system: its faults and its request counters."""

    faults: Faults = field(default_factory=Faults)
    stats: Stats = field(default_factory=Stats)
    rng: random.Random = field(default_factory=random.Random)


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str | None:
    """The path template of the route ``scope`` goes to, or ``None``."""
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        path = getattr(route, "path", None)
        if match is Match.FULL:
            return path
        if match is Match.PARTIAL and partial is None:
            partial = path
    return partial


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, knobs: Knobs, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.knobs = knobs
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _echo_correlation_id(scope, send)
        template = route_template(self.routes, scope) or "(unmatched)"
        if template.startswith("/admin/"):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        self.knobs.stats.count(f"{method} {template}", scope["headers"])
        faults = self.knobs.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage:
            response = error_response(503, "UNAVAILABLE", "the system is unavailable (injected outage)")
            await response(scope, receive, send)
        elif faults.error_rate > 0 and self.knobs.rng.random() < faults.error_rate:
            response = error_response(500, "INTERNAL", "internal error (injected fault)")
            await response(scope, receive, send)
        elif faults.garbage and (method in READ_METHODS or template.endswith("/search")):
            await _send_garbage(send)
        else:
            await self.app(scope, receive, send)


def _echo_correlation_id(scope: Scope, send: Send) -> Send:
    value = next((v for k, v in scope["headers"] if k == b"x-correlation-id"), None)
    if value is None:
        return send

    async def echoing_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-correlation-id", value)]}
        await send(message)

    return echoing_send


async def _send_garbage(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(GARBAGE))],
        }
    )
    await send({"type": "http.response.body", "body": GARBAGE})
