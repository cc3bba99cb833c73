"""Commands run once per ``Idempotency-Key``, durably.

The first request with a key runs the command in a transaction and stores its answer with a
fingerprint of the request (method, path, canonical body) in the same transaction. A repeat with the
same fingerprint gets the stored answer again with ``200`` and ``Idempotency-Replayed: true``; a repeat
with another request is ``409 IDEMPOTENCY_KEY_REUSED``. Failed commands store nothing, so a retry after
the cause is fixed runs for real.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Collection

from starlette.requests import Request
from starlette.responses import Response

from plant.clock import now_iso
from plant.db import Database
from plant.http import PlantError, Record, bad_request, json_object

# (connection inside the transaction, body, correlation id) -> (status, answer)
Command = Callable[[sqlite3.Connection, Record, str | None], tuple[int, Record]]

REPLAYED_HEADER = "Idempotency-Replayed"


def _fingerprint(request: Request, body: Record) -> str:
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {path}\n{canonical}".encode()).hexdigest()


def _json(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text, status_code=status, headers=headers, media_type="application/json")


async def run_command(
    request: Request,
    db: Database,
    command: Command,
    *,
    fields: Collection[str],
    key_required: bool,
) -> Response:
    """Read and check the body, then run ``command`` at most once per idempotency key."""
    body = await json_object(request, fields)
    key = request.headers.get("idempotency-key") or None
    if key is None and key_required:
        raise bad_request("this command needs an 'Idempotency-Key' header", "IDEMPOTENCY_KEY_REQUIRED")
    correlation_id = request.headers.get("x-correlation-id") or None
    fingerprint = _fingerprint(request, body)
    if key is not None:
        stored = db.one("SELECT fingerprint, body FROM idempotency WHERE key = ?", (key,))
        if stored is not None:
            return _replay(stored["fingerprint"], stored["body"], fingerprint)
    with db.transaction() as conn:
        if key is not None:  # a concurrent writer may have claimed the key meanwhile
            stored = conn.execute("SELECT fingerprint, body FROM idempotency WHERE key = ?", (key,)).fetchone()
            if stored is not None:
                return _replay(stored["fingerprint"], stored["body"], fingerprint)
        status, answer = command(conn, body, correlation_id)
        text = json.dumps(answer, separators=(",", ":"))
        if key is not None:
            conn.execute(
                "INSERT INTO idempotency (key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, fingerprint, status, text, now_iso()),
            )
    return _json(status, text)


def _replay(stored_fingerprint: str, text: str, fingerprint: str) -> Response:
    if stored_fingerprint != fingerprint:
        raise PlantError(409, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was already used with another request")
    return _json(200, text, {REPLAYED_HEADER: "true"})
