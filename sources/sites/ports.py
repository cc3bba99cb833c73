"""The ERP, QMS and WMS of every site behind the one port of each kind: reads fan out by the sites of the ids
(one batched call per site), searches over every site (or the one a filter's id names), commands go to the site
of the lot or hold, with that site's adapter (its own URL, credentials and breaker)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from typing import Generic, TypeVar

from sources.combined import ExpandedShipment, LotQuality
from sources.errors import SourceError
from sources.ports import ErpPort, QmsPort, Upstream, WmsPort
from sources.records import (
    Customer,
    Deviation,
    DeviationStatus,
    Disposition,
    Hold,
    HoldStatus,
    OrderStatus,
    Page,
    Product,
    QualityLot,
    SalesOrder,
    Shipment,
    ShipmentFilter,
    ShipmentProgress,
    Stock,
    StockChange,
    WarehouseStage,
)
from sources.resilience import Health
from sources.sites.fanout import Fanout, each_site, tagged
from sources.sites.ids import SiteIds
from sources.sites.qualify import Qualifier

P = TypeVar("P", bound=Upstream)


class _Sited(Generic[P]):
    def __init__(self, ids: SiteIds, ports: Mapping[str, P], sites: tuple[str, ...] | None = None) -> None:
        self.fan: Fanout[P] = Fanout(ids, ports)
        self.ids = ids
        self.sites = list(sites or ports)
        """The sites searches cover (all, or the one a ``site`` filter names)."""
        self.name = ports[ids.default if ids.default in ports else next(iter(ports))].name

    def health(self) -> Health:
        """The default site's (the readiness probe and sourceHealth are the deployment's own systems)."""
        return self.fan.ports[self.ids.default if self.ids.default in self.fan.ports else self.sites[0]].health()

    async def aclose(self) -> None:
        await asyncio.gather(*(port.aclose() for port in self.fan.ports.values()))

    def _over(self, *filter_ids: str | None) -> list[str]:
        """The sites a search covers: the one its filter's ids name, else all of this port's."""
        named = {self.ids.site_of(i) for i in filter_ids if i is not None}
        return [s for s in self.sites if s in named] if named else self.sites

    def _one(self, qualified: str) -> tuple[P, Qualifier, str]:
        site, local = self.ids.split(qualified)
        return self.fan.ports[site], self.fan.q[site], local


class SiteErp(_Sited[ErpPort]):
    async def customers(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Customer]:
        return await self.fan.by_id(list(ids), lambda p, i: p.customers(i, fresh=fresh), Qualifier.customer)

    async def products(self, ids: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        return await self.fan.by_id(list(ids), lambda p, i: p.products(i, fresh=fresh), Qualifier.product)

    def invalidate(self, *, product_ids: Iterable[str] | None = (), customer_ids: Iterable[str] | None = ()) -> None:
        for site, port in self.fan.ports.items():
            q = self.fan.q[site]
            mine = [q.local(i) for i in (product_ids or ()) if self.ids.site_of(i) == site]
            theirs = [q.local(i) for i in (customer_ids or ()) if self.ids.site_of(i) == site]
            port.invalidate(product_ids=None if product_ids is None else mine,
                            customer_ids=None if customer_ids is None else theirs)  # fmt: skip

    async def orders(self, ids: Iterable[str]) -> dict[str, SalesOrder]:
        return await self.fan.by_id(list(ids), lambda p, i: p.orders(i), Qualifier.order)

    async def shipments(self, ids: Iterable[str]) -> dict[str, Shipment]:
        return await self.fan.by_id(list(ids), lambda p, i: p.shipments(i), Qualifier.shipment)

    async def shipments_expanded(self, ids: Iterable[str]) -> dict[str, ExpandedShipment]:
        return await self.fan.by_id(list(ids), lambda p, i: p.shipments_expanded(i), Qualifier.expanded)

    async def shipments_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Shipment]]:
        return await self.fan.grouped(list(order_ids), lambda p, i: p.shipments_by_order(i), Qualifier.shipment)

    async def shipments_by_lot(self, lot_ids: Iterable[str]) -> list[Shipment]:
        """Each site's own ERP knows which of its shipments carry its lots."""
        by_site = self.ids.by_site(lot_ids)
        answers = await each_site({s: self.fan.ports[s].shipments_by_lot(list(local)) for s, local in by_site.items()})
        found: list[Shipment] = []
        for site, answer in answers.items():
            if isinstance(answer, SourceError):
                raise answer
            found.extend(self.fan.q[site].shipment(x) for x in answer)
        return found

    async def search_orders(
        self, *, status: OrderStatus | None, customer_id: str | None, limit: int, after: str | None
    ) -> Page[SalesOrder]:
        def call(site: str, n: int, a: str | None) -> Awaitable[Page[SalesOrder]]:
            local = self.ids.split(customer_id)[1] if customer_id else None
            return self.fan.ports[site].search_orders(status=status, customer_id=local, limit=n, after=a)

        return await self.fan.search(self._over(customer_id), after, limit, call, Qualifier.order)

    async def search_shipments(self, where: ShipmentFilter, *, limit: int, after: str | None) -> Page[Shipment]:
        sites = self._over(*(where.ids or ()), where.customer_id)

        def call(site: str, n: int, a: str | None) -> Awaitable[Page[Shipment]]:
            return self.fan.ports[site].search_shipments(self.fan.q[site].local_filter(where), limit=n, after=a)

        return await self.fan.search(sites, after, limit, call, Qualifier.shipment)


