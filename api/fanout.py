"""Shared subscription streams: one execution and one encoding per event for every subscriber of the same
subscription, written to each subscriber's socket.

Without this, every graphql-transport-ws subscription is its own strawberry stream: its own bus queue, its own
execution of the selection set, its own extension hooks and its own JSON encoding, per event. Here a subscription
to ``holdEvents`` or ``statusEvents`` joins a *channel*: one strawberry stream per distinct subscription — the
same document, operation name and variables, **and the same authorisation** (roles, sites, whether and how the
caller authenticated: what decides what a caller may read) — whose results are encoded once (the ``next``
payload) and handed to every member as text; a member only adds its own operation id around it.

Only live subscriptions share (``after`` null or absent): joining a running channel gives what a subscription of
its own would, the events from now on. One with a cursor replays the log at its own pace first, so it keeps its
own stream (sources.bus.fanout).

Slow subscribers and backpressure: each member has a bounded queue (``events.queue_size``, the bus's bound). The
channel never waits for a member: a member whose queue is full is marked overflowed, and is closed with 4008
(api/subscriptions.py) naming the cursor of the last event it was sent, exactly as a subscription of its own
would be; the other members are not held back. A channel that falls behind the bus gets the bus's
``SLOW_SUBSCRIBER`` result like any subscription, and each member is closed with 4008 and its own resume cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from resolvers.context import Context
from sources.bus.errors import SlowSubscriber

log = logging.getLogger(__name__)

SHARED_FIELDS = frozenset({"holdEvents", "statusEvents"})
"""Root fields whose stream is the bus's, filtered, with only plain fields below (schema/shared_results.py)."""


@dataclass(frozen=True, slots=True)
class ChannelKey:
    query: str
    operation_name: str | None
    variables: str
    roles: frozenset[str]
    sites: frozenset[str] | None
    authenticated: bool
    auth_error: str | None


@dataclass(slots=True)
class Frame:
    """One result of a channel: the result, its ``next`` payload encoded once (None when it is not a plain
    execution result), the cursor of the event it was executed for, and the resume cursor when it reports that
    the channel fell behind the bus."""

    result: ExecutionResult
    payload: str | None
    cursor: str | None
    slow: str | None


END = None
"""Put on a member's queue when its channel's stream ended."""


class Member:
    __slots__ = ("channel", "last", "overflowed", "queue")

    def __init__(self, channel: Channel, size: int, last: str | None) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[Frame | None] = asyncio.Queue(size)
        self.overflowed = False
        self.last = last
        """The cursor of the last event this member was sent (at first: where it joined)."""

    def offer(self, frame: Frame | None) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True


@lru_cache(maxsize=256)
def _shared_root(query: str, operation_name: str | None) -> FieldNode | None:
    """The root field of a subscription whose stream may be shared, else None."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    selections = operations[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
        return None
    field = selections[0]
    return field if field.name.value in SHARED_FIELDS else None


def _replays(field: FieldNode, variables: dict[str, object]) -> bool:
    """Whether the subscription gives ``after`` (replays the log from a cursor)."""
    for argument in field.arguments or ():
        if argument.name.value == "after":
            value = argument.value
            if isinstance(value, VariableNode):
                return variables.get(value.name.value) is not None
            return not isinstance(value, NullValueNode)
    return False


class SharedStreams:
    """The channels of one gateway, by ``ChannelKey``; counts what they did (for tests and the bench)."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.channels: dict[ChannelKey, Channel] = {}
        self.opened = 0
        self.results = 0
        """Results the channels' streams produced: one execution each."""
        self.encodings = 0

    def join(
        self, schema: Any, context: Context, query: str, variables: dict[str, object] | None,
        operation_name: str | None, encode: Callable[[object], str],
    ) -> Member | None:  # fmt: skip
        """A member of the channel for this subscription, or None when it is not one that may be shared."""
        field = _shared_root(query, operation_name)
        if field is None:
            return None
        try:
            encoded = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        if _replays(field, variables or {}):
            return None
        key = ChannelKey(query, operation_name, encoded, context.roles, context.sites, context.authenticated,
                         context.auth_error)  # fmt: skip
        channel = self.channels.get(key)
        if channel is None or channel.ending:
            channel = Channel(self, key, schema, context, (query, variables, operation_name), encode)
            channel.field_name = field.name.value
            self.channels[key] = channel
            self.opened += 1
        member = Member(channel, self.queue_size, channel.last_cursor)
        channel.members.add(member)
        channel.start()
        return member

    def leave(self, member: Member) -> None:
        channel = member.channel
        channel.members.discard(member)
        if not channel.members:
            channel.stop()

    def forget(self, channel: Channel) -> None:
        if self.channels.get(channel.key) is channel:
            del self.channels[channel.key]


class Channel:
    def __init__(
        self, streams: SharedStreams, key: ChannelKey, schema: Any, context: Context,
        operation: tuple[str, dict[str, object] | None, str | None], encode: Callable[[object], str],
    ) -> None:  # fmt: skip
        self.streams, self.key, self.schema, self.operation, self.encode = streams, key, schema, operation, encode
        self.context = dataclasses.replace(context, on_shared_event=self._executed_for)
        self.members: set[Member] = set()
        self.field_name = ""
        self.delivered = 0
        self.ending = False
        self.last_cursor: str | None = None
        self._executing: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lotgraph-shared-subscription")

    def stop(self) -> None:
        self.ending = True
        self.streams.forget(self)
        if self._task is not None:
            self._task.cancel()

    def _executed_for(self, record: object) -> None:
        cursor = getattr(record, "cursor", None)
        self._executing = cursor if isinstance(cursor, str) else None

    async def _run(self) -> None:
        query, variables, operation_name = self.operation
        try:
            stream = await self.schema.stream(
                query, variable_values=variables, context_value=self.context, operation_name=operation_name
            )
            async with contextlib.aclosing(stream):
                async for result in stream:
                    self._deliver(self._frame(result))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shared subscription stream failed")
        finally:
            self.ending = True
            self.streams.forget(self)
            for member in self.members:
                member.offer(END)

    def _frame(self, result: ExecutionResult) -> Frame:
        self.streams.results += 1
        cursor, self._executing = self._executing, None
        if isinstance(result, PreExecutionError) or not isinstance(result, ExecutionResult):
            self.ending = True
            return Frame(result, None, None, None)
        payload: dict[str, object] = {"data": result.data}
        slow = None
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
            slow = _slow(result.errors)
        if result.extensions:
            payload["extensions"] = result.extensions
        if result.data is None:
            self.ending = True  # an error that ends the stream: a later subscriber gets a channel of its own
        self.streams.encodings += 1
        return Frame(result, self.encode(payload), cursor, slow)

    def _deliver(self, frame: Frame) -> None:
        self.delivered += 1
        if frame.cursor is not None:
            self.last_cursor = frame.cursor
        for member in self.members:
            member.offer(frame)


def _slow(errors: list[GraphQLError]) -> str | None:
    for error in errors:
        original = error.original_error
        if isinstance(original, SlowSubscriber):
            return original.last_cursor or ""
        if (error.extensions or {}).get("code") == SlowSubscriber.code:
            return str((error.extensions or {}).get("resumeAfter") or "")
    return None
