"""The query planner's table and waves: which upstream records each field needs, fetched level by level.

``FIELDS`` maps a GraphQL (type, field) to where its data comes from: a ``Fetch`` (one of the operation's loaders,
and the keys of the parent record it needs) or an ``Expand`` (records the parent record already holds). A
``Selection`` (what an operation asks for below a field, from ``schema.planning``) and the parent records are all
``prefetch`` needs: it walks the selection level by level, and per level asks every loader once for all the keys
of that level together (one batched call per source and kind, chunked by the adapters), all loaders at once.
Field resolvers then ``read`` their answer synchronously from the loaders, so graphql-core completes the result
without an awaitable per field; a field the plan did not cover (or a record the operation reached another way)
``load``s it as before.

The parent record of each type: Shipment → ``records.Shipment``, ShipmentLine → ``records.ShipmentLine``,
LotAssignment → ``records.LotAssignment``, SalesOrder → ``records.SalesOrder``, OrderLine → ``records.OrderLine``,
Lot → ``LotRef``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from resolvers.context import Context
from resolvers.loaders import Loader
from resolvers.lots import LotRef
from sources.errors import SourceError

Selection = Mapping[str, tuple[str, "Selection"]]
"""Field name → (its named type, what is selected below it); aliases and fragments merged."""


def _lot_refs(keys: Sequence[str], found: Sequence[Any] | SourceError) -> list[Any]:
    """MES master records as lot references: a lot stays visible when the MES cannot answer."""
    if isinstance(found, SourceError):
        return [LotRef(key, None, found) for key in keys]
    return [LotRef(key, record) for key, record in zip(keys, found, strict=True)]


@dataclass(frozen=True, slots=True)
class Fetch:
    loader: str
    """The attribute of ``Loaders``."""
    keys: Callable[[Any], Sequence[str]]
    """The keys the field needs, from the parent record."""
    shape: Callable[[Sequence[str], Sequence[Any] | SourceError], list[Any]] | None = None
    """Turns the values (or the source's failure) into the field's records; None: values as they are, and a
    failure is raised."""
    ahead: Callable[[Any], Sequence[Any]] | None = None
    """The field's records as far as they are known before the fetch (lots by id): the fields below that need no
    more than that are fetched in the same wave instead of the next."""


@dataclass(frozen=True, slots=True)
class Expand:
    children: Callable[[Any], Sequence[Any]]
    """Records the parent record holds (a shipment's lines): nothing to fetch, the next types' fields are."""


def _one(attribute: str) -> Callable[[Any], Sequence[str]]:
    return lambda record: (getattr(record, attribute),)


def _ahead(lot_ids: Callable[[Any], Sequence[str]]) -> Callable[[Any], Sequence[Any]]:
    return lambda record: [LotRef(lot_id, None) for lot_id in lot_ids(record)]


def _assigned(line: Any) -> Sequence[str]:
    return [a.lot_id for a in line.lots]


def _lot_id(ref: LotRef) -> Sequence[str]:
    return (ref.id,)


QUALITY = Fetch("quality", _lot_id)

FIELDS: Final[Mapping[tuple[str, str], Fetch | Expand]] = {
    ("Shipment", "order"): Fetch("orders", _one("order_id")),
    ("Shipment", "customer"): Fetch("customers", _one("customer_id")),
    ("Shipment", "lines"): Expand(lambda shipment: shipment.lines),
    ("Shipment", "warehouseStage"): Fetch("progress", _one("id")),
    ("Shipment", "warehouseStageAt"): Fetch("progress", _one("id")),
    ("ShipmentLine", "lots"): Fetch("lots", _assigned, _lot_refs, _ahead(_assigned)),
    ("ShipmentLine", "product"): Fetch("products", _one("product_id")),
    ("ShipmentLine", "lotAssignments"): Expand(lambda line: line.lots),
    ("LotAssignment", "lot"): Fetch("lots", _one("lot_id"), _lot_refs, _ahead(_one("lot_id"))),
    ("SalesOrder", "customer"): Fetch("customers", _one("customer_id")),
    ("SalesOrder", "lines"): Expand(lambda order: order.lines),
    ("SalesOrder", "shipments"): Fetch("shipments_by_order", _one("id")),
    ("OrderLine", "product"): Fetch("products", _one("product_id")),
    ("Lot", "disposition"): QUALITY,
    ("Lot", "dispositionAt"): QUALITY,
    ("Lot", "expiryDate"): QUALITY,
    ("Lot", "certificateOfAnalysis"): QUALITY,
    ("Lot", "holds"): Fetch("holds_by_lot", _lot_id),
    ("Lot", "deviations"): Fetch("deviations_by_lot", _lot_id),
    ("Lot", "stock"): Fetch("stock_by_lot", _lot_id),
}
"""(type, field) → where the field's data comes from. A field not listed is resolved as before, and nothing below
it is planned. Every field of Lot listed here is keyed by the lot's id alone (see ``Fetch.ahead``)."""

MISSING: Final = object()
"""What ``read`` answers when the operation's loaders do not hold the field's data yet."""


def _loader(ctx: Context, fetch: Fetch) -> Loader[Any]:
    loader: Loader[Any] = getattr(ctx.loaders, fetch.loader)
    return loader


def _flatten(values: Sequence[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            flat.extend(value)
        elif value is not None:
            flat.append(value)
    return flat


def read(ctx: Context, type_name: str, field: str, record: Any) -> Any:
    """The field's values (one per key, shaped), synchronously from the operation's loaders; ``MISSING`` when they
    are not all there. A failed batch raises its failure (unless the field's shape answers it)."""
    fetch = FIELDS[(type_name, field)]
    assert isinstance(fetch, Fetch)
    loader = _loader(ctx, fetch)
    keys = fetch.keys(record)
    values = []
    try:
        for key in keys:
            loaded, value = loader.settled(key)
            if not loaded:
                return MISSING
            values.append(value)
    except SourceError as exc:
        if fetch.shape is None:
            raise
        return fetch.shape(keys, exc)
    return fetch.shape(keys, values) if fetch.shape else values


async def load(ctx: Context, type_name: str, field: str, record: Any) -> list[Any]:
    """The same as ``read``, awaiting the loader: the path of fields the plan did not cover."""
    ctx.loaders.fallbacks += 1
    fetch = FIELDS[(type_name, field)]
    assert isinstance(fetch, Fetch)
    keys = fetch.keys(record)
    try:
        values = await _loader(ctx, fetch).load_many(keys)
    except SourceError as exc:
        if fetch.shape is None:
            raise
        return fetch.shape(keys, exc)
    return fetch.shape(keys, values) if fetch.shape else values


Level = list[tuple[str, Selection, Sequence[Any]]]
"""(type name, selection below it, parent records of that type) for every place of one level."""


def _expand(level: Level) -> Level:
    """The level with the records its ``Expand`` fields (and ``Fetch.ahead``) reach, recursively: what is below
    them is fetched in the same wave."""
    done: Level = []
    todo = list(level)
    while todo:
        type_name, selection, records = todo.pop()
        done.append((type_name, selection, records))
        for field, (child_type, below) in selection.items():
            how = FIELDS.get((type_name, field))
            reach = how.children if isinstance(how, Expand) else how.ahead if isinstance(how, Fetch) else None
            if reach is not None and records and below:
                todo.append((child_type, below, [child for r in records for child in reach(r)]))
    return done


async def prefetch(ctx: Context, type_name: str, records: Sequence[Any], selection: Selection) -> int:
    """Fetch what ``selection`` needs below ``records`` of ``type_name``, in waves; answers the number of waves."""
    level: Level = [(type_name, selection, records)]
    waves = 0
    while level:
        level = _expand(level)
        wanted: dict[str, tuple[Loader[Any], dict[str, None]]] = {}
        fetched: list[tuple[str, str, str, Selection, Sequence[Any]]] = []
        for parent_type, below, parents in level:
            for field, (child_type, child_selection) in below.items():
                how = FIELDS.get((parent_type, field))
                if not isinstance(how, Fetch) or not parents:
                    continue
                _, keys = wanted.setdefault(how.loader, (_loader(ctx, how), {}))
                for parent in parents:
                    keys.update(dict.fromkeys(how.keys(parent)))
                if how.ahead is None:
                    fetched.append((parent_type, field, child_type, child_selection, parents))
        if not wanted:
            return waves
        waves += 1
        # Failures stay in the loaders: each field that needs a failed key raises it where graphql-core expects.
        await asyncio.gather(*(loader.fill(keys) for loader, keys in wanted.values()))
        level = [
            (child_type, child_selection, [c for p in parents for c in _children(ctx, parent_type, field, p)])
            for parent_type, field, child_type, child_selection, parents in fetched
            if child_selection
        ]
    return waves


def _children(ctx: Context, type_name: str, field: str, record: Any) -> list[Any]:
    """The records a fetched field gave (none where its source failed: graphql-core will not go below it)."""
    try:
        found = read(ctx, type_name, field, record)
    except SourceError:
        return []
    return [] if found is MISSING else _flatten(found)
