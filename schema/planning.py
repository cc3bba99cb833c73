"""Planning an operation's upstream fetches before graphql-core executes it, and reading fields from the plan.

A root field that returns records (``shipment``, ``shipments``, ``lot`` …) calls ``prefetch``: the selection below
it (fragments, aliases and ``@skip``/``@include`` with the operation's variables resolved) becomes a plain
``Selection`` tree, cached per document, and ``resolvers.plan.prefetch`` fetches what it needs in waves. The
fields listed in ``resolvers.plan.FIELDS`` answer through ``planned``: synchronously when the waves brought their
data, otherwise by awaiting the loader as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql import (
    GraphQLResolveInfo as RawInfo,
)
from graphql.execution.values import VariableValues
from graphql.language import BooleanValueNode

from resolvers import plan
from schema.info import Info

T = TypeVar("T")
Tree = plan.Selection
Raw: TypeAlias = RawInfo[Any]
Maybe: TypeAlias = T | Awaitable[T]
"""What a planned field resolver answers: the value, or an awaitable of it when the plan did not cover it."""

PLAN_CACHE_SIZE = 512


def _variables(info: Raw) -> dict[str, Any]:
    """The operation's coerced variables (graphql-core 3.3 wraps them; strawberry may hand a plain dict)."""
    values: Any = info.variable_values
    return values.coerced if isinstance(values, VariableValues) else values


def _included(node: FieldNode | FragmentSpreadNode | InlineFragmentNode, variables: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        (argument,) = [a for a in directive.arguments or () if a.name.value == "if"]
        value = argument.value
        if isinstance(value, VariableNode):
            condition = bool(variables.get(value.name.value))
        else:
            condition = isinstance(value, BooleanValueNode) and value.value
        if (name == "skip") == condition:
            return False
    return True


def _fields(info: Raw, sets: Iterable[SelectionSetNode], type_name: str) -> Iterable[FieldNode]:
    variables = _variables(info)
    for selection_set in sets:
        for node in selection_set.selections:
            if not isinstance(node, FieldNode | InlineFragmentNode | FragmentSpreadNode):
                continue
            if not _included(node, variables):
                continue
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                if condition is None or condition.name.value == type_name:
                    yield from _fields(info, [node.selection_set], type_name)
            else:
                fragment = info.fragments[node.name.value]
                if fragment.type_condition.name.value == type_name:
                    yield from _fields(info, [fragment.selection_set], type_name)


def _selection(info: Raw, object_type: GraphQLObjectType, sets: list[SelectionSetNode]) -> Tree:
    grouped: dict[str, list[SelectionSetNode]] = {}
    for node in _fields(info, sets, object_type.name):
        below = grouped.setdefault(node.name.value, [])
        if node.selection_set is not None:
            below.append(node.selection_set)
    tree: dict[str, tuple[str, plan.Selection]] = {}
    for name, below in grouped.items():
        definition = object_type.fields.get(name)
        if definition is None:  # __typename
            continue
        named = get_named_type(definition.type)
        child = _selection(info, named, below) if isinstance(named, GraphQLObjectType) and below else {}
        tree[name] = (named.name, child)
    return tree


class PlanCache:
    """Selections by (root field nodes, path, the operation's boolean variables): they depend on the document and
    on what ``@skip``/``@include`` read, not on the data. The nodes are kept with each entry, so their ids cannot be
    reused while it is remembered (the parser cache hands out the same nodes for the same document)."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[list[FieldNode], str, plan.Selection]] = OrderedDict()
        self._lock = threading.Lock()

    def selection(self, info: Raw, path: Sequence[str]) -> tuple[str, plan.Selection]:
        flags = tuple(sorted((k, v) for k, v in _variables(info).items() if isinstance(v, bool)))
        key = (tuple(id(node) for node in info.field_nodes), tuple(path), flags)
        with self._lock:
            found = self._entries.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], info.field_nodes, strict=True)):
            return found[1], found[2]
        type_name, tree = self._build(info, path)
        with self._lock:
            self._entries[key] = (list(info.field_nodes), type_name, tree)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return type_name, tree

    @staticmethod
    def _build(info: Raw, path: Sequence[str]) -> tuple[str, plan.Selection]:
        named = get_named_type(info.return_type)
        sets = [node.selection_set for node in info.field_nodes if node.selection_set is not None]
        for step in path:
            assert isinstance(named, GraphQLObjectType)
            nodes = [n for n in _fields(info, sets, named.name) if n.name.value == step]
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            named = get_named_type(named.fields[step].type)
        assert isinstance(named, GraphQLObjectType)
        return named.name, _selection(info, named, sets)


PLANS = PlanCache()


async def prefetch(info: Info, records: Sequence[Any], path: Sequence[str] = ()) -> None:
    """Fetch, in waves, what the operation asks below ``records`` (found at ``path`` below this root field)."""
    ctx = info.context
    if not ctx.config.planner or not records:
        return
    type_name, selection = PLANS.selection(info._raw_info, path)
    await plan.prefetch(ctx, type_name, records, selection)


def planned(info: Info, record: Any, shape: Callable[[list[Any]], T]) -> Maybe[T]:
    """This field's answer from the operation's store when the plan fetched it; otherwise its loader, awaited."""
    ctx, raw = info.context, info._raw_info
    found = plan.read(ctx, raw.parent_type.name, raw.field_name, record)
    if found is not plan.MISSING:
        return shape(found)
    return _later(info, record, shape)


async def _later(info: Info, record: Any, shape: Callable[[list[Any]], T]) -> T:
    raw = info._raw_info
    return shape(await plan.load(info.context, raw.parent_type.name, raw.field_name, record))
