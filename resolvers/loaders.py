"""Per-operation batching loaders: one upstream call per source and entity kind, whatever the query's shape.

Created inside the running loop for every operation (never shared between requests or between operations on one
WebSocket), so they batch and de-duplicate within an operation and cache nothing beyond it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import cached_property
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from resolvers.config import ResolverConfig
from sources.bundle import Sources
from sources.custody import NO_CUSTODY, Custody
from sources.errors import SourceError
from sources.records import (
    Customer,
    Deviation,
    GenealogyEdge,
    Hold,
    Lot,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentProgress,
    Stock,
)

V = TypeVar("V")


class Loader(Generic[V]):
    """A typed face over ``aiodataloader.DataLoader``: keys are ids, a missing id loads ``default``.

    Two ways in: ``load``/``load_many`` batch the keys asked for in one turn of the loop (a future per key, as
    aiodataloader does); ``fill`` fetches a whole wave of the planner's keys in one call and keeps the values as
    they are, with no future per key (about 370 keys per request for a 50-shipment list). Both keep every value
    they fetched in ``_values``, which ``peek`` and ``load`` read first."""

    def __init__(self, fetch: Callable[[list[str]], Awaitable[Mapping[str, V]]], default: V) -> None:
        self._fetch = fetch
        self._default = default
        self._values: dict[str, V] = {}
        self._futures: dict[str, asyncio.Future[V]] = {}
        self._failed: dict[str, Exception] = {}
        self._filling: dict[str, asyncio.Future[None]] = {}
        self._loader = DataLoader(batch_load_fn=self._batch, cache_map=self._futures)

    async def _batch(self, keys: list[str]) -> list[V]:
        try:
            found = await self._fetch(keys)
        except SourceError as exc:
            if exc.answered is None:
                self._failed.update(dict.fromkeys(keys, exc))
                raise
            # several sites, some failed: their keys fail, the others answer (docs/sites.md)
            failed = [k for k in keys if k in exc.failed_ids]
            self._failed.update(dict.fromkeys(failed, exc))
            self._keep([k for k in keys if k not in exc.failed_ids], exc.answered)  # type: ignore[arg-type]
            return [exc if k in exc.failed_ids else exc.answered.get(k, self._default) for k in keys]  # type: ignore[misc]
        except Exception as exc:
            # aiodataloader forgets failed keys; remember the failure, so that a field read from the
            # operation's store answers it at once (the same error, no second call).
            self._failed.update(dict.fromkeys(keys, exc))
            raise
        return self._keep(keys, found)

    def _keep(self, keys: list[str], found: Mapping[str, V]) -> list[V]:
        values = [found.get(key, self._default) for key in keys]
        for key, value in zip(keys, values, strict=True):
            self._failed.pop(key, None)  # answered since
            self._values[key] = value
        return values

    async def fill(self, keys: Iterable[str]) -> None:
        """Fetch the keys not fetched yet in one batch, and wait for those being fetched; a failure is kept for
        ``settled``, not raised."""
        wanted = dict.fromkeys(keys)
        pending = {self._filling.get(k) or self._futures.get(k) for k in wanted} - {None}
        missing = [k for k in wanted if k not in self._values and k not in self._filling and k not in self._futures]
        if missing:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._filling.update(dict.fromkeys(missing, done))
            try:
                await self._batch(missing)
            except Exception:  # kept in _failed: the fields that need these keys raise it
                pass
            finally:
                for key in missing:
                    self._filling.pop(key, None)
                if not done.done():
                    done.set_result(None)
        waiting = [f for f in pending if f is not None and not f.done()]
        if waiting:
            await asyncio.gather(*(asyncio.shield(f) for f in waiting), return_exceptions=True)

    def peek(self, key: str) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` is loaded already (or primed), without awaiting: a field resolver can
        then answer synchronously, which graphql-core does far faster than awaiting 30,000 loads."""
        values = self._values
        if key in values:
            return True, values[key]
        future = self._futures.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception() is not None:
            return False, None
        return True, future.result()

    def settled(self, key: str) -> tuple[bool, V | None]:
        """Like ``peek``, but a key whose batch failed in this operation raises that failure."""
        failure = self._failed.get(key)
        if failure is not None:
            raise failure
        return self.peek(key)

    async def load(self, key: str) -> V:
        if key in self._filling:
            await asyncio.shield(self._filling[key])
        if key in self._values:
            return self._values[key]
        value: V = await self._loader.load(key)
        return value

    async def load_many(self, keys: Iterable[str]) -> list[V]:
        wanted = list(keys)
        values = self._values
        filling = {self._filling[key] for key in wanted if key in self._filling}
        if filling:
            await asyncio.gather(*(asyncio.shield(f) for f in filling))
        missing = [key for key in dict.fromkeys(wanted) if key not in values]
        if missing:
            await self._loader.load_many(missing)
        return [values[key] for key in wanted]

    def prime(self, key: str, value: V) -> None:
        if key not in self._futures and key not in self._filling:
            self._values.setdefault(key, value)


