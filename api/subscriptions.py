"""Subscriptions over graphql-transport-ws and SSE: what lotgraph adds to strawberry's transports.

- Every result a subscription streams gets the same error policy as a query (``StreamErrors``): stable
  ``extensions.code``; event-bus errors keep theirs (``INVALID_CURSOR``, ``CURSOR_EXPIRED``, ``SLOW_SUBSCRIBER``,
  ``BUS_UNAVAILABLE``).
- A subscriber too slow for its bounded queue is disconnected over WebSocket with close code 4008
  (``SLOW_SUBSCRIBER_CLOSE``) and a reason naming the cursor to resume from; over SSE its stream ends with that
  error. Either way it resubscribes with ``after`` and loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from api.errors import classify
from resolvers.context import Context
from sources.bus.errors import BusError, SlowSubscriber

SLOW_SUBSCRIBER_CLOSE = 4008
REASON_BYTES = 123  # the most a WebSocket close reason may hold


def _classified(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, BusError):
        extensions: dict[str, Any] = {"code": original.code}
        if isinstance(original, SlowSubscriber):
            extensions["resumeAfter"] = original.last_cursor
        return GraphQLError(original.message, error.nodes, error.source, error.positions, error.path, None, extensions)
    return classify(error)


class StreamErrors(SchemaExtension):
    """The error policy for each result of a stream (subscriptions, and operations sent over a WebSocket)."""

    def on_stream_result(self, result: Any) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [_classified(error) for error in errors]
        yield


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing the connection of a subscriber that fell behind instead of sending the error."""

    closed = False

    async def send_message(self, message: Message) -> None:
        if self.closed:
            return
        if message["type"] == "next":
            slow = _slow_subscriber(message.get("payload", {}))
            if slow is not None:
                self.closed = True
                reason = f"slow subscriber; resume with after={slow}" if slow else "slow subscriber"
                await self.websocket.close(code=SLOW_SUBSCRIBER_CLOSE, reason=reason[:REASON_BYTES])
                return
        await super().send_message(message)


def _slow_subscriber(payload: Any) -> str | None:
    """The resume cursor ("" when none) if this result reports a slow subscriber, else None."""
    for error in payload.get("errors") or ():
        extensions = error.get("extensions") or {}
        if extensions.get("code") == SlowSubscriber.code:
            return str(extensions.get("resumeAfter") or "")
    return None
