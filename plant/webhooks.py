"""Webhooks out: each system's outbox delivered, in order, to a gateway's ``/webhooks/{system}`` (or, for a plant that
is another site of the gateway's, ``/webhooks/{site}/{system}``), until delivered.

Every request is signed: ``Webhook-Timestamp`` (Unix seconds), ``Webhook-Signature: v1=<hex HMAC-SHA256 of
"<timestamp>.<body>">`` with the system's secret, and ``Webhook-Id`` (the outbox event id; the same on every
retry). The body is the outbox event as JSON. A 2xx answer (202 included: the gateway kept it as a dead letter)
moves the system's delivery cursor on, durably, in the system's own database; anything else (an error, no answer,
a 401 from a wrong secret) is retried with backoff, forever: an event is never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from plant.db import Database
from plant.outbox import read_events

log = logging.getLogger("plant.webhooks")

CURSORS = """
CREATE TABLE IF NOT EXISTS webhook_cursor (
    target TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where to send: the gateway's base URL (``/webhooks/{system}`` is appended, ``/webhooks/{site}/{system}`` with
    a ``site``), and each system's secret."""

    url: str
    secrets: Mapping[str, str]
    site: str | None = None
    poll_seconds: float = 0.1  # how often an idle outbox is looked at
    timeout: float = 5.0
    max_backoff: float = 10.0

    @staticmethod
    def shared(
        url: str, secret: str, systems: tuple[str, ...] = ("erp", "qms", "mes", "wms"), site: str | None = None
    ) -> WebhookTarget:
        return WebhookTarget(url.rstrip("/"), dict.fromkeys(systems, secret), site=site)

    def route(self, system: str) -> str:
        return f"{self.url}/webhooks/{system}" if self.site is None else f"{self.url}/webhooks/{self.site}/{system}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class SenderStats:
    delivered: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


class WebhookSender:
    def __init__(self, databases: Mapping[str, Database], target: WebhookTarget) -> None:
        self.databases = {name: db for name, db in databases.items() if name in target.secrets}
        self.target = target
        self.stats = SenderStats()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.target.timeout)
        for name, db in self.databases.items():
            db.conn.executescript(CURSORS)
            self._tasks.append(asyncio.create_task(self._deliver_forever(name, db), name=f"webhooks-{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def pending(self, system: str) -> int:
        """Outbox events of ``system`` not delivered yet."""
        db = self.databases[system]
        row = db.one("SELECT COUNT(*) FROM outbox WHERE seq > ?", (self._cursor(db),))
        return int(row[0]) if row else 0

    def _cursor(self, db: Database) -> int:
        row = db.one("SELECT seq FROM webhook_cursor WHERE target = ?", (self.target.url,))
        return int(row[0]) if row else 0

    async def _deliver_forever(self, system: str, db: Database) -> None:
        url = self.target.route(system)
        secret = self.target.secrets[system]
        while True:
            events = read_events(db.conn, self._cursor(db), limit=100)
            if not events:
                await asyncio.sleep(self.target.poll_seconds)
                continue
            for event in events:
                await self._deliver(system, url, secret, event)
                db.conn.execute(
                    "INSERT INTO webhook_cursor (target, seq) VALUES (?, ?)"
                    " ON CONFLICT (target) DO UPDATE SET seq = excluded.seq",
                    (self.target.url, event["seq"]),
                )
                self.stats.delivered[system] = self.stats.delivered.get(system, 0) + 1

    async def _deliver(self, system: str, url: str, secret: str, event: dict[str, object]) -> None:
        body = json.dumps({k: v for k, v in event.items() if k != "seq"}, separators=(",", ":")).encode()
        backoff = 0.05
        while True:
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "Webhook-Id": str(event["event_id"]),
                "Webhook-Timestamp": timestamp,
                "Webhook-Signature": sign(secret, timestamp, body),
            }
            assert self._client is not None
            try:
                response = await self._client.post(url, content=body, headers=headers)
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            self.stats.failures[system] = self.stats.failures.get(system, 0) + 1
            log.warning("webhook %s to %s not delivered (%s); retrying", event["event_id"], url, problem)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.target.max_backoff)
