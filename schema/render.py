"""Rendering a root field's answer in one walk, when the planner has brought every record it needs.

graphql-core executes each field of each list item on its own: a resolve info, a path entry, the field's
arguments, the awaitable checks, the completion of its type; the 50-shipment list is about 900 such fields per
request. Once the planner has fetched what the operation asks for, every field below a root field such as
``shipments`` is either a plain attribute or a resolver that reads its records synchronously: the answer is fixed,
and a plain walk over objects and a compiled selection gives the same result for a fraction of the cost.

``RenderCache.completer`` turns the selection below a root field (fragments, aliases, ``@skip``/``@include`` with
the operation's variables) into a tree of ``_Field`` once per document and variables' flags (cached like the plans).
It answers ``None`` when anything below is not plain: an abstract type, an asynchronous resolver or one with a field
extension (a permission class), any other directive. ``Renderer`` walks the root field's value along that tree:
each resolver is called with a resolve info and the field's arguments built once per walk (coerced by graphql-core's
``get_argument_values``, converted by strawberry's resolver), and values are completed as graphql-core does
(``coerce_output_value`` for leaves, lists, objects with their ``is_type_of``). Anything
unusual at run time — a field whose records the plan did not bring (an awaitable), an exception, a null in a
non-null field, a value of an unexpected shape — abandons the walk, and graphql-core executes the field as
before: the answer and its errors stay exactly graphql-core's. Resolvers here only read, so an abandoned walk has
no effect beyond the time it took.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_abstract_type,
)
from graphql.execution.values import get_argument_values
from graphql.language import BooleanValueNode, VariableNode
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from strawberry.types.field import StrawberryField

from schema.lean import BACKREF, is_sync_method

CACHE_SIZE = 512


class Abandon(Exception):
    """The walk met something graphql-core must handle itself."""


@dataclass(slots=True)
class _Field:
    response_name: str
    attribute: str | None
    """A plain field: the attribute of the parent object."""
    definition: GraphQLField | None
    """None for ``__typename``."""
    nodes: list[FieldNode]
    complete: Callable[[Renderer, Any], Any] = field(repr=False, default=lambda r, v: v)
    as_is: tuple[type, ...] = ()
    """Types of value the field's completion returns unchanged (a ``str`` in a ``String``): taken without it."""


@dataclass(slots=True)
class _Compiled:
    parent_type: GraphQLObjectType
    fields: list[_Field]


def _flags(variables: dict[str, Any]) -> tuple[tuple[str, bool], ...]:
    return tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, bool)))


