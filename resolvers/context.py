"""What every resolver gets: the sources, this operation's loaders, who is asking, and the correlation id."""

from __future__ import annotations

from dataclasses import dataclass, field

from resolvers.config import ResolverConfig
from resolvers.loaders import Loaders
from sources.bundle import Sources
from sources.events import EventBus


@dataclass(slots=True)
class Context:
    sources: Sources
    correlation_id: str
    user: str = "anonymous"
    config: ResolverConfig = field(default_factory=ResolverConfig)
    bus: EventBus | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sources, self.config)

    def new_operation(self) -> None:
        """Fresh loaders for the next operation (one context serves every operation of a WebSocket)."""
        self.loaders = Loaders(self.sources, self.config)
