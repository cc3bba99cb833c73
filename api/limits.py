"""Bounds on what one operation may ask, all checked before it runs, each in time linear in the document's size.

- Tokens: the parser stops at ``max_tokens`` (strawberry's MaxTokensLimiter), and refuses nesting deeper than
  graphql-core's own bound.
- Shape (``api.shape``), as the first step of validation, before graphql-core's rules: depth, aliases through
  fragments, fragment spreads and repeated response names. The last two keep graphql-core's own validation linear
  (its overlapping-fields rule compares repeated fields and spread fragments pairwise).
- Cost, after validation: every field costs 1, multiplied by the sizes of the lists above it. A list's size is what
  the query asks for where it can say (``first``, the length of an id list, ``maxDepth`` of a trace — capped at the
  server's genealogy depth, as the schema documents) and ``LIST_GUESS`` otherwise. Each fragment is costed once and
  its cost reused wherever it is spread. An operation over the limit is refused with QUERY_TOO_COSTLY and its
  estimated cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
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
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from api.shape import Shape, measure

LIST_GUESS = 3
"""Items assumed in a list whose size the query does not state (lines of a shipment, lots of a line, holds…)."""
TRACE_NODES_PER_LEVEL = 50
"""Lots assumed per level of a genealogy trace when costing ``maxDepth``."""
TRACE_DEPTH_GUESS = 30
"""The server's cap on ``maxDepth`` when the cost is estimated without one (the default cap)."""
ID_LISTS = ("ids", "shipmentIds", "lotIds", "orderIds")
CEILING = 10**15
"""Costs saturate here: a document of nested fragments may stand for more fields than a number should hold."""

VALIDATION_CACHE_SIZE = 1000
"""Documents whose shape and validation errors are kept (by text and by parsed document)."""

MAX_FRAGMENT_SPREADS = 300
"""Fragment spreads written in one document."""
MAX_SPREADS_IN_ONE_SET = 40
"""Fragment spreads in one selection set (graphql-core compares the fragments of a set pairwise)."""
MAX_REPEATS = 60
"""Fields selected again under a response name their selection set already has (compared pairwise, recursively)."""

Composite = GraphQLObjectType | GraphQLInterfaceType


def cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    *,
    max_trace_depth: int | None = None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Costing(schema, fragments, variables, max_trace_depth).of(root, operation.selection_set)


class _Costing:
    """The cost of selection sets at multiplier 1; a fragment's cost is computed once (its type condition fixes
    the type it is costed on) and multiplied wherever it is spread."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_trace_depth: int | None,
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.max_trace_depth = max_trace_depth
        self.memo: dict[str, int] = {}

    def of(self, parent: Composite, selections: SelectionSetNode) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition is not None else parent
                if isinstance(target, Composite):
                    total += self.of(target, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return min(total, CEILING)

    def _fragment(self, name: str) -> int:
        if name not in self.memo:
            self.memo[name] = 0  # a cycle (refused by validation) adds nothing
            fragment = self.fragments.get(name)
            target = self.schema.get_type(fragment.type_condition.name.value) if fragment is not None else None
            if fragment is not None and isinstance(target, Composite):
                self.memo[name] = self.of(target, fragment.selection_set)
        return self.memo[name]

    def _field(self, parent: Composite, field: FieldNode) -> int:
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if field.selection_set is None or not isinstance(named, Composite):
            return 1
        return 1 + self._list_size(field, definition) * self.of(named, field.selection_set)

    def _list_size(self, field: FieldNode, definition: GraphQLField) -> int:
        args = {a.name.value: value_from_ast_untyped(a.value, self.variables) for a in field.arguments or ()}
        if "maxDepth" in definition.args:
            return max(1, self._trace_depth(args, definition.args["maxDepth"])) * TRACE_NODES_PER_LEVEL
        first = args.get("first")
        if isinstance(first, int):
            return max(1, first)
        for name in ID_LISTS:
            if isinstance(args.get(name), list):
                return max(1, len(args[name]))
        field_type = definition.type
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(inner, GraphQLList) or get_named_type(field_type).name.endswith("Connection"):
            return LIST_GUESS
        return 1

    def _trace_depth(self, args: dict[str, Any], argument: GraphQLArgument) -> int:
        """The levels a trace will walk, as the schema documents ``maxDepth``: the value asked for (its default when
        left out), capped at the server's maximum; null asks for the maximum."""
        depth = args.get("maxDepth", argument.default_value)
        cap = self.max_trace_depth if self.max_trace_depth is not None else TRACE_DEPTH_GUESS
        return min(depth, cap) if isinstance(depth, int) else cap


