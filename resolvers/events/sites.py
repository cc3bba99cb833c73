"""Events of a site's systems, named as the graph names that site's records (docs/sites.md). Pure: no I/O.

A site's systems know their records by their own ids; lotgraph names another site's records ``<site>:<id>``
(``sources.sites.ids``). An event from site ``b`` gets the same spelling in its business keys and in the ids of its
payload, so a subscriber filtered by ``b:<lot>`` sees it, its source event id is qualified too (the same upstream
event id at two sites is two events), and it says its ``site``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from resolvers.events.catalog import HOLD_TYPES
from sources.bus.envelope import BusinessKeys, Event
from sources.sites.ids import SiteIds

PAYLOAD_IDS = frozenset(
    {"lot_id", "order_id", "shipment_id", "customer_id", "product_id", "item_id", "hold_id", "deviation_id"}
)
"""Payload fields that hold a record's id (and ``id`` itself: a hold's or a deviation's)."""

OWN_ID_TYPES = HOLD_TYPES | {"DeviationOpened", "DeviationClosed"}
"""Types whose payload ``id`` is a record id (a hold, a deviation)."""


def at_site(event: Event, ids: SiteIds, site: str) -> Event:
    """``event`` as raised by ``site``'s systems: ids qualified (the default site's stay bare), ``site`` set."""
    if site == ids.default:
        return dataclasses.replace(event, site=site)

    def q(value: str) -> str:
        return ids.qualify(site, value)

    keys = event.keys
    qualified = BusinessKeys(
        lot_ids=tuple(map(q, keys.lot_ids)),
        order_ids=tuple(map(q, keys.order_ids)),
        shipment_ids=tuple(map(q, keys.shipment_ids)),
        item_ids=tuple(map(q, keys.item_ids)),
    )
    payload = {name: _ids(name, value, q, event.type) for name, value in event.payload.items()}
    source_event_id = event.source_event_id
    if source_event_id is not None:
        source_event_id = f"{event.type}:{payload['id']}" if _fact(event) else q(source_event_id)
    return dataclasses.replace(event, keys=qualified, payload=payload, source_event_id=source_event_id, site=site)


def _fact(event: Event) -> bool:
    """A hold event's source event id is ``<type>:<hold id>`` (``normalize.FACT_IDS``): with the qualified id."""
    return event.type in HOLD_TYPES and event.source_event_id == f"{event.type}:{event.payload.get('id')}"


def _ids(name: str, value: Any, q: Any, type_: str) -> Any:
    if not isinstance(value, str):
        return value
    if name in PAYLOAD_IDS or (name == "id" and type_ in OWN_ID_TYPES):
        return q(value)
    return value
