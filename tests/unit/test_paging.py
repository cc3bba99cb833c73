import pytest

from resolvers.errors import InputError
from resolvers.paging import decode_cursor, encode_cursor, slice_ids, slice_search
from sources.records import Page


async def _load(ids: list[str]) -> list[str | None]:
    return [None if i.startswith("x") else i for i in ids]


async def test_id_lists_page_in_the_order_asked_and_skip_unknown_ids() -> None:
    first = await slice_ids(["b", "x1", "a", "c", "a"], 2, None, _load)
    assert first.items == ["b", "a"]
    assert first.total == 3
    assert first.has_next
    assert not first.has_previous
    second = await slice_ids(["b", "x1", "a", "c"], 2, first.cursors[-1], _load)
    assert second.items == ["c"]
    assert not second.has_next
    assert second.has_previous


async def test_searches_continue_after_the_last_id() -> None:
    seen: list[str | None] = []

    async def search(limit: int, after: str | None) -> Page[str]:
        seen.append(after)
        return Page(["k", "l"][:limit], 10, True)

    page = await slice_search(2, None, search, lambda s: s)
    await slice_search(2, page.cursors[-1], search, lambda s: s)
    assert seen == [None, "l"]
    assert page.total == 10


@pytest.mark.parametrize("cursor", ["nonsense", encode_cursor("k", "L1"), encode_cursor("i", "x"), "", "%%%"])
async def test_foreign_or_broken_cursors_are_input_errors(cursor: str) -> None:
    with pytest.raises(InputError) as caught:
        await slice_ids(["a"], 1, cursor or "=", _load)
    assert caught.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize("first", [0, -1, 501])
async def test_page_size_is_bounded(first: int) -> None:
    with pytest.raises(InputError, match="first"):
        await slice_ids(["a"], first, None, _load)


async def test_at_most_500_ids() -> None:
    with pytest.raises(InputError, match="at most 500 ids"):
        await slice_ids([f"L{i}" for i in range(501)], 10, None, _load)


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor("k", "LOT-000001"), "k") == "LOT-000001"
