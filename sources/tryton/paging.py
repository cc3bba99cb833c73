"""Keyset pages of a Tryton search, continued after a record's number.

Tryton orders numbers by length and then text, which a ``number > after`` condition cannot follow; so pages go by
record id: ``after`` (the number of the last item of the previous page) is looked up in the same call as the page
when it can be (a ``search_read`` of the page is one call, plus one for the count and one for ``after``'s id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sources.tryton.client import Domain, TrytonRpc


@dataclass(frozen=True, slots=True)
class RawPage:
    items: list[dict[str, Any]]
    total: int
    has_more: bool


async def keyset_page(
    rpc: TrytonRpc,
    model: str,
    domain: Domain,
    fields: Sequence[str],
    *,
    limit: int,
    after: str | None,
    key: str = "number",
    context: dict[str, Any] | None = None,
) -> RawPage:
    """One page of ``model`` matching ``domain`` in id order, after the record whose ``key`` is ``after``."""
    page_domain = list(domain)
    if after is not None:
        found = await rpc.search_read(model, [(key, "=", after)], ["id"], limit=1, context=context)
        if found:
            page_domain.append(("id", ">", found[0]["id"]))
    items, total = await asyncio.gather(
        rpc.search_read(model, page_domain, [key, *fields], limit=limit + 1, order=[("id", "ASC")], context=context),
        rpc.search_count(model, list(domain), context=context),
    )
    return RawPage(items[:limit], total, len(items) > limit)
