"""Errors of the event bus.

BusError
 ├── InvalidCursor      the cursor is not one this bus hands out (a client error)
 ├── CursorExpired      events after the cursor were trimmed by retention: a resume would have a gap
 ├── SlowSubscriber     the subscriber did not keep up; its bounded queue overflowed
 └── BusUnavailable     the bus backend (Redis) cannot be reached
"""

from __future__ import annotations


class BusError(Exception):
    code = "BUS_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCursor(BusError):
    code = "INVALID_CURSOR"


class CursorExpired(BusError):
    code = "CURSOR_EXPIRED"


class SlowSubscriber(BusError):
    """Raised to a subscriber whose queue overflowed; ``last_cursor`` is where it can resume without a gap."""

    code = "SLOW_SUBSCRIBER"

    def __init__(self, last_cursor: str | None) -> None:
        resume = f"; resume with after: {last_cursor!r}" if last_cursor is not None else ""
        super().__init__(f"subscriber too slow: its event queue overflowed{resume}")
        self.last_cursor = last_cursor


class BusUnavailable(BusError):
    code = "BUS_UNAVAILABLE"
