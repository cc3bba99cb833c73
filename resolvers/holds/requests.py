"""The requests of placeHold and releaseHold, and the checks of their input: bad input changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.holds.idempotency import check_key
from resolvers.holds.outcomes import HoldErrorCode, HoldProblem, HoldReason, Propagation
from resolvers.lots import lot_named
from resolvers.paging import MAX_IDS
from sources import gs1
from sources.errors import SourceError

MAX_COMMENT = 2000
MAX_ID = 200


@dataclass(frozen=True, slots=True)
class PlaceHoldRequest:
    lot_ids: Sequence[str]
    reason: HoldReason
    idempotency_key: str
    comment: str | None = None
    propagate: Propagation = Propagation.NONE


@dataclass(frozen=True, slots=True)
class ReleaseHoldRequest:
    hold_id: str
    idempotency_key: str
    comment: str | None = None


def _invalid(problems: list[str]) -> tuple[HoldProblem, ...]:
    return tuple(HoldProblem(HoldErrorCode.INVALID_INPUT, message) for message in problems)


def _common(comment: str | None, key: str) -> list[str]:
    problems = []
    if comment is not None and len(comment) > MAX_COMMENT:
        problems.append(f"comment: at most {MAX_COMMENT} characters, got {len(comment)}")
    if (key_problem := check_key(key)) is not None:
        problems.append(key_problem)
    return problems


def check_place(request: PlaceHoldRequest) -> tuple[list[str], tuple[HoldProblem, ...]]:
    """The lots to hold (trimmed, each once, in order) and what is wrong with the request."""
    problems: list[str] = []
    lot_ids = list(dict.fromkeys(gs1.lot_name(lot_id) for lot_id in request.lot_ids))
    if not request.lot_ids:
        problems.append("lotIds: give at least one lot")
    elif len(lot_ids) > MAX_IDS:
        problems.append(f"lotIds: at most {MAX_IDS} lots per request, got {len(lot_ids)}")
    elif any(not lot_id or len(lot_id) > MAX_ID or "," in lot_id for lot_id in lot_ids):
        problems.append(f"lotIds: every lot id must be non-empty, without commas, at most {MAX_ID} characters")
    return lot_ids, _invalid(problems + _common(request.comment, request.idempotency_key))


async def at_sites(ctx: Context, request: PlaceHoldRequest, lot_ids: list[str]) -> tuple[list[str], str | None]:
    """The lots to hold with GS1 names resolved to their sites (``resolvers.lots.lot_named``; nothing to do with one
    site), or why they cannot be: a name several sites claim, or a site that cannot tell."""
    if len(ctx.sources.ids.names) < 2:
        return lot_ids, None
    try:
        named = await asyncio.gather(*(lot_named(ctx, name.strip(), gs1.lot_name(name)) for name in request.lot_ids))
    except InputError as exc:
        return lot_ids, f"lotIds: {exc.message}"
    except SourceError as exc:
        return lot_ids, f"lotIds: the sites could not tell which lot a GS1 name names: {exc.message}"
    return list(dict.fromkeys(named)), None


def check_release(request: ReleaseHoldRequest) -> tuple[str, tuple[HoldProblem, ...]]:
    hold_id = request.hold_id.strip()
    problems = []
    if not hold_id or len(hold_id) > MAX_ID:
        problems.append(f"holdId: must be non-empty and at most {MAX_ID} characters")
    return hold_id, _invalid(problems + _common(request.comment, request.idempotency_key))
