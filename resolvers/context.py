"""What every resolver gets: the running services, this operation's loaders, who is asking, and the correlation id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from resolvers.config import ResolverConfig
from resolvers.holds.policy import HoldPolicy
from resolvers.loaders import Loaders
from sources.bundle import Sources
from sources.deadletters import DeadLetterStore
from sources.ports import EventBus
from sources.store import Store


class Services(Protocol):
    """The part of the gateway's services (built by the composition root, ``api.services``) resolvers use."""

    @property
    def sources(self) -> Sources: ...
    @property
    def config(self) -> ResolverConfig: ...
    @property
    def holds(self) -> HoldPolicy: ...
    @property
    def bus(self) -> EventBus | None: ...
    @property
    def store(self) -> Store | None:
        """The durable store of idempotency records and pending actions (holds need it)."""

    @property
    def dead_letters(self) -> DeadLetterStore | None: ...


@dataclass(frozen=True, slots=True)
class ReadingServices:
    """Services for a process that only reads the systems (a command, a test): no bus, store or dead letters."""

    sources: Sources
    config: ResolverConfig = field(default_factory=ResolverConfig)
    holds: HoldPolicy = field(default_factory=HoldPolicy)
    bus: EventBus | None = None
    store: Store | None = None
    dead_letters: DeadLetterStore | None = None


@dataclass(slots=True)
class Context:
    services: Services
    correlation_id: str
    user: str = "anonymous"
    """Who is asking: the token's subject (in development mode the X-User header, or "developer")."""
    roles: frozenset[str] = frozenset()
    sites: frozenset[str] | None = None
    """The sites the caller's roles are scoped to (the token's sites claim); None: every site (docs/sites.md)."""
    authenticated: bool = False
    auth_error: str | None = None
    """Why the caller's token was refused, if it was: the authorization extension answers UNAUTHENTICATED."""
    connection_params: dict[str, Any] | None = None
    """A WebSocket's ``connection_init`` payload (strawberry sets it), for the connection's authentication."""
    on_shared_event: Callable[[object], None] | None = None
    """Told the record each result of a shared subscription stream is executed for (api/fanout.py)."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.new_operation()

    def new_operation(self) -> None:
        """Fresh loaders for the next operation (one context serves every operation of a WebSocket)."""
        self.loaders = Loaders(self.services.sources, self.services.config)

    @property
    def sources(self) -> Sources:
        return self.services.sources

    @property
    def config(self) -> ResolverConfig:
        return self.services.config

    @property
    def holds(self) -> HoldPolicy:
        return self.services.holds

    @property
    def bus(self) -> EventBus | None:
        return self.services.bus

    @property
    def store(self) -> Store | None:
        return self.services.store

    @property
    def dead_letters(self) -> DeadLetterStore | None:
        return self.services.dead_letters
