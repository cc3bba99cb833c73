"""Webhooks in: a signed body becomes a canonical event on the bus, or a dead letter with the reason; dead letters
are replayed from here too.

The signature is checked before (api/webhooks.py); here the body is normalized (``resolvers.events.normalize``),
given the lot's plant when the source did not say (MES lot master, best effort), and published: the bus dedupes
on the source event id, so a redelivered webhook is recorded once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from resolvers.events.normalize import MalformedEvent, normalize
from sources.bundle import Sources
from sources.deadletters import DeadLetter, DeadLetterStatus, DeadLetterStore
from sources.errors import SourceError
from sources.events import Event, EventBus

log = logging.getLogger("lotgraph.events")

PLANT_LOOKUP_SECONDS = 0.5


class Outcome(enum.Enum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class Ingested:
    outcome: Outcome
    event: Event | None = None
    dead_letter: DeadLetter | None = None


async def ingest(
    sources: Sources,
    bus: EventBus,
    dead_letters: DeadLetterStore,
    source: str,
    body: bytes,
    delivery_id: str | None,
) -> Ingested:
    """Record one verified webhook. Raises only when the bus or the dead-letter store is unavailable (the sender
    then retries: nothing is lost)."""
    try:
        event = normalize(source, body)
    except MalformedEvent as exc:
        letter = await dead_letters.add(source, body, exc.reason, delivery_id)
        log.warning(
            "webhook dead-lettered", extra={"source": source, "dead_letter_id": letter.id, "reason": letter.reason}
        )
        return Ingested(Outcome.DEAD_LETTERED, dead_letter=letter)
    event = await with_plant(sources, event)
    stored = await bus.publish(event)
    return Ingested(Outcome.RECORDED if stored.id == event.id else Outcome.DUPLICATE, event=stored)


async def with_plant(sources: Sources, event: Event) -> Event:
    """The event with its plant from the MES lot master, when the source did not give one and a lot is known."""
    if event.plant is not None or not event.keys.lot_ids:
        return event
    try:
        async with asyncio.timeout(PLANT_LOOKUP_SECONDS):
            lots = await sources.mes.lots(event.keys.lot_ids[:1])
    except (SourceError, TimeoutError) as exc:
        log.info("event recorded without its plant: the MES did not say", extra={"error": str(exc)})
        return event
    lot = lots.get(event.keys.lot_ids[0])
    return dataclasses.replace(event, plant=lot.plant) if lot is not None and lot.plant else event


# -- dead letters ------------------------------------------------------------------------------------------------


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
    try:
        event = normalize(letter.source, body if body is not None else letter.body)
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