def _included(node: FieldNode | FragmentSpreadNode | InlineFragmentNode, variables: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise Abandon(name)
        (argument,) = [a for a in directive.arguments or () if a.name.value == "if"]
        value = argument.value
        if isinstance(value, VariableNode):
            condition = variables.get(value.name.value)
        elif isinstance(value, BooleanValueNode):
            condition = value.value
        else:
            raise Abandon("if")
        if not isinstance(condition, bool):
            raise Abandon("if")
        if (name == "skip") == condition:
            return False
    return True


def _plain_attribute(definition: GraphQLField) -> str | None:
    """The attribute a field reads, when it is a plain strawberry field: no resolver, no field extension (a
    permission class is one), strawberry's own attribute resolver."""
    strawberry_field = (definition.extensions or {}).get(BACKREF)
    if not isinstance(strawberry_field, StrawberryField) or not strawberry_field.is_basic_field:
        return None
    if not getattr(definition.resolve, "_is_default", False):
        return None
    return strawberry_field.python_name


_AS_IS: dict[Any, tuple[type, ...]] = {GraphQLString: (str,), GraphQLID: (str,), GraphQLBoolean: (bool,)}
"""Standard scalars whose output coercion returns a value of these types as it is (graphql-core's
``serialize_string``, ``serialize_id``, ``serialize_boolean``)."""


def _as_is(return_type: GraphQLOutputType) -> tuple[type, ...]:
    if isinstance(return_type, GraphQLNonNull):
        return _AS_IS.get(return_type.of_type, ())
    found = _AS_IS.get(return_type, ())
    return (*found, type(None)) if found else ()


def _constant(value: str) -> Callable[[Renderer, Any], Any]:
    return lambda r, v: value


class Compiler:
    def __init__(self, schema: Any, fragments: dict[str, Any], variables: dict[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def _matches(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition.name.value == object_type.name:
            return True
        named = self.schema.get_type(condition.name.value)
        return bool(is_abstract_type(named) and self.schema.is_sub_type(named, object_type))

    def _collect(
        self, sets: Iterable[SelectionSetNode], object_type: GraphQLObjectType, grouped: dict[str, list[FieldNode]]
    ) -> None:
        visited: set[str] = set()
        for selection_set in sets:
            self._visit(selection_set, object_type, grouped, visited)

    def _visit(
        self,
        selection_set: SelectionSetNode,
        object_type: GraphQLObjectType,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for node in selection_set.selections:
            if not _included(node, self.variables):  # type: ignore[arg-type]
                continue
            if isinstance(node, FieldNode):
                grouped.setdefault((node.alias or node.name).value, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if self._matches(node.type_condition, object_type):
                    self._visit(node.selection_set, object_type, grouped, visited)
            elif isinstance(node, FragmentSpreadNode):
                if getattr(node, "arguments", None):
                    raise Abandon("fragment arguments")
                name = node.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None or not self._matches(fragment.type_condition, object_type):
                    continue
                visited.add(name)
                self._visit(fragment.selection_set, object_type, grouped, visited)
            else:
                raise Abandon("selection")

    def object(self, object_type: GraphQLObjectType, sets: list[SelectionSetNode]) -> _Compiled:
        grouped: dict[str, list[FieldNode]] = {}
        self._collect(sets, object_type, grouped)
        fields = []
        for response_name, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append(_Field(response_name, None, None, nodes, _constant(object_type.name)))
                continue
            definition = object_type.fields.get(name)
            if definition is None:
                raise Abandon(name)
            attribute = _plain_attribute(definition)
            if attribute is None and not is_sync_method(definition.resolve):
                raise Abandon(name)
            below = [n.selection_set for n in nodes if n.selection_set is not None]
            complete = self.completer(definition.type, below)
            fields.append(_Field(response_name, attribute, definition, nodes, complete, _as_is(definition.type)))
        return _Compiled(object_type, fields)

    def completer(
        self, return_type: GraphQLOutputType, below: list[SelectionSetNode]
    ) -> Callable[[Renderer, Any], Any]:
        if isinstance(return_type, GraphQLNonNull):
            inner = self.completer(return_type.of_type, below)

            def non_null(r: Renderer, value: Any) -> Any:
                completed = inner(r, value)
                if completed is None:
                    raise Abandon("null")
                return completed

            return non_null
        if isinstance(return_type, GraphQLList):
            item = self.completer(return_type.of_type, below)

            def many(r: Renderer, value: Any) -> Any:
                if value is None:
                    return None
                if not isinstance(value, list | tuple):
                    raise Abandon("list")
                return [item(r, v) for v in value]

            return many
        if isinstance(return_type, GraphQLEnumType):
            return _enum_leaf(return_type.coerce_output_value)
        if isinstance(return_type, GraphQLLeafType):
            return _NUMBER_LEAVES.get(return_type) or _leaf(return_type.coerce_output_value)
        if isinstance(return_type, GraphQLObjectType):
            compiled = self.object(return_type, below)
            return lambda r, value: None if value is None else r.object(compiled, value)
        raise Abandon(str(return_type))


def _leaf(coerce: Callable[[Any], Any]) -> Callable[[Renderer, Any], Any]:
    def leaf(r: Renderer, value: Any) -> Any:
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Abandon("leaf")
        return coerced

    return leaf


def _int_leaf(r: Renderer, value: Any) -> Any:
    """``Int``: an ``int`` of 32 bits is its own output (graphql-core's ``serialize_int``); anything else goes the
    general way."""
    if value.__class__ is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
        return value
    return _INT(r, value)


def _float_leaf(r: Renderer, value: Any) -> Any:
    """``Float``: a finite ``float`` is its own output (``serialize_float``; ``x - x`` is 0.0 for finite ``x`` only,
    NaN for NaN and the infinities); anything else goes the general way."""
    if value.__class__ is float and value - value == 0.0:
        return value
    return _FLOAT(r, value)


_INT, _FLOAT = _leaf(GraphQLInt.coerce_output_value), _leaf(GraphQLFloat.coerce_output_value)
_NUMBER_LEAVES: dict[Any, Callable[[Renderer, Any], Any]] = {GraphQLInt: _int_leaf, GraphQLFloat: _float_leaf}
"""Completions of the standard number scalars: a trace's 30,000 depths and 44,000 quantities took a quarter of its
rendering through graphql-core's general coercion."""


def _enum_leaf(coerce: Callable[[Any], Any]) -> Callable[[Renderer, Any], Any]:
    """An enum's completion, remembered per member of a Python ``Enum`` (a member always gives the same name)."""
    seen: dict[Enum, Any] = {}

    def leaf(r: Renderer, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Enum):
            found = seen.get(value)
            if found is not None:
                return found
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Abandon("leaf")
        if isinstance(value, Enum) and len(seen) < 1024:
            seen[value] = coerced
        return coerced

    return leaf


class Renderer:
    """One walk of a root field's value. A resolve info is built once per compiled field, not per object, with the
    root field's path: resolvers reached here read only the context, the parent type and the field's name."""

    def __init__(self, execution: Any, path: Any, root_info: Any) -> None:
        self._execution = execution
        self._path = path
        self._root_info = root_info
        self._infos: dict[int, tuple[Any, dict[str, Any]]] = {}

    def _call(self, f: _Field, parent_type: GraphQLObjectType) -> tuple[Any, dict[str, Any]]:
        """The resolve info and the arguments of a field, the same for every object of one walk."""
        found = self._infos.get(id(f))
        if found is None:
            definition = f.definition
            assert definition is not None
            info = self._execution.build_resolve_info(definition, f.nodes, parent_type, self._path)
            node, variables = f.nodes[0], self._execution.variable_values
            arguments = get_argument_values(definition, node, variables) if definition.args or node.arguments else {}
            found = self._infos[id(f)] = (info, arguments)
        return found

    def object(self, compiled: _Compiled, value: Any) -> dict[str, Any]:
        if isinstance(value, Exception):
            raise Abandon("error")
        is_type_of = compiled.parent_type.is_type_of
        if is_type_of is not None and not is_type_of(value, self._root_info):
            raise Abandon("type")
        result: dict[str, Any] = {}
        for f in compiled.fields:
            if f.attribute is not None:
                raw = getattr(value, f.attribute)
            elif f.definition is None:  # __typename
                raw = None
            else:
                info, arguments = self._call(f, compiled.parent_type)
                raw = f.definition.resolve(value, info, **arguments)  # type: ignore[misc]
                if hasattr(raw, "__await__"):
                    if hasattr(raw, "close"):
                        raw.close()
                    raise Abandon("awaitable")
            if raw.__class__ in f.as_is:
                result[f.response_name] = raw
            else:
                result[f.response_name] = f.complete(self, raw)
        return result


class RenderCache:
    """Compiled selections by (root field nodes, the operation's boolean variables); ``None`` for a selection that
    cannot be rendered. The nodes are kept with each entry, so their ids cannot be reused while it is remembered."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[list[FieldNode], Callable[..., Any] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def completer(
        self, schema: Any, fragments: dict[str, Any], variables: dict[str, Any], nodes: list[FieldNode], type_: Any
    ) -> Callable[[Renderer, Any], Any] | None:
        key = (tuple(id(n) for n in nodes), _flags(variables))
        with self._lock:
            found = self._entries.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], nodes, strict=True)):
            return found[1]
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        try:
            built: Callable[[Renderer, Any], Any] | None = Compiler(schema, fragments, variables).completer(type_, sets)
        except Exception:  # Abandon, or a document this compiler does not know: graphql-core executes it
            built = None
        with self._lock:
            self._entries[key] = (list(nodes), built)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return built
