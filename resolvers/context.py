"""What every resolver gets: the sources, this operation's loaders, who is asking, and the correlation id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.config import ResolverConfig
from resolvers.hold_policy import HoldPolicy
from resolvers.loaders import Loaders
from sources.bundle import Sources
from sources.deadletters import DeadLetterStore
from sources.ports import EventBus
from sources.store import Store


@dataclass(slots=True)
class Context:
    sources: Sources
    correlation_id: str
    user: str = "anonymous"
    """Who is asking: the token's subject (in development mode the X-User header, or "developer")."""
    roles: frozenset[str] = frozenset()
    authenticated: bool = False
    auth_error: str | None = None
    """Why the caller's token was refused, if it was: the authorization extension answers UNAUTHENTICATED."""
    config: ResolverConfig = field(default_factory=ResolverConfig)
    bus: EventBus | None = None
    store: Store | None = None
    """The durable store of idempotency records and pending actions (holds need it)."""
    holds: HoldPolicy = field(default_factory=HoldPolicy)
    dead_letters: DeadLetterStore | None = None
    connection_params: dict[str, Any] | None = None
    """A WebSocket's ``connection_init`` payload (strawberry sets it), for the connection's authentication."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sources, self.config)

    def new_operation(self) -> None:
        """Fresh loaders for the next operation (one context serves every operation of a WebSocket)."""
        self.loaders = Loaders(self.sources, self.config)
