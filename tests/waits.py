"""Waiting in tests: on a condition, for a bounded time (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE = 30.0


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, deadline: float = DEADLINE, *, every: float = 0.02
) -> T:
    """Ask ``check`` until it returns something, for at most ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value is not None:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:g} s: {what}")
        await asyncio.sleep(every)
