"""The one rule every durable store answers an idempotency claim with."""

from __future__ import annotations

from sources.store.records import Claim, ClaimState


def decide_claim(found: tuple[str, str, float, str | None] | None, fingerprint: str, now: float) -> Claim | None:
    """What a claim of a key answers, from the record the key holds (fingerprint, state — ``running`` or ``done`` —,
    lease end, stored result), or None when the caller takes the key: it holds nothing live, or a run whose lease
    has run out. The same request again (same fingerprint) gets the stored answer or waits; another request under
    the same key is refused. One rule for every store; each keeps its own way of taking the key atomically."""
    if found is None:
        return None
    found_fingerprint, state, lease_until, result = found
    if found_fingerprint != fingerprint:
        return Claim(ClaimState.REUSED)
    if state == "done":
        return Claim(ClaimState.DONE, result=result)
    if lease_until > now:
        return Claim(ClaimState.IN_PROGRESS)
    return None
