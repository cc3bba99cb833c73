"""Expected failures of a request, each with a stable code that reaches the client as ``extensions.code``."""

from __future__ import annotations


class InputError(Exception):
    """The request asked for something that cannot be done as asked: the client must change it."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
