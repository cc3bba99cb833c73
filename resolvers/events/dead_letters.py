"""Dead letters: the signed webhooks that could not be recorded, listed and replayed (from the stored body or a
corrected one) through the same normalisation as intake. A letter still malformed stays PENDING with the new
reason; the stored body is never changed."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.events.intake import with_plant
from resolvers.events.normalize import MalformedEvent, normalize
from resolvers.events.sites import at_site
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.deadletters import DeadLetter as DeadLetter  # the records schema/ shows
from sources.deadletters import DeadLetterStatus as DeadLetterStatus
from sources.deadletters import DeadLetterStore
from sources.ports import EventBus

MAX_FIRST = 500


class ReplayProblem(enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_REPLAYED = "ALREADY_REPLAYED"
    STILL_MALFORMED = "STILL_MALFORMED"


@dataclass(frozen=True, slots=True)
class Replayed:
    letter: DeadLetter | None
    problem: ReplayProblem | None = None
    message: str | None = None
    event: Event | None = None  # the event it became


async def replay(
    sources: Sources, bus: EventBus, dead_letters: DeadLetterStore, letter_id: str, body: bytes | None = None
) -> Replayed:
    """Normalize a dead letter again (its stored body, or a corrected ``body``) and publish it. A letter that is
    still malformed stays PENDING with the new reason; the stored body is never changed."""
    letter = await dead_letters.get(letter_id)
    if letter is None:
        return Replayed(None, ReplayProblem.NOT_FOUND, f"no dead letter {letter_id!r}")
    if letter.status is DeadLetterStatus.REPLAYED:
        return Replayed(letter, ReplayProblem.ALREADY_REPLAYED, f"{letter_id} was replayed as event {letter.event_id}")
    site, _, system = letter.source.rpartition("/")  # another site's letters are kept as "<site>/<system>"
    try:
        event = at_site(
            normalize(system, body if body is not None else letter.body), sources.ids, site or sources.ids.default
        )
    except MalformedEvent as exc:
        failed = dataclasses.replace(letter, attempts=letter.attempts + 1, last_error=exc.reason)
        await dead_letters.save(failed)
        return Replayed(failed, ReplayProblem.STILL_MALFORMED, exc.reason)
    stored = await bus.publish(await with_plant(sources, event))
    done = dataclasses.replace(
        letter,
        status=DeadLetterStatus.REPLAYED,
        attempts=letter.attempts + 1,
        last_error=None,
        replayed_at=datetime.now(UTC),
        event_id=stored.id,
        cursor=stored.cursor,
    )
    await dead_letters.save(done)
    return Replayed(done, event=stored)


def _services(ctx: Context) -> tuple[DeadLetterStore, EventBus]:
    if ctx.dead_letters is None or ctx.bus is None:
        raise InputError("dead letters are not available on this gateway", code="EVENTS_UNAVAILABLE")
    return ctx.dead_letters, ctx.bus


def _check_first(first: int) -> None:
    if not 1 <= first <= MAX_FIRST:
        raise InputError(f"first: must be 1 to {MAX_FIRST}, got {first}")


async def listed(
    ctx: Context, status: DeadLetterStatus | None, source: str | None, first: int, after: str | None
) -> list[DeadLetter]:
    """Dead letters, oldest first, of this status and source when given, after the letter id ``after``."""
    _check_first(first)
    store, _ = _services(ctx)
    return await store.list(status=status, source=source, first=first, after=after)


async def replay_one(ctx: Context, letter_id: str, body: bytes | None) -> Replayed:
    store, bus = _services(ctx)
    return await replay(ctx.sources, bus, store, letter_id, body)


async def replay_pending(ctx: Context, source: str | None, first: int) -> list[Replayed]:
    """Replay up to ``first`` pending letters (of ``source`` when given), one after the other, oldest first."""
    _check_first(first)
    store, bus = _services(ctx)
    pending = await store.list(status=DeadLetterStatus.PENDING, source=source, first=first, after=None)
    return [await replay(ctx.sources, bus, store, letter.id) for letter in pending]
