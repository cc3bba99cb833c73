"""MES adapter over an EPCIS 2.0 repository (the standard REST query interface, ``GET /events``).

Genealogy comes from TransformationEvents: one level backward is ``MATCH_outputEPCClass`` over the level's lots,
one level forward ``MATCH_inputEPCClass``, each one request per chunk of lots (chunks in parallel), following
``nextPageToken`` (the ``Link: rel="next"`` header) to the end. Lot masters are ``MATCH_anyEPCClass`` over the
lots (``sources.epcis.genealogy`` says how a master is read from events). Custody and containment
(``sources.epcis.custody``) are two levels: ``MATCH_anyEPCClass`` over the lots (their shipping, receiving and
aggregation events), then ``MATCH_anyEPC`` over the containers those put them in (the containers' own shipping,
receiving and unpacking events).

Lot ids are what the gateway calls lots (``sources.epcis.genealogy.lot_id``). To ask a repository about a lot the
adapter needs the EPC class the repository spells it with: it remembers the class of every lot it has seen in an
event; a lot id that is itself a URI is its own class; for a bare lot number it has not seen, it asks for the
events that made it, by ILMD lot number (``EQ_ILMD_cbvmda:lotNumber``).

An EPCIS repository filters events; it has no list of lots: ``search_lots`` is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sources.cache import RecordCache
from sources.custody import Custody
from sources.epcis.custody import containers_of, custody_of
from sources.epcis.events import Event, EventError, read_event
from sources.epcis.genealogy import edges_of, lot_id, lots_of
from sources.errors import SourceProtocolError
from sources.http import SourceClient, group_by
from sources.records import GenealogyEdge, Lot, LotKind, Page
from sources.resilience import Health

LOT_NUMBER_PARAM = "EQ_ILMD_cbvmda:lotNumber"
CHUNK = 100
"""EPC classes per request (they travel in the query string)."""
PER_PAGE = 1000
MAX_PAGES = 1000
IN_FLIGHT = 8
"""Requests at once to the repository: a level of 10,000 lots is 100 chunks, which one repository process answers
one after another anyway; sent all at once, the last ones would wait past their deadline."""
AROUND = "ObjectEvent,AggregationEvent"
"""The event types custody and containment are read from."""


class EpcisMesSource:
    name = "mes"

    kind = "epcis"

    def __init__(
        self,
        client: SourceClient,
        *,
        cache_ttl: float = 0.0,
        chunk: int = CHUNK,
        per_page: int = PER_PAGE,
        path: str = "/events",
        plain_ids: bool = False,
    ) -> None:
        self.client = client
        self.path = path
        self.plain_ids = plain_ids
        """The repository takes the gateway's lot ids as they are (the contract MES's interface does): no need to
        ask for the EPC class of a bare lot number first."""
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        self.chunk = chunk
        self.per_page = per_page
        self._lots: RecordCache[Lot] = RecordCache(cache_ttl, maxsize=200_000)
        self._classes: dict[str, str] = {}
        """The EPC class of every lot id seen in an event (a lot id per lot the repository has shown us)."""

    def health(self) -> Health:
        return self.client.health()

    async def aclose(self) -> None:
        await self.client.aclose()

    def invalidate(self, lot_ids: Iterable[str] | None = None) -> None:
        self._lots.invalidate(lot_ids)

    async def lots(self, ids: Iterable[str]) -> dict[str, Lot]:
        return await self._lots.get_many(ids, self._fetch_lots)

    async def _fetch_lots(self, ids: list[str]) -> dict[str, Lot]:
        events = await self._events_of("MATCH_anyEPCClass", ids)
        return lots_of(events, ids)

    async def search_lots(
        self, *, product_id: str | None, plant: str | None, kind: LotKind | None, limit: int, after: str | None
    ) -> Page[Lot]:
        raise SourceProtocolError(self.name, "an EPCIS repository has no list of lots to search: ask by lot id")

    async def edges_into(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        ids = set(lot_ids)
        events = await self._events_of("MATCH_outputEPCClass", ids, eventType="TransformationEvent")
        edges = [e for event in events for e in edges_of(event) if e.output_lot_id in ids]
        return group_by(_unique(edges), lambda e: e.output_lot_id)

    async def edges_out_of(self, lot_ids: Iterable[str]) -> dict[str, list[GenealogyEdge]]:
        ids = set(lot_ids)
        events = await self._events_of("MATCH_inputEPCClass", ids, eventType="TransformationEvent")
        edges = [e for event in events for e in edges_of(event) if e.input_lot_id in ids]
        return group_by(_unique(edges), lambda e: e.input_lot_id)

    async def custody(self, lot_ids: Iterable[str]) -> dict[str, Custody]:
        ids = list(dict.fromkeys(lot_ids))
        return custody_of(await self._around(ids), ids)

    async def _around(self, ids: list[str]) -> list[Event]:
        """The lots' object and aggregation events, then those of the containers the lots were packed in (and of
        lots that are containers themselves: instance EPCs)."""
        own = await self._events_of("MATCH_anyEPCClass", ids, eventType=AROUND) if ids else []
        epcs = sorted(containers_of(own, ids) | {i for i in ids if i.startswith("urn:epc:id:")})
        chunks = [epcs[i : i + self.chunk] for i in range(0, len(epcs), self.chunk)]
        found = await asyncio.gather(*(self._query({"MATCH_anyEPC": ",".join(c), "eventType": AROUND}) for c in chunks))
        return _unique_events([*own, *(event for events in found for event in events)])

    # -- queries ------------------------------------------------------------------------------------------------

    async def _events_of(self, param: str, lot_ids: Iterable[str], **extra: str) -> list[Event]:
        """Events matching the lots' EPC classes on ``param``, one request per chunk, chunks in parallel."""
        classes = await self._classes_of(list(dict.fromkeys(lot_ids)))
        chunks = [classes[i : i + self.chunk] for i in range(0, len(classes), self.chunk)]
        found = await asyncio.gather(*(self._query({param: ",".join(chunk), **extra}) for chunk in chunks))
        return _unique_events(event for events in found for event in events)

    async def _classes_of(self, lot_ids: list[str]) -> list[str]:
        if self.plain_ids:
            return lot_ids
        unknown = [i for i in lot_ids if i not in self._classes and ":" not in i]
        if unknown:
            chunks = [unknown[i : i + self.chunk] for i in range(0, len(unknown), self.chunk)]
            await asyncio.gather(*(self._query({LOT_NUMBER_PARAM: ",".join(chunk)}) for chunk in chunks))
        return [self._classes.get(i, i) for i in lot_ids if i in self._classes or ":" in i]

    async def _query(self, params: Mapping[str, str]) -> list[Event]:
        """``GET /events`` with these parameters, every page."""
        query = {**params, "perPage": str(self.per_page)}
        events: list[Event] = []
        for _ in range(MAX_PAGES):
            async with self._in_flight:
                body, following = await self.client.get_page(self.path, query)
            events.extend(self._read(body))
            token = parse_qs(urlsplit(following).query).get("nextPageToken") if following else None
            if not token:
                return events
            query = {**params, "perPage": str(self.per_page), "nextPageToken": token[0]}
        raise SourceProtocolError(self.name, f"MES (EPCIS) answered more than {MAX_PAGES} pages")

    def _read(self, body: Any) -> list[Event]:
        try:
            items = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            if not isinstance(items, list):
                raise TypeError("eventList")
            events = [read_event(item) for item in items]
        except (KeyError, TypeError, EventError) as exc:
            raise SourceProtocolError(self.name, "MES (EPCIS) answered something other than a query document") from exc
        for event in events:
            for epc in event.classes:
                self._classes.setdefault(lot_id(epc), epc)
        return events


def _unique(edges: list[GenealogyEdge]) -> list[GenealogyEdge]:
    return list(dict.fromkeys(edges))


def _unique_events(events: Iterable[Event]) -> list[Event]:
    found: dict[str, Event] = {}
    for event in events:
        found.setdefault(event.event_id or str(id(event)), event)
    return list(found.values())
