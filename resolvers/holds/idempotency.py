"""Idempotent commands (DESIGN.md rule 3): one run per idempotency key, the first answer for every repeat.

``run_once`` claims the key in the durable store with a fingerprint of the request, runs the command, and keeps
its answer for the store's TTL. A repeat with the same request gets that answer again; with another request it is
refused (IDEMPOTENCY_KEY_REUSED); while the first run is still going it is told so (IN_PROGRESS), never run twice.
A run that changed nothing (refused input, a system of record down before any change) is not kept, so the same
key can be tried again — as the systems of record do.

Upstream commands carry keys derived from the client's key (``upstream_key``), so a run taken over after a crash
repeats them without effect. A run taken over while still going (slow past its lease) learns it at its next write:
the run's writes are fenced by its claim (``sources.store.Fence``), so that write stores nothing and raises
``ClaimLost``; the run stops there (sending no further upstream command) and answers what the store holds for the
key: the other run's answer once stored, else IN_PROGRESS.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from sources.store import ClaimLost, ClaimState, Store

T = TypeVar("T")

log = logging.getLogger("lotgraph.holds")

MAX_KEY_LENGTH = 200


class Refusal(Enum):
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IN_PROGRESS = "IN_PROGRESS"


@dataclass(frozen=True, slots=True)
class Ran(Generic[T]):
    """The answer of a run, and whether it is final (kept for repeats) or changed nothing (forgotten)."""

    answer: T
    keep: bool


def check_key(key: str) -> str | None:
    """Why ``key`` is not a usable idempotency key, or None."""
    if not key.strip():
        return "idempotencyKey: must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"idempotencyKey: at most {MAX_KEY_LENGTH} characters, got {len(key)}"
    if not key.isprintable():
        return "idempotencyKey: must be printable text"
    return None


def fingerprint(operation: str, user: str, request: dict[str, Any]) -> str:
    canonical = json.dumps({"operation": operation, "user": user, "request": request}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def upstream_key(key: str, *parts: str) -> str:
    """The Idempotency-Key of one upstream command of the run of ``key``: the same on every repeat of the run,
    different for every step and lot, and safe as a header value whatever the client's key holds."""
    digest = hashlib.sha256("\x1f".join((key, *parts)).encode()).hexdigest()[:40]
    return f"lotgraph-{digest}"


async def run_once(
    store: Store,
    key: str,
    fingerprint_: str,
    *,
    lease_seconds: float,
    run: Callable[[str], Awaitable[Ran[T]]],
    encode: Callable[[T], str],
    decode: Callable[[str], T],
    after: Callable[[], Awaitable[None]] | None = None,
) -> T | Refusal:
    """``run(token)`` once for ``key`` (its writes fenced by the claim's token); ``after`` once its answer is
    stored or forgotten under the claim, never when the claim was taken over meanwhile."""
    claim = await store.claim(key, fingerprint_, lease_seconds=lease_seconds)
    if claim.state is ClaimState.DONE:
        assert claim.result is not None
        return decode(claim.result)
    if claim.state is ClaimState.REUSED:
        return Refusal.IDEMPOTENCY_KEY_REUSED
    if claim.state is ClaimState.IN_PROGRESS:
        return Refusal.IN_PROGRESS
    # If the run raises (an unexpected failure: what changed is unknown), the claim stays until its lease runs out;
    # a repeat then takes it over, and its upstream commands replay under the same keys.
    try:
        ran = await run(claim.token)
    except ClaimLost as lost:
        log.warning("a run was taken over while it was still going (slower than its lease): it stopped")
        return Refusal.IN_PROGRESS if lost.result is None else decode(lost.result)
    if not ran.keep:
        await store.abandon(key, claim.token)
    elif not await store.finish(key, claim.token, encode(ran.answer)):
        return ran.answer  # taken over after its last write: what the taker writes stands
    if after is not None:
        await after()
    return ran.answer
