"""Cursor pagination over either a list of ids or a source search, as one ``Slice`` for connections.

Cursors are opaque to clients: base64 of ``k:<id>`` for searches (keyset: the source continues after that id) and
of ``i:<offset>`` for id lists.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import InputError
from sources.records import Page

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 500
MAX_IDS = 500


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    items: list[T]
    cursors: list[str]
    total: int
    has_next: bool
    has_previous: bool


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise InputError("after: not a cursor of this list", code="INVALID_CURSOR")
    return value


def _offset(value: str) -> int:
    if not value.isdigit():
        raise InputError("after: not a cursor of this list", code="INVALID_CURSOR")
    return int(value)


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InputError(f"first: must be between 1 and {MAX_PAGE}")
    return first


def check_ids(ids: Sequence[str], name: str = "ids") -> list[str]:
    if len(ids) > MAX_IDS:
        raise InputError(f"{name}: at most {MAX_IDS} ids per request, got {len(ids)}")
    return list(dict.fromkeys(ids))


async def slice_ids(
    ids: Sequence[str], first: int, after: str | None, load_many: Callable[[list[str]], Awaitable[list[T | None]]]
) -> Slice[T]:
    """Page through the records of ``ids`` that exist, in the order asked."""
    check_first(first)
    wanted = check_ids(ids)
    start = _offset(decode_cursor(after, "i")) + 1 if after else 0
    found = [item for item in await load_many(wanted) if item is not None]
    window = found[start : start + first]
    return Slice(
        items=window,
        cursors=[encode_cursor("i", str(start + n)) for n in range(len(window))],
        total=len(found),
        has_next=start + first < len(found),
        has_previous=start > 0,
    )


async def slice_search(
    first: int,
    after: str | None,
    search: Callable[[int, str | None], Awaitable[Page[T]]],
    key: Callable[[T], str],
) -> Slice[T]:
    """Page through a source search, keyset by id."""
    check_first(first)
    after_id = decode_cursor(after, "k") if after else None
    page = await search(first, after_id)
    return Slice(
        items=page.items,
        cursors=[encode_cursor("k", key(item)) for item in page.items],
        total=page.total,
        has_next=page.has_more,
        has_previous=after_id is not None,
    )


def ids_or_filter(ids: Sequence[str] | None, has_filter: bool) -> None:
    if ids is not None and has_filter:
        raise InputError("give either ids or a filter, not both")
