"""One execution per event for every subscriber with the same subscription: the fan-out's main saving.

graphql-core executes a subscription's selection set once per event *per subscriber*. For an event type whose
fields are plain attributes (no resolver reads the context: ``Shareable``), the result depends only on the event,
the operation and its variables. ``SharedResults`` remembers the last results by that key, so 1,000 subscribers
of ``holdEvents { cursor type payload }`` cost one execution per event, not 1,000. Anything else (another root
type, an asynchronous result, an error) is executed as usual.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

MEMO_SIZE = 1024


class Shareable:
    """Marks a subscription payload type whose fields depend on nothing but the payload itself."""

    __slots__ = ()


_memo: OrderedDict[tuple[int, str, int], tuple[Any, Any, ExecutionResult]] = OrderedDict()
_lock = threading.Lock()


class SharedResults(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if not isinstance(payload, Shareable) or self.operation.operation is not OperationType.SUBSCRIPTION:
            return super().execute_operation(serially)
        try:
            variables = json.dumps(self.variable_values, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return super().execute_operation(serially)
        key = (id(self.operation), variables, id(payload))
        with _lock:
            found = _memo.get(key)
        if found is not None and found[0] is self.operation and found[1] is payload:
            return found[2]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            with _lock:  # the operation and payload are kept, so their ids cannot be reused while memoized
                _memo[key] = (self.operation, payload, result)
                while len(_memo) > MEMO_SIZE:
                    _memo.popitem(last=False)
        return result
