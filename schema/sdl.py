"""The schema as SDL, the way clients use it: types sorted by name, no federation support definitions.

The entity types carry ``@key`` for the federation subgraph (``schema.federation``); the plain schema does not
serve federation, so its SDL (``lotgraph export-schema``, ``schema.graphql``) is printed from the executable
graphql-core schema, leaving out what strawberry marks ``print_definition=False`` (``@key``, ``_FieldSet``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema, is_specified_directive
from graphql.utilities.print_schema import is_defined_type, print_directive, print_schema_definition, print_type


def print_sdl(schema: GraphQLSchema) -> str:
    types = schema.type_map
    parts = [
        print_schema_definition(schema),
        *(print_directive(d) for d in schema.directives if not is_specified_directive(d) and _printed(d)),
        *(print_type(types[name]) for name in sorted(types) if is_defined_type(types[name]) and _printed(types[name])),
    ]
    return "\n\n".join(part for part in parts if part)


def _printed(definition: Any) -> bool:
    strawberry_definition = (definition.extensions or {}).get("strawberry-definition")
    return bool(getattr(strawberry_definition, "print_definition", True))
