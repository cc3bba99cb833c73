"""``POST /webhooks/{source}`` (the deployment's own site) and ``POST /webhooks/{site}/{source}`` (any site, see
docs/sites.md): signed change notifications from the systems of record.

Each request carries ``Webhook-Timestamp`` (Unix seconds), ``Webhook-Signature`` (``v1=<hex HMAC-SHA256 of
"<timestamp>.<body>" with the source's secret>``; several, space-separated, while a secret is rotated) and
``Webhook-Id`` (the delivery's id; a redelivery repeats it). Answers:

- 200 ``recorded`` or ``duplicate`` (with the event id and cursor): the sender is done;
- 202 ``dead_lettered``: signed but not an event lotgraph can record; kept with the reason for an operator;
- 401 bad or missing signature, or a timestamp outside the tolerance (a replayed capture);
- 404 a site or source lotgraph has no secret for; 413 a body over 1 MiB;
- 503 the event log is unavailable: send again later (nothing was recorded).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.settings import Settings
from resolvers.events.intake import Outcome, ingest
from sources.bundle import Sources
from sources.bus.errors import BusError
from sources.deadletters import DeadLetterStore, DeadLetterUnavailable
from sources.ports import EventBus

log = logging.getLogger("lotgraph.webhooks")


class Intake(Protocol):
    """What recording a webhook needs of the running services."""

    @property
    def sources(self) -> Sources: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def dead_letters(self) -> DeadLetterStore: ...


TIMESTAMP = "webhook-timestamp"
SIGNATURE = "webhook-signature"
DELIVERY = "webhook-id"
MAX_BODY = 1 << 20
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
"""At most 12 ASCII digits (the year 33658): longer numbers overflow a float and are no timestamp anyway."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def _refuse(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _unavailable() -> Response:
    return JSONResponse(
        {"error": {"code": "UNAVAILABLE", "message": "the event log is unavailable; send again"}},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def webhook_routes(settings: Settings, services: Callable[[], Intake | None]) -> list[Route]:
    """The routes; ``services()`` gives the running sources, bus and dead letters (None while starting: 503). Each
    site's systems sign with that site's secrets: a body signed with another site's is refused (401)."""
    tolerance = settings.webhooks.tolerance
    secrets = {settings.site: settings.webhooks.secrets}
    secrets |= {name: site.webhooks.secrets for name, site in settings.sites.items()}

    async def receive(request: Request) -> Response:
        source = request.path_params["source"]
        site = request.path_params.get("site", settings.site)
        if site not in secrets:
            return _refuse(404, "UNKNOWN_SITE", f"no site is named {site!r}")
        secret = secrets[site].get(source)
        if secret is None:
            return _refuse(404, "UNKNOWN_SOURCE", f"no webhooks are accepted from {source!r} of site {site!r}")
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
            return _refuse(413, "REQUEST_TOO_LARGE", f"at most {MAX_BODY} bytes")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _refuse(413, "REQUEST_TOO_LARGE", f"at most {MAX_BODY} bytes")
        timestamp = request.headers.get(TIMESTAMP, "")
        if UNIX_SECONDS.fullmatch(timestamp) is None:
            return _refuse(401, "BAD_TIMESTAMP", f"{TIMESTAMP} must be Unix seconds")
        if abs(time.time() - int(timestamp)) > tolerance:
            return _refuse(401, "STALE_TIMESTAMP", f"{TIMESTAMP} is more than {tolerance:g} s off")
        expected = signature(secret, timestamp, body)
        offered = request.headers.get(SIGNATURE, "").replace(",", " ").split()
        if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return _refuse(401, "BAD_SIGNATURE", f"{SIGNATURE} does not match the body")
        delivery_id = request.headers.get(DELIVERY) or None
        running = services()
        if running is None:
            return _unavailable()
        try:
            result = await ingest(running.sources, running.bus, running.dead_letters, source, body, delivery_id, site)
        except (BusError, DeadLetterUnavailable) as exc:
            log.warning(
                "webhook not recorded: event log unavailable", extra={"source": source, "site": site, "error": str(exc)}
            )
            return _unavailable()
        if result.outcome is Outcome.DEAD_LETTERED:
            assert result.dead_letter is not None
            letter = result.dead_letter
            return JSONResponse(
                {"status": "dead_lettered", "dead_letter_id": letter.id, "reason": letter.reason}, status_code=202
            )
        assert result.event is not None
        return JSONResponse(
            {"status": result.outcome.value, "event_id": result.event.id, "cursor": result.event.cursor}
        )

    return [
        Route("/webhooks/{source}", receive, methods=["POST"]),
        Route("/webhooks/{site}/{source}", receive, methods=["POST"]),
    ]
