"""Sites as resolvers see them (docs/sites.md): which site an id names, the sources of one site for a ``site``
filter, and whether a caller scoped to some sites may command a lot."""

from __future__ import annotations

from collections.abc import Iterable

from resolvers.context import Context
from resolvers.errors import InputError
from sources.bundle import Sources


def site_of(ctx: Context, record_id: str) -> str:
    """The site whose systems hold the record of this id (the default site for a bare id)."""
    return ctx.sources.ids.site_of(record_id)


def sources_at(ctx: Context, site: str | None) -> Sources:
    """The sources whose searches cover ``site`` only (every site when None); an unknown site is an input error."""
    try:
        return ctx.sources.at(site)
    except KeyError:
        names = ", ".join(ctx.sources.ids.names)
        raise InputError(f"site: no site {site!r} (the sites are {names})", code="UNKNOWN_SITE") from None


def outside_scope(ctx: Context, lot_ids: Iterable[str]) -> list[str]:
    """The lots of sites the caller is not scoped to (none when the caller's token names no sites)."""
    if ctx.sites is None:
        return []
    return [lot_id for lot_id in lot_ids if site_of(ctx, lot_id) not in ctx.sites]
