"""The one thread that uses a SQLite connection, for the stores that keep one (event log, dead letters, store).

Nothing of ``sqlite3`` may leave that thread. A cursor freed on the event loop's thread resets its statement there,
while the connection's thread may be running the same cached statement again: SQLite then answers SQLITE_MISUSE
("bad parameter or other API misuse") at random. So a call whose result is a cursor is refused, deterministically.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class SqliteThread:
    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the connection's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, _confined, fn, args)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


def _confined(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    result = fn(*args)
    if isinstance(result, sqlite3.Cursor):
        result.close()
        raise TypeError(f"{fn!r} returned a sqlite3 cursor: it must not leave the connection's thread")
    return result
