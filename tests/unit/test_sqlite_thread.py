"""A SQLite connection's thread lets no cursor out: freed on the event loop's thread, a cursor resets its statement
while the connection's thread may be running it again (SQLITE_MISUSE at random, seen as a failed placeHold)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sources.sqlite_thread import SqliteThread


async def test_work_runs_on_one_thread_of_its_own() -> None:
    worker = SqliteThread("test")
    try:
        names = {await worker.run(lambda: threading.current_thread().name) for _ in range(20)}
    finally:
        worker.shutdown()
    assert len(names) == 1
    assert names != {threading.current_thread().name}


async def test_a_cursor_never_leaves_the_thread() -> None:
    worker = SqliteThread("test")
    conn = await worker.run(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    try:
        await worker.run(lambda: conn.execute("CREATE TABLE t (x)").close())
        with pytest.raises(TypeError, match="cursor"):
            await worker.run(conn.execute, "INSERT INTO t VALUES (1)")
        assert await worker.run(lambda: conn.execute("SELECT COUNT(*) FROM t").fetchone()[0]) == 1
    finally:
        await worker.run(conn.close)
        worker.shutdown()
