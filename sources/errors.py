"""The one error tree of the source layer.

    SourceError                 anything that went wrong talking to an upstream system
    ├── SourceUnavailable       it could not answer: connect error, timeout, 5xx, breaker open
    ├── SourceProtocolError     it answered something we cannot use: invalid JSON, wrong shape, odd status
    ├── NotFound                a single read or command named an id the system does not know
    ├── NotSupported            this kind of system cannot answer this kind of question (no such data in it)
    └── SourceRejected          a command was refused for a business reason (4xx with an error code)

Every error names the source (``erp``, ``qms``, ``mes``, ``wms``), and with several sites the site (docs/sites.md).
Messages are safe to show to clients: they never carry URLs, hosts or upstream bodies; the full detail goes to the
log through ``__cause__``.
"""

from __future__ import annotations


class SourceError(Exception):
    """Base class: something went wrong with one upstream source."""

    code = "SOURCE_ERROR"

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.site: str | None = None
        """With several sites (docs/sites.md): the site whose system failed."""
        self.answered: dict[str, object] | None = None
        """A batched read over several sites that failed at some: what the other sites answered, by id."""
        self.failed_ids: frozenset[str] = frozenset()
        """The ids of that read whose site failed (the others are in ``answered``)."""


class SourceUnavailable(SourceError):
    code = "SOURCE_UNAVAILABLE"


class SourceProtocolError(SourceError):
    code = "SOURCE_PROTOCOL_ERROR"


class NotFound(SourceError):
    code = "NOT_FOUND"


class NotSupported(SourceError):
    """The adapter's kind of system holds no such data (containment in Tryton, say): asking again will not help."""

    code = "NOT_SUPPORTED_BY_SOURCE"


class SourceRejected(SourceError):
    """A command refused by the system of record, with the system's own error code."""

    code = "SOURCE_REJECTED"

    def __init__(self, source: str, message: str, *, upstream_code: str, status: int) -> None:
        super().__init__(source, message)
        self.upstream_code = upstream_code
        self.status = status
