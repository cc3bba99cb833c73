"""One execution per event for every subscriber with the same subscription: the fan-out's main saving.

graphql-core executes a subscription's selection set once per event *per subscriber*. For an event type whose
fields are plain attributes (no resolver reads the context: ``Shareable``), the result depends only on the event,
the operation and its variables. ``SharedResults`` remembers the last results by that key, so 1,000 subscribers
of ``holdEvents { cursor type payload }`` cost one execution per event, not 1,000. Anything else (another root
type, an asynchronous result, an error) is executed as usual.

The memo belongs to one schema: ``shared_results()`` makes an execution context class with a memo of its own, so
two schemas in one process (the gateway's, a test's) never see each other's results.

The same execution context renders a query's root field in one walk when the planner has brought everything below
it (``schema.render``): ``complete_value`` of a root field tries the compiled selection first and hands the value to
graphql-core's completion whenever the walk gives up.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, ClassVar

from graphql import ExecutionResult, OperationType
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.render import RenderCache, Renderer

MEMO_SIZE = 1024


class Shareable:
    """Marks a subscription payload type whose fields depend on nothing but the record it was built from: payloads
    built from the same record (one per subscriber) share one execution."""

    __slots__ = ()

    def shared_from(self) -> object:
        """The record this payload was built from (the payload itself unless a type says otherwise)."""
        return self


class ResultMemo:
    """The last ``MEMO_SIZE`` results, by operation, variables and record. The operation and record are kept with
    each result, so their ids cannot be reused while it is remembered."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._results: OrderedDict[tuple[int, str, int], tuple[Any, object, ExecutionResult]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, operation: Any, variables: str, record: object) -> ExecutionResult | None:
        with self._lock:
            found = self._results.get((id(operation), variables, id(record)))
        if found is not None and found[0] is operation and found[1] is record:
            return found[2]
        return None

    def put(self, operation: Any, variables: str, record: object, result: ExecutionResult) -> None:
        with self._lock:
            self._results[(id(operation), variables, id(record))] = (operation, record, result)
            while len(self._results) > self.size:
                self._results.popitem(last=False)


def _spent(*_: Any) -> Any:
    raise RuntimeError("the operation's execution has finished")


SPENT = GraphQLResolveInfoHelpers(gather=_spent, track=_spent)


class SharedResults(StrawberryGraphQLCoreExecutionContext):
    memo: ClassVar[ResultMemo]
    renders: ClassVar[RenderCache]

    def complete_value(
        self, return_type: Any, field_details_list: Any, info: Any, path: Any, result: Any, position_context: Any
    ) -> Any:
        """A root field's value, rendered in one walk when it can be (``schema.render``); else graphql-core's."""
        if path.prev is None and result is not None and self._may_render(field_details_list):
            nodes = [details.node for details in field_details_list]
            variables = self.variable_values.coerced
            complete = self.renders.completer(self.schema, self.fragment_definitions, variables, nodes, return_type)
            if complete is not None:
                try:
                    rendered = complete(Renderer(self, path, info), result)
                except Exception:  # Abandon, or a resolver's error: graphql-core places it in the answer
                    pass
                else:
                    self.context_value.loaders.rendered += 1
                    return rendered
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _may_render(self, field_details_list: Any) -> bool:
        config = getattr(self.context_value, "config", None)
        if config is None or not hasattr(self.context_value, "loaders") or not (config.planner and config.render):
            return False
        if self.operation.operation is not OperationType.QUERY:
            return False
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return False
        return all(d.defer_usage is None and d.fragment_variable_values is None for d in field_details_list)

    def build_response(self, data: Any) -> Any:
        """graphql-core's response; then the executor lets go of its ``async_helpers``, bound methods of itself
        (the info objects keep their own reference): without that cycle the executor and all it holds (variables,
        the context, the operation's loaders) are freed when the operation ends, not by the next collection."""
        response = super().build_response(data)
        self.async_helpers = SPENT
        return response

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if not isinstance(payload, Shareable) or self.operation.operation is not OperationType.SUBSCRIPTION:
            return super().execute_operation(serially)
        seen = getattr(self.context_value, "on_shared_event", None)
        if seen is not None:
            seen(payload.shared_from())
        try:
            variables = json.dumps(self.variable_values, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return super().execute_operation(serially)
        record = payload.shared_from()
        found = self.memo.get(self.operation, variables, record)
        if found is not None:
            return found
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            self.memo.put(self.operation, variables, record, result)
        return result


def shared_results() -> type[SharedResults]:
    """An execution context class with a memo of its own, for one schema."""

    class OneSchema(SharedResults):
        memo = ResultMemo()
        renders = RenderCache()

    return OneSchema
