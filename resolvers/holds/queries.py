"""The hold queries: holds (from the QMS), pending actions and the hold history (from the durable store), and the
history as CSV."""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.context import Context
from resolvers.errors import InputError
from resolvers.holds.command import store_of
from resolvers.holds.history import HistoryEntry, entry_of_row, to_csv
from resolvers.holds.model import ActionStatus, PendingAction, action_of_row, utc_now
from resolvers.holds.requests import MAX_ID
from resolvers.lots import lot_id_of
from resolvers.paging import Slice, check_first, decode_cursor, encode_cursor, slice_search
from sources.records import Hold, HoldStatus, Page
from sources.store import ActionQuery

MAX_CSV_ENTRIES = 10_000


def _check_id(name: str, value: str | None) -> None:
    if value is not None and (not value.strip() or len(value) > MAX_ID):
        raise InputError(f"{name}: must be non-empty and at most {MAX_ID} characters")


async def hold(ctx: Context, hold_id: str) -> Hold | None:
    hold_id = hold_id.strip()
    if not hold_id or len(hold_id) > MAX_ID or "," in hold_id:
        raise InputError(f"id: not a hold id: {hold_id[:MAX_ID]!r}")
    return (await ctx.sources.qms.holds([hold_id])).get(hold_id)


async def holds(
    ctx: Context,
    *,
    status: HoldStatus | None,
    lot_id: str | None,
    reason_code: str | None,
    first: int,
    after: str | None,
) -> Slice[Hold]:
    _check_id("lotId", lot_id)
    _check_id("reasonCode", reason_code)
    lot_id = lot_id_of(lot_id) if lot_id is not None else None

    async def search(limit: int, after_id: str | None) -> Page[Hold]:
        return await ctx.sources.qms.search_holds(
            status=status, lot_id=lot_id, reason_code=reason_code, limit=limit, after=after_id
        )

    return await slice_search(first, after, search, lambda h: h.id)


async def pending_actions(ctx: Context, statuses: Sequence[ActionStatus] | None, first: int) -> list[PendingAction]:
    check_first(first)
    query = ActionQuery(statuses=None if not statuses else {s.value for s in statuses}, limit=first)
    return [action_of_row(row) for row in await store_of(ctx).actions(query)]


async def pending_actions_page(
    ctx: Context,
    *,
    statuses: Sequence[ActionStatus] | None,
    lot_id: str | None,
    older_than_seconds: float | None,
    first: int,
    after: str | None,
) -> Slice[PendingAction]:
    """Newest first, keyset paged by (creation time, id)."""
    check_first(first)
    _check_id("lotId", lot_id)
    if older_than_seconds is not None and not 0 <= older_than_seconds <= 10 * 365 * 86400:
        raise InputError("olderThanSeconds: must be between 0 and ten years")
    cursor = None
    if after is not None:
        created, _, action_id = decode_cursor(after, "pa").partition("|")
        try:
            cursor = (float(created), action_id)
        except ValueError:
            raise InputError("after: not a cursor of this list", code="INVALID_CURSOR") from None
    query = ActionQuery(
        statuses=None if not statuses else {s.value for s in statuses},
        lot_id=lot_id,
        created_before=None if older_than_seconds is None else utc_now().timestamp() - older_than_seconds,
        after=cursor,
        limit=first + 1,
    )
    store = store_of(ctx)
    rows, total = await store.actions(query), await store.count_actions(query)
    window = rows[:first]
    return Slice(
        items=[action_of_row(row) for row in window],
        cursors=[encode_cursor("pa", f"{row.created_at!r}|{row.id}") for row in window],
        total=total,
        has_next=len(rows) > first,
        has_previous=cursor is not None,
    )


def _subject(lot_id: str | None, hold_id: str | None) -> None:
    if (lot_id is None) == (hold_id is None):
        raise InputError("give either lotId or holdId")
    _check_id("lotId", lot_id)
    _check_id("holdId", hold_id)


async def history(
    ctx: Context, *, lot_id: str | None, hold_id: str | None, first: int, after: str | None
) -> Slice[HistoryEntry]:
    """The hold history of a lot or of a hold, oldest first."""
    check_first(first)
    _subject(lot_id, hold_id)
    start = decode_cursor(after, "h") if after else "0"
    if not start.isdigit():
        raise InputError("after: not a cursor of this list", code="INVALID_CURSOR")
    store = store_of(ctx)
    rows = await store.history(lot_id=lot_id, hold_id=hold_id, after=int(start), limit=first + 1)
    total = await store.count_history(lot_id=lot_id, hold_id=hold_id)
    window = [entry_of_row(row) for row in rows[:first]]
    return Slice(
        items=window,
        cursors=[encode_cursor("h", str(e.seq)) for e in window],
        total=total,
        has_next=len(rows) > first,
        has_previous=int(start) > 0,
    )


async def history_csv(ctx: Context, *, lot_id: str | None, hold_id: str | None) -> str:
    """The whole history of a lot or of a hold (at most ``MAX_CSV_ENTRIES`` entries) as CSV."""
    _subject(lot_id, hold_id)
    rows = await store_of(ctx).history(lot_id=lot_id, hold_id=hold_id, after=None, limit=MAX_CSV_ENTRIES)
    return to_csv(entry_of_row(row) for row in rows)
