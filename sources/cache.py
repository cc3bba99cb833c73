"""In-process TTL cache of slow-changing reference records (products, customers).

Values are cached, never coroutines or futures. Never used for dispositions, holds or stock: those are read fresh.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

from cachetools import TTLCache

from sources.records import Customer, Product

T = TypeVar("T")


class RecordCache(Generic[T]):
    """Records by id, each kept for ``ttl`` seconds. A ttl of 0 turns caching off."""

    def __init__(self, ttl: float, maxsize: int = 10_000) -> None:
        self.ttl = ttl
        self._entries: TTLCache[str, T] | None = TTLCache(maxsize, ttl) if ttl > 0 else None

    async def get_many(
        self, ids: Iterable[str], fetch: Callable[[list[str]], Awaitable[dict[str, T]]], *, fresh: bool = False
    ) -> dict[str, T]:
        """The records of ``ids`` that exist; ``fetch`` is called once with the ids not cached (all of them when
        ``fresh``, which also refreshes the cache)."""
        wanted = list(dict.fromkeys(ids))
        if self._entries is None:
            return await fetch(wanted)
        if fresh:
            fetched = await fetch(wanted)
            self._entries.update(fetched)
            return fetched
        found = {i: self._entries[i] for i in wanted if i in self._entries}
        missing = [i for i in wanted if i not in found]
        if missing:
            fetched = await fetch(missing)
            self._entries.update(fetched)
            found.update(fetched)
        return found

    def invalidate(self, ids: Iterable[str] | None = None) -> None:
        if self._entries is None:
            return
        if ids is None:
            self._entries.clear()
            return
        for i in ids:
            self._entries.pop(i, None)


class MasterDataCache(ABC):
    """The ERP's customers and products behind a TTL cache, for every ERP adapter: the adapter supplies
    ``_fetch_customers`` and ``_fetch_products`` (one batched read each)."""

    def __init__(self, cache_ttl: float) -> None:
        self._customers: RecordCache[Customer] = RecordCache(cache_ttl)
        self._products: RecordCache[Product] = RecordCache(cache_ttl)

    @abstractmethod
    async def _fetch_customers(self, ids: list[str]) -> dict[str, Customer]: ...

    @abstractmethod
    async def _fetch_products(self, ids: list[str]) -> dict[str, Product]: ...

    async def customers(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Customer]:
        """Customers, from the TTL cache unless ``fresh`` (decisions such as readiness read fresh)."""
        return await self._customers.get_many(ids, self._fetch_customers, fresh=fresh)

    async def products(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        """Products, from the TTL cache unless ``fresh``."""
        return await self._products.get_many(ids, self._fetch_products, fresh=fresh)

    def invalidate(self, *, product_ids: Iterable[str] | None = (), customer_ids: Iterable[str] | None = ()) -> None:
        """Forget these cached products and customers (all of a kind for None): an event said they may have changed."""
        self._products.invalidate(product_ids)
        self._customers.invalidate(customer_ids)
