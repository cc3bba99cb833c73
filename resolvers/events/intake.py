"""Webhooks in: a signed body becomes a canonical event on the bus, or a dead letter with the reason
(``resolvers.events.dead_letters`` replays them).

The signature is checked before (api/webhooks.py); here the body is normalized (``resolvers.events.normalize``),
named as the graph names its site's records (``resolvers.events.sites``: ``b:<id>`` for site b), given the lot's
plant when the source did not say (MES lot master, best effort), and published: the bus dedupes on the source event
id, so a redelivered webhook is recorded once (and the same upstream event id at two sites is two events).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from dataclasses import dataclass

from resolvers.events.normalize import MalformedEvent, normalize
from resolvers.events.sites import at_site
from sources.bundle import Sources
from sources.bus.envelope import Event
from sources.deadletters import DeadLetter, DeadLetterStore
from sources.errors import SourceError
from sources.ports import EventBus

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
    site: str | None = None,
) -> Ingested:
    """Record one verified webhook of ``site``'s systems (the deployment's own when None). Raises only when the bus
    or the dead-letter store is unavailable (the sender then retries: nothing is lost)."""
    try:
        event = normalize(source, body)
    except MalformedEvent as exc:
        origin = source if site in (None, sources.ids.default) else f"{site}/{source}"
        letter = await dead_letters.add(origin, body, exc.reason, delivery_id)
        log.warning(
            "webhook dead-lettered", extra={"source": origin, "dead_letter_id": letter.id, "reason": letter.reason}
        )
        return Ingested(Outcome.DEAD_LETTERED, dead_letter=letter)
    event = await with_plant(sources, at_site(event, sources.ids, site or sources.ids.default))
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