class LoaderKind(Generic[V]):
    """A loader a capability adds to every operation (readiness decisions, say): the capability builds it from
    the operation's loaders, so this module need not import the capability."""

    def __init__(self, build: Callable[[Loaders], Loader[V]]) -> None:
        self.build = build


class Loaders:
    def __init__(self, sources: Sources, config: ResolverConfig | None = None) -> None:
        self.sources = sources
        self.config = config or ResolverConfig()
        self.fallbacks = 0
        """Field reads the plan did not cover, answered by awaiting a loader (counted for the tests)."""
        self.rendered = 0
        """Root fields answered in one walk over the planned records (``schema.render``; counted for the tests)."""
        self._added: dict[LoaderKind[Any], Loader[Any]] = {}

    def of(self, kind: LoaderKind[V]) -> Loader[V]:
        """This operation's loader of ``kind``, built on first use."""
        loader = self._added.get(kind)
        if loader is None:
            loader = self._added[kind] = kind.build(self)
        return loader

    # ERP
    @cached_property
    def orders(self) -> Loader[SalesOrder | None]:
        return Loader(self.sources.erp.orders, None)

    @cached_property
    def shipments(self) -> Loader[Shipment | None]:
        return Loader(self.sources.erp.shipments, None)

    @cached_property
    def shipments_by_order(self) -> Loader[list[Shipment]]:
        async def fetch(order_ids: list[str]) -> Mapping[str, list[Shipment]]:
            grouped = await self.sources.erp.shipments_by_order(order_ids)
            for shipments in grouped.values():
                for shipment in shipments:
                    self.shipments.prime(shipment.id, shipment)
            return grouped

        return Loader(fetch, [])

    @cached_property
    def customers(self) -> Loader[Customer | None]:
        return Loader(self.sources.erp.customers, None)

    @cached_property
    def products(self) -> Loader[Product | None]:
        return Loader(self.sources.erp.products, None)

    # QMS
    @cached_property
    def quality(self) -> Loader[QualityLot | None]:
        return Loader(self.sources.qms.lots, None)

    @cached_property
    def holds_by_lot(self) -> Loader[list[Hold]]:
        return Loader(self.sources.qms.holds_by_lot, [])

    @cached_property
    def deviations_by_lot(self) -> Loader[list[Deviation]]:
        return Loader(self.sources.qms.deviations_by_lot, [])

    # MES
    @cached_property
    def lots(self) -> Loader[Lot | None]:
        return Loader(self.sources.mes.lots, None)

    @cached_property
    def edges_into(self) -> Loader[list[GenealogyEdge]]:
        return Loader(self.sources.mes.edges_into, [])

    @cached_property
    def edges_out_of(self) -> Loader[list[GenealogyEdge]]:
        return Loader(self.sources.mes.edges_out_of, [])

    @cached_property
    def custody(self) -> Loader[Custody]:
        return Loader(self.sources.mes.custody, NO_CUSTODY)

    # WMS
    @cached_property
    def stock_by_lot(self) -> Loader[list[Stock]]:
        return Loader(self.sources.wms.stock_by_lot, [])

    @cached_property
    def progress(self) -> Loader[ShipmentProgress | None]:
        return Loader(self.sources.wms.shipments, None)
