"""Reference data from the ERP: customers and products."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from resolvers.sites import site_of
from schema.info import Info
from schema.sites import SITE_HELP
from sources import records


@strawberry.type(description="A customer (sold-to party) in the ERP.")
class Customer:
    id: strawberry.ID
    name: str
    country: str
    coa_required: bool = strawberry.field(
        description="The customer needs a certificate of analysis for every lot shipped to it."
    )

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @classmethod
    def of(cls, record: records.Customer) -> Customer:
        return cls(
            id=strawberry.ID(record.id), name=record.name, country=record.country, coa_required=record.coa_required
        )

    @classmethod
    def first(cls, found: Sequence[records.Customer | None]) -> Customer | None:
        """The customer a planned field read (one key), if the ERP knows it."""
        return cls.of(found[0]) if found[0] else None


@strawberry.type(description="A product (material) in the ERP.")
class Product:
    id: strawberry.ID
    name: str
    uom: str = strawberry.field(description="Base unit of measure.")
    coa_required: bool = strawberry.field(description="Every lot of this product needs a certificate of analysis.")
    shelf_life_days: int | None

    @strawberry.field(description=SITE_HELP)
    def site(self, info: Info) -> str:
        return site_of(info.context, self.id)

    @classmethod
    def of(cls, record: records.Product) -> Product:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            uom=record.uom,
            coa_required=record.coa_required,
            shelf_life_days=record.shelf_life_days,
        )

    @classmethod
    def first(cls, found: Sequence[records.Product | None]) -> Product | None:
        """The product a planned field read (one key), if the ERP knows it."""
        return cls.of(found[0]) if found[0] else None
