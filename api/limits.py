"""Bounds on what one operation may ask: depth, aliases and tokens (strawberry's validators), and a cost limit.

The cost of an operation is estimated before it runs, from the document, the schema and the variables: every
field costs 1, multiplied by the sizes of the lists above it. A list's size is what the query asks for where it
can say (``first``, the length of an id list, ``maxDepth`` of a trace) and ``LIST_GUESS`` otherwise. An operation
over the limit is refused with QUERY_TOO_COSTLY and its estimated cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

LIST_GUESS = 3
"""Items assumed in a list whose size the query does not state (lines of a shipment, lots of a line, holds…)."""
TRACE_NODES_PER_LEVEL = 50
"""Lots assumed per level of a genealogy trace when costing ``maxDepth``."""
ID_LISTS = ("ids", "shipmentIds", "lotIds", "orderIds")


def cost_of(schema: GraphQLSchema, document: Any, operation_name: str | None, variables: dict[str, Any]) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _cost(schema, root, operation.selection_set, fragments, variables, 1)


def _cost(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    multiplier: int,
) -> int:
    total = 0
    for field, owner in _fields(schema, parent, selections, fragments):
        definition = owner.fields.get(field.name.value)
        if definition is None:
            continue
        total += multiplier
        named = get_named_type(definition.type)
        if field.selection_set is not None and isinstance(named, GraphQLObjectType):
            factor = _list_size(field, definition.type, variables)
            total += _cost(schema, named, field.selection_set, fragments, variables, multiplier * factor)
    return total


def _fields(
    schema: GraphQLSchema, parent: GraphQLObjectType, selections: SelectionSetNode, fragments: dict[str, Any]
) -> Iterator[tuple[FieldNode, GraphQLObjectType]]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection, parent
        else:
            if isinstance(selection, InlineFragmentNode):
                fragment: Any = selection
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    continue
            else:
                continue
            condition = getattr(fragment, "type_condition", None)
            target = schema.get_type(condition.name.value) if condition is not None else parent
            if isinstance(target, GraphQLObjectType):
                yield from _fields(schema, target, fragment.selection_set, fragments)


def _list_size(field: FieldNode, field_type: Any, variables: dict[str, Any]) -> int:
    args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()}
    depth, first = args.get("maxDepth"), args.get("first")
    if isinstance(depth, int):
        return max(1, depth) * TRACE_NODES_PER_LEVEL
    if isinstance(first, int):
        return max(1, first)
    for name in ID_LISTS:
        if isinstance(args.get(name), list):
            return max(1, len(args[name]))
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if isinstance(inner, GraphQLList) or get_named_type(field_type).name.endswith("Connection"):
        return LIST_GUESS
    return 1


class CostLimit(SchemaExtension):
    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            cost = cost_of(
                context.schema._schema, context.graphql_document, context.operation_name, context.variables or {}
            )
            if cost > self.max_cost:
                raise GraphQLError(
                    f"The operation is too costly: estimated {cost}, at most {self.max_cost}. Ask for fewer items.",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": self.max_cost},
                )
        yield


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int
) -> list[Callable[[], SchemaExtension]]:
    """Factories (never shared instances: they would be shared by concurrent operations).

    The depth and alias rules are built once: each limiter makes a new rule class when constructed, and strawberry's
    ValidationCache keys on the rule classes, so rules made per request would miss the cache every time (validation
    was 40 % of a readiness query's CPU that way)."""
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        lambda: CostLimit(max_cost=max_cost),
    ]


LIMIT_CODES = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found", "TOO_MANY_ALIASES"),
    ("Document contains more than", "TOO_MANY_TOKENS"),
)
"""Validation messages of strawberry's limiters, and the typed code each gets."""
