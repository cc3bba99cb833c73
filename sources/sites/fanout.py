"""Asking several sites at once: one call per site in parallel, answers merged, failures named by site.

A batched read by id that fails at some sites raises the first failure (its ``site`` set) carrying what the other
sites answered (``answered``) and the ids it could not answer (``failed_ids``): the per-operation loaders answer
the others and fail only those (resolvers/loaders.py). A search asks every site from the cursor's on, in parallel,
and pages through them in the order the sites are declared (keyset: the cursor is the last qualified id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Generic, TypeVar

from sources.errors import SourceError
from sources.records import Page
from sources.sites.ids import SiteIds
from sources.sites.qualify import Qualifier

P = TypeVar("P")
V = TypeVar("V")
R = TypeVar("R")


def tagged(error: SourceError, site: str) -> SourceError:
    """Name the site in a source error (once; a nested call may have named it already)."""
    if error.site is None:
        error.site = site
        error.message = f"site {site}: {error.message}"
        error.args = (error.message,)
    return error


async def each_site(calls: Mapping[str, Awaitable[R]]) -> dict[str, R | SourceError]:
    """Every site's call at once; a site's source error is its answer (named by site), anything else raises."""
    sites = list(calls)
    results = await asyncio.gather(*calls.values(), return_exceptions=True)
    out: dict[str, R | SourceError] = {}
    for site, result in zip(sites, results, strict=True):
        if isinstance(result, SourceError):
            out[site] = tagged(result, site)
        elif isinstance(result, BaseException):
            raise result
        else:
            out[site] = result
    return out


def raise_first(errors: list[SourceError], answered: Mapping[str, object], failed: set[str]) -> None:
    if errors:
        first = errors[0]
        first.answered, first.failed_ids = dict(answered), frozenset(failed)
        raise first


class Fanout(Generic[P]):
    """The ports of one system kind at every site, and the qualifiers of each site's records."""

    def __init__(self, ids: SiteIds, ports: Mapping[str, P]) -> None:
        self.ids = ids
        self.ports = ports
        self.q = {site: Qualifier(ids, site) for site in ports}

    async def by_id(
        self,
        qualified: Iterable[str],
        call: Callable[[P, list[str]], Awaitable[Mapping[str, V]]],
        convert: Callable[[Qualifier, V], V],
    ) -> dict[str, V]:
        """One batched call per site of the ids; the answers keyed by the ids as asked."""
        grouped = self.ids.by_site(qualified)
        answers = await each_site({site: call(self.ports[site], list(local)) for site, local in grouped.items()})
        found: dict[str, V] = {}
        errors: list[SourceError] = []
        failed: set[str] = set()
        for site, answer in answers.items():
            if isinstance(answer, SourceError):
                errors.append(answer)
                failed.update(grouped[site].values())
                continue
            asked, q = grouped[site], self.q[site]
            for local, value in answer.items():
                found[asked.get(local) or q.q(local)] = convert(q, value)
        raise_first(errors, found, failed)
        return found

    async def grouped(
        self,
        qualified: Iterable[str],
        call: Callable[[P, list[str]], Awaitable[Mapping[str, list[V]]]],
        convert: Callable[[Qualifier, V], V],
    ) -> dict[str, list[V]]:
        """Like ``by_id`` for reads that answer a list per id."""
        return await self.by_id(qualified, call, lambda q, items: [convert(q, x) for x in items])

    async def search(
        self,
        sites: list[str],
        after: str | None,
        limit: int,
        call: Callable[[str, int, str | None], Awaitable[Page[V]]],
        convert: Callable[[Qualifier, V], V],
    ) -> Page[V]:
        """Keyset pages over ``sites`` in order: the cursor's site from its id on, the later sites from the start."""
        start = 0
        local_after: str | None = None
        if after is not None:
            site, local_after = self.ids.split(after)
            start = sites.index(site) if site in sites else len(sites)
        asked = sites[start:]
        answers = await each_site({s: call(s, limit, local_after if i == 0 else None) for i, s in enumerate(asked)})
        errors = [a for a in answers.values() if isinstance(a, SourceError)]
        if errors:
            raise errors[0]
        items: list[V] = []
        total, more = 0, False
        for site in asked:
            page = answers[site]
            assert not isinstance(page, SourceError)
            total += page.total
            more = more or page.has_more
            items.extend(convert(self.q[site], x) for x in page.items)
        return Page(items[:limit], total, more or len(items) > limit)