class SiteQms(_Sited[QmsPort]):
    async def lots(self, ids: Iterable[str]) -> dict[str, QualityLot]:
        return await self.fan.by_id(list(ids), lambda p, i: p.lots(i), Qualifier.quality)

    async def search_lots(
        self, *, product_id: str | None, disposition: Disposition | None, limit: int, after: str | None
    ) -> Page[QualityLot]:
        def call(site: str, n: int, a: str | None) -> Awaitable[Page[QualityLot]]:
            local = self.ids.split(product_id)[1] if product_id else None
            return self.fan.ports[site].search_lots(product_id=local, disposition=disposition, limit=n, after=a)

        return await self.fan.search(self._over(product_id), after, limit, call, Qualifier.quality)

    async def holds_by_lot(self, lot_ids: Iterable[str], status: HoldStatus | None = None) -> dict[str, list[Hold]]:
        return await self.fan.grouped(list(lot_ids), lambda p, i: p.holds_by_lot(i, status), Qualifier.hold)

    async def holds(self, ids: Iterable[str]) -> dict[str, Hold]:
        return await self.fan.by_id(list(ids), lambda p, i: p.holds(i), Qualifier.hold)

    async def search_holds(
        self, *, status: HoldStatus | None, lot_id: str | None, reason_code: str | None, limit: int, after: str | None
    ) -> Page[Hold]:
        def call(site: str, n: int, a: str | None) -> Awaitable[Page[Hold]]:
            local = self.ids.split(lot_id)[1] if lot_id else None
            return self.fan.ports[site].search_holds(
                status=status, lot_id=local, reason_code=reason_code, limit=n, after=a
            )

        return await self.fan.search(self._over(lot_id), after, limit, call, Qualifier.hold)

    async def place_hold(
        self, lot_id: str, *, reason_code: str, comment: str | None, placed_by: str, idempotency_key: str
    ) -> Hold:
        port, q, local = self._one(lot_id)
        try:
            hold = await port.place_hold(local, reason_code=reason_code, comment=comment, placed_by=placed_by,
                                         idempotency_key=idempotency_key)  # fmt: skip
        except SourceError as exc:
            raise tagged(exc, q.site) from None
        return q.hold(hold)

    async def release_hold(self, hold_id: str, *, released_by: str, comment: str | None, idempotency_key: str) -> Hold:
        port, q, local = self._one(hold_id)
        try:
            hold = await port.release_hold(local, released_by=released_by, comment=comment,
                                           idempotency_key=idempotency_key)  # fmt: skip
        except SourceError as exc:
            raise tagged(exc, q.site) from None
        return q.hold(hold)

    async def deviations_by_lot(
        self, lot_ids: Iterable[str], status: DeviationStatus | None = None
    ) -> dict[str, list[Deviation]]:
        return await self.fan.grouped(list(lot_ids), lambda p, i: p.deviations_by_lot(i, status), Qualifier.deviation)

    async def quality_status(self, lot_ids: Iterable[str]) -> dict[str, LotQuality]:
        return await self.fan.by_id(list(lot_ids), lambda p, i: p.quality_status(i), Qualifier.lot_quality)


class SiteWms(_Sited[WmsPort]):
    async def stock_by_lot(self, lot_ids: Iterable[str]) -> dict[str, list[Stock]]:
        return await self.fan.grouped(list(lot_ids), lambda p, i: p.stock_by_lot(i), Qualifier.stock)

    async def shipments(self, ids: Iterable[str]) -> dict[str, ShipmentProgress]:
        return await self.fan.by_id(list(ids), lambda p, i: p.shipments(i), Qualifier.progress)

    async def search_shipments(
        self, *, stage: WarehouseStage | None, limit: int, after: str | None
    ) -> Page[ShipmentProgress]:
        def call(site: str, n: int, a: str | None) -> Awaitable[Page[ShipmentProgress]]:
            return self.fan.ports[site].search_shipments(stage=stage, limit=n, after=a)

        return await self.fan.search(self.sites, after, limit, call, Qualifier.progress)

    async def block_stock(
        self, lot_id: str, *, reason: str, reference: str | None, idempotency_key: str
    ) -> StockChange:
        port, q, local = self._one(lot_id)
        try:
            change = await port.block_stock(local, reason=reason, reference=reference, idempotency_key=idempotency_key)
        except SourceError as exc:
            raise tagged(exc, q.site) from None
        return q.stock_change(change)

    async def unblock_stock(self, lot_id: str, *, reference: str | None, idempotency_key: str) -> StockChange:
        port, q, local = self._one(lot_id)
        try:
            change = await port.unblock_stock(local, reference=reference, idempotency_key=idempotency_key)
        except SourceError as exc:
            raise tagged(exc, q.site) from None
        return q.stock_change(change)
