"""Lean field resolvers: a resolver that takes no GraphQL arguments is called directly by graphql-core.

strawberry wraps every field resolver in the same chain: an ``Info`` built per call, the arguments converted
(``convert_arguments``, even when there are none), the field extensions folded over the call with ``reduce`` and
``partial``, and for an ``async`` resolver one more coroutine around it. For a method of ``(self)`` or
``(self, info)`` with no field extension, no permission class and no exception handler, all that does nothing but
cost: the 50-shipment list calls about 320 such resolvers per request (``Shipment.order``, ``ShipmentLine.lots``,
``Lot.disposition`` …). ``lean_resolvers`` gives each of those fields a resolver that makes the same call
(``Info`` from strawberry's configured class, the parent object as ``self``) and nothing else. Fields with
arguments, extensions or a ``root``/``parent`` parameter keep strawberry's resolver; so does every field of a
schema with exception handlers. Schema extensions are untouched (their ``resolve`` hooks are graphql-core
middleware, which wraps whatever resolver a field has). A synchronous method that differs only by taking arguments
keeps strawberry's resolver, marked (``is_sync_method``) so that ``schema.render`` may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.field import StrawberryField

RawInfo = GraphQLResolveInfo[Any]
BACKREF = "strawberry-definition"
"""Where strawberry keeps a graphql-core field's strawberry definition (``GraphQLCoreConverter.DEFINITION_BACKREF``)."""


def lean_resolvers(schema: strawberry.Schema) -> int:
    """Give every field that qualifies its lean resolver; answers how many fields got one."""
    if getattr(schema.schema_converter, "_exception_handler_specs", None):
        return 0
    info_class = schema.config.info_class
    count = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for graphql_field in named.fields.values():
            field = (graphql_field.extensions or {}).get(BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            if not _plain_method(field):
                continue
            if field.arguments:  # strawberry's resolver converts them; ``schema.render`` may still call it
                if not field.is_async and graphql_field.resolve is not None:
                    graphql_field.resolve.sync_method = True
                continue
            lean = _lean(field, info_class)
            lean.lean_sync = not field.is_async  # type: ignore[attr-defined]
            graphql_field.resolve = lean
            count += 1
    return count


def is_sync_method(resolve: object) -> bool:
    """Whether ``resolve`` calls a method of the parent object that is not ``async`` (it may still answer an
    awaitable: a planned field whose records the plan did not bring), with no field extension: a lean resolver, or
    strawberry's own for a method with arguments."""
    return getattr(resolve, "lean_sync", False) is True or getattr(resolve, "sync_method", False) is True


def _plain_method(field: StrawberryField) -> bool:
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.is_subscription:
        return False
    if resolver.parent_parameter is not None or resolver.root_parameter is not None:
        return False
    return resolver.self_parameter is not None and callable(resolver.wrapped_func)


def _lean(field: StrawberryField, info_class: type[strawberry.Info[Any, Any]]) -> Callable[..., Any]:
    resolver = field.base_resolver
    assert resolver is not None
    assert callable(resolver.wrapped_func)
    method: Callable[..., Any] = resolver.wrapped_func
    info_parameter = resolver.info_parameter
    if info_parameter is None:

        def plain(source: Any, _info: RawInfo) -> Any:
            return method(source)

        return plain
    name = info_parameter.name
    if name != "info":

        def named_info(source: Any, info: RawInfo) -> Any:
            return method(source, **{name: info_class(_raw_info=info, _field=field)})

        return named_info

    def with_info(source: Any, info: RawInfo) -> Any:
        return method(source, info=info_class(_raw_info=info, _field=field))

    return with_info
