"""Subscriptions over graphql-transport-ws and SSE: what lotgraph adds to strawberry's transports.

- Every result a subscription streams gets the same error policy as a query (``StreamErrors``): stable
  ``extensions.code``; event-bus errors keep theirs (``INVALID_CURSOR``, ``CURSOR_EXPIRED``, ``SLOW_SUBSCRIBER``,
  ``BUS_UNAVAILABLE``).
- A subscriber too slow for its bounded queue is disconnected over WebSocket with close code 4008
  (``SLOW_SUBSCRIBER_CLOSE``) and a reason naming the cursor to resume from; over SSE its stream ends with that
  error. Either way it resubscribes with ``after`` and loses nothing.
- ``holdEvents`` and ``statusEvents`` over graphql-transport-ws share one stream, one execution and one encoding
  per event among the subscribers of the same subscription and authorisation (api/fanout.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.extensions import SchemaExtension
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from api.errors import classify
from api.fanout import END, Member, SharedStreams
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

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """A subscription that may share its stream joins its channel (api/fanout.py); anything else runs alone."""
        streams: SharedStreams | None = getattr(self.view, "shared_streams", None)
        member = None
        if streams is not None and isinstance(self.websocket, ASGIWebSocketAdapter):
            member = streams.join(
                self.schema, self.context, operation.query, operation.variables, operation.operation_name,
                self.view.encode_json,  # type: ignore[arg-type]
            )  # fmt: skip
        if member is None:
            await super().run_operation(operation)
            return
        metrics = self.view.services.metrics  # type: ignore[attr-defined]
        metrics.active_subscriptions.inc()
        try:
            await self._relay(operation, member, metrics.events_out.labels(member.channel.field_name))
        except (_OperationStreamClosed, WebSocketDisconnected):
            return
        finally:
            metrics.active_subscriptions.dec()
            streams.leave(member)  # type: ignore[union-attr]

    async def _relay(self, operation: Operation[Context, None], member: Member, events_out: Any) -> None:
        assert isinstance(self.websocket, ASGIWebSocketAdapter)
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        while True:
            if member.overflowed:
                await self._close_slow(member.last or "")
                return
            frame = await member.queue.get()
            if frame is END:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
                return
            if frame.payload is None:  # not an execution result (pre-execution errors): strawberry's own handling
                await self._send_result_stream(operation, _once(frame.result))
                return
            if frame.slow is not None:
                await self._close_slow(member.last or frame.slow)
                return
            if self.closed or operation.completed:
                return
            try:
                await self.websocket.ws.send_text(prefix + frame.payload + "}")
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc
            if frame.cursor is not None:
                member.last = frame.cursor
            if frame.result.data is not None:
                events_out.inc()

    async def _close_slow(self, resume: str) -> None:
        if self.closed:
            return
        self.closed = True
        reason = f"slow subscriber; resume with after={resume}" if resume else "slow subscriber"
        await self.websocket.close(code=SLOW_SUBSCRIBER_CLOSE, reason=reason[:REASON_BYTES])


async def _once(result: Any) -> Any:
    yield result


def _slow_subscriber(payload: Any) -> str | None:
    """The resume cursor ("" when none) if this result reports a slow subscriber, else None."""
    for error in payload.get("errors") or ():
        extensions = error.get("extensions") or {}
        if extensions.get("code") == SlowSubscriber.code:
            return str(extensions.get("resumeAfter") or "")
    return None
