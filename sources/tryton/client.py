"""Tryton's JSON-RPC over the shared source client: one session per adapter, reads retried, writes never.

    POST /<database>/rpc/  {"id": n, "method": "model.<model>.<method>", "params": [..., context]}
    Authorization: Session base64("<login>:<user id>:<session>")

Every call goes through ``SourceClient.post``, so it has the deadline, breaker, bulkhead, accounting and error tree
of every adapter. Tryton's own errors are read here: an expired session (HTTP 401) logs in again once; a
``UserError``/``UserWarning``/``AccessError`` is ``SourceRejected`` (the system said no); anything else it answers
as an error is ``SourceProtocolError`` (the detail goes to the log, never to clients). JSON-RPC was chosen over
Tryton's REST API: it reads many ids with dotted field paths in one call and runs the workflow buttons; REST with an
application key was measured no faster for the same batched read (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from sources.errors import SourceProtocolError, SourceRejected, SourceUnavailable
from sources.http import SourceClient
from sources.resilience import Health

log = logging.getLogger("lotgraph.sources.tryton")

Json = Any
Domain = list[Any]
REJECTIONS = ("UserError", "UserWarning", "AccessError", "ConcurrencyException")


class SessionExpired(SourceRejected):
    """Tryton refused the session (HTTP 401): the client logs in again and repeats the call once."""


@dataclass(frozen=True, slots=True)
class TrytonLogin:
    database: str
    login: str
    password: str


def _hook(value: dict[str, Any]) -> Any:
    """Tryton's tagged JSON values: dates, datetimes (naive UTC), decimals."""
    kind = value.get("__class__")
    if kind == "date":
        return date(value["year"], value["month"], value["day"])
    if kind == "datetime":
        parts = [int(value.get(f, 0)) for f in ("year", "month", "day", "hour", "minute", "second", "microsecond")]
        return datetime(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], tzinfo=UTC)
    if kind == "Decimal":
        return float(Decimal(value["decimal"]))
    return value


def encode(value: Any) -> Any:
    """Dates and datetimes as Tryton's tagged JSON (datetimes in naive UTC)."""
    if isinstance(value, datetime):
        v = value.astimezone(UTC)
        return {
            "__class__": "datetime",
            **{f: getattr(v, f) for f in ("year", "month", "day", "hour", "minute", "second", "microsecond")},
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


class TrytonRpc:
    """JSON-RPC calls to one Tryton database, as the user the settings name."""

    def __init__(self, client: SourceClient, login: TrytonLogin) -> None:
        self.client = client
        self.name = client.name
        self.login = login
        self._path = f"/{login.database}/rpc/"
        self._ids = count(1)
        self._session: str | None = None
        self._context: dict[str, Any] = {}
        self._login_lock = asyncio.Lock()

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- calls ---------------------------------------------------------------------------------------------------

    async def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str], context: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        answer = await self.call(f"model.{model}.read", [list(ids), list(fields)], context=context)
        return self._rows(answer)

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        params = [encode(domain), offset, limit, [list(o) for o in order] if order else None, list(fields)]
        return self._rows(await self.call(f"model.{model}.search_read", params, context=context))

    async def search_count(self, model: str, domain: Domain, context: Mapping[str, Any] | None = None) -> int:
        answer = await self.call(f"model.{model}.search_count", [encode(domain)], context=context)
        if not isinstance(answer, int):
            raise SourceProtocolError(self.name, f"{self.name.upper()} answered a count that is not a number")
        return answer

    async def write_call(self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None) -> Json:
        """A state-changing call (create, write, a workflow button): sent once, never retried here."""
        return await self.call(f"model.{model}.{method}", [encode(a) for a in args], context=context, write=True)

    async def call(
        self, method: str, params: list[Any], *, context: Mapping[str, Any] | None = None, write: bool = False
    ) -> Json:
        session = await self._ensure_session()
        try:
            return await self._post(method, params, context, session, write)
        except SessionExpired:
            session = await self._ensure_session(stale=session)
            return await self._post(method, params, context, session, write)

    # -- protocol ------------------------------------------------------------------------------------------------

    async def _post(
        self, method: str, params: list[Any], context: Mapping[str, Any] | None, session: str | None, write: bool
    ) -> Json:
        body = {"id": next(self._ids), "method": method, "params": [*params, {**self._context, **(context or {})}]}
        headers = {"Authorization": f"Session {session}"} if session else None
        return await self.client.post(
            self._path, body, route=method, retry=not write, headers=headers, decode=self._decode
        )

    async def _ensure_session(self, stale: str | None = None) -> str:
        async with self._login_lock:
            if self._session is not None and self._session != stale:
                return self._session
            params = [self.login.login, {"password": self.login.password}, "en"]
            body = {"id": next(self._ids), "method": "common.db.login", "params": params}
            answer = await self.client.post(self._path, body, route="common.db.login", retry=True, decode=self._decode)
            if not (isinstance(answer, list) and len(answer) >= 2):
                raise SourceProtocolError(self.name, f"{self.name.upper()} answered the login in an unknown shape")
            user_id, key = answer[0], answer[1]
            token = base64.b64encode(f"{self.login.login}:{user_id}:{key}".encode()).decode()
            self._session = token
            preferences = await self._post("model.res.user.get_preferences", [True], {}, token, False)
            company = preferences.get("company") if isinstance(preferences, dict) else None
            self._context = {"company": company, "language": "en"} if company else {"language": "en"}
            return token

    def _decode(self, status: int, content: bytes) -> Json:
        upper = self.name.upper()
        if status == 401:
            raise SessionExpired(self.name, f"{upper} refused the session", upstream_code="SESSION", status=401)
        if status == 429:
            raise SourceUnavailable(self.name, f"{upper} is rate limiting (HTTP 429)")
        if status >= 500:
            raise SourceUnavailable(self.name, f"{upper} is failing (HTTP {status})")
        try:
            body = json.loads(content, object_hook=_hook)
        except ValueError as exc:
            raise SourceProtocolError(self.name, f"{upper} answered invalid JSON") from exc
        if status >= 300 or not isinstance(body, dict):
            raise SourceProtocolError(self.name, f"{upper} refused the request (HTTP {status})")
        error = body.get("error")
        if error is None:
            return body.get("result")
        kind = error[0] if isinstance(error, list) and error else str(error)
        if kind in REJECTIONS:
            detail = error[1] if len(error) > 1 else None
            message = detail[0] if isinstance(detail, list) and detail else str(detail or kind)
            raise SourceRejected(self.name, f"{upper} refused: {message}", upstream_code=str(kind), status=status)
        log.warning("tryton error answer", extra={"source": self.name, "error": str(error)[:2000]})
        raise SourceProtocolError(self.name, f"{upper} answered an error")

    def _rows(self, answer: Json) -> list[dict[str, Any]]:
        if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
            raise SourceProtocolError(self.name, f"{self.name.upper()} answered records in an unknown shape")
        return answer