def shape_refusal(shape: Shape, *, max_depth: int, max_aliases: int) -> GraphQLError | None:
    """Why a document of this shape is refused before validation, or None."""
    checks = (
        (shape.depth > max_depth, "QUERY_TOO_DEEP", f"The operation is nested too deeply: at most {max_depth} levels."),
        (shape.aliases > max_aliases, "TOO_MANY_ALIASES", f"Too many aliases: at most {max_aliases}."),
        (
            shape.spreads > MAX_FRAGMENT_SPREADS or shape.spreads_in_one_set > MAX_SPREADS_IN_ONE_SET,
            "TOO_MANY_FRAGMENT_SPREADS",
            f"Too many fragment spreads: at most {MAX_FRAGMENT_SPREADS} in a document and "
            f"{MAX_SPREADS_IN_ONE_SET} in one selection set.",
        ),
        (
            shape.repeats > MAX_REPEATS,
            "TOO_MANY_REPEATED_FIELDS",
            f"Too many fields repeat a response name of their selection set: at most {MAX_REPEATS}.",
        ),
    )
    for refused, code, message in checks:
        if refused:
            return GraphQLError(message, extensions={"code": code})
    return None


class LimitedValidation(SchemaExtension):
    """graphql-core's validation, cached by the document's text, after the shape check: a document over a shape
    limit is answered with that limit's error and never reaches graphql-core's rules. An operation already refused
    (an anonymous caller, see ``api.authz``) is not validated at all.

    strawberry's ``ValidationCache`` keys its cache by the parsed document, whose hash walks every node of it on
    every request (about 50 nodes for a readiness query: 5 % of its CPU); the parser cache gives one document per
    text, so the text is the same key at the cost of a string's hash.

    Errors are answers here, not exceptions: an exception raised from a hook escapes strawberry's subscription path
    instead of becoming an error result."""

    def __init__(
        self,
        *,
        max_depth: int,
        max_aliases: int,
        shapes: LRUCache[str, Shape],
        validated: LRUCache[tuple[str, tuple[Any, ...]], list[GraphQLError]],
    ) -> None:
        self.max_depth, self.max_aliases = max_depth, max_aliases
        self.shapes, self.validated = shapes, validated

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors:
            yield
            return
        error = shape_refusal(self._shape(), max_depth=self.max_depth, max_aliases=self.max_aliases)
        if error is not None:
            context.pre_execution_errors = [error]
            yield
            return
        assert context.graphql_document is not None
        rules = tuple(context.validation_rules)
        key = (context.query, rules) if context.query is not None else None
        errors = self.validated.get(key) if key is not None else None
        if errors is None:
            errors = validate_document(context.schema._schema, context.graphql_document, rules)
            if key is not None:
                self.validated[key] = errors
        context.pre_execution_errors = errors
        yield

    def _shape(self) -> Shape:
        context = self.execution_context
        assert context.graphql_document is not None  # validation runs on a parsed document
        key = context.query
        shape = self.shapes.get(key) if key is not None else None
        if shape is None:
            shape = measure(context.graphql_document)
            if key is not None:
                self.shapes[key] = shape
        return shape


def _cost_key(variables: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What of the variables a cost depends on: numbers (``first``, ``maxDepth``) and the lengths of lists (``ids``);
    never strings or input objects (only a field's own arguments count, see ``_Costing._list_size``)."""
    return tuple(
        (name, value if isinstance(value, int) else len(value) if isinstance(value, list) else None)
        for name, value in sorted(variables.items())
    )


class CostLimit(SchemaExtension):
    """Refuses an operation whose estimated cost (``cost_of``) is above ``max_cost``. Costs are remembered by
    document, operation and ``_cost_key`` of the variables: an operation asked again costs a lookup."""

    def __init__(self, *, max_cost: int, costs: LRUCache[tuple[Any, ...], int]) -> None:
        self.max_cost, self.costs = max_cost, costs

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            config = getattr(context.context, "config", None)
            max_trace_depth = getattr(config, "genealogy_max_depth", None)
            variables = context.variables or {}
            key = (context.query, context.operation_name, max_trace_depth, _cost_key(variables))
            cost = self.costs.get(key) if context.query is not None else None
            if cost is None:
                cost = cost_of(
                    context.schema._schema,
                    context.graphql_document,
                    context.operation_name,
                    variables,
                    max_trace_depth=max_trace_depth,
                )
                if context.query is not None:
                    self.costs[key] = cost
            if cost > self.max_cost:
                raise GraphQLError(
                    f"The operation is too costly: estimated {cost}, at most {self.max_cost}. Ask for fewer items.",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": self.max_cost},
                )
        yield


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int
) -> list[Callable[[], SchemaExtension]]:
    """Factories (never shared instances: they would be shared by concurrent operations). The validation step is
    among them (the schema needs no other ValidationCache); the shapes of documents already measured are shared, as
    the parser and validation caches are, and so are the costs of operations already estimated."""
    shapes: LRUCache[str, Shape] = LRUCache(maxsize=VALIDATION_CACHE_SIZE)
    validated: LRUCache[tuple[str, tuple[Any, ...]], list[GraphQLError]] = LRUCache(maxsize=VALIDATION_CACHE_SIZE)
    costs: LRUCache[tuple[Any, ...], int] = LRUCache(maxsize=VALIDATION_CACHE_SIZE)
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: LimitedValidation(max_depth=max_depth, max_aliases=max_aliases, shapes=shapes, validated=validated),
        lambda: CostLimit(max_cost=max_cost, costs=costs),
    ]


LIMIT_CODES = (("Document contains more than", "TOO_MANY_TOKENS"),)
"""Validation messages of strawberry's limiters, and the typed code each gets."""
