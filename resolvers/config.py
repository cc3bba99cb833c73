"""Settings the domain rules need, handed to resolvers through the Context.

A node of the settings tree (api/settings.py): each field's metadata gives its TOML key, help and range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sources.records import WarehouseStage


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    readiness_stage: WarehouseStage = field(
        default=WarehouseStage.STAGED,
        metadata={
            "help": "warehouse stage a shipment must have reached to be READY: `allocated`, `picking`, `picked`, "
            "`staged`, `loaded` or `shipped`",
            "key": "readiness.required_stage",
        },
    )
    genealogy_max_depth: int = field(
        default=30,
        metadata={
            "help": "deepest genealogy walk (`lotGenealogy`, `recallImpact`), 0 to 1000 levels; a larger `maxDepth` "
            "is capped to it and a walk it cuts short says so (`truncation.reason` `SERVER_MAX_DEPTH`)",
            "key": "genealogy.max_depth",
            "range": (0, 1000),
        },
    )
    genealogy_max_nodes: int = field(
        default=100_000,
        metadata={
            "help": "most lots one genealogy walk may hold, the root included (1 to 10,000,000); the walk stops "
            "there, truncated (`NODE_LIMIT`)",
            "key": "genealogy.max_nodes",
            "range": (1, 10_000_000),
        },
    )
    genealogy_time_budget: float = field(
        default=10.0,
        metadata={
            "help": "seconds one genealogy walk may take (over 0, at most 600); the walk stops there, truncated "
            "(`TIME_BUDGET`), with the levels it completed",
            "key": "genealogy.time_budget",
        },
    )
    gs1_company_prefix_length: int = field(
        default=7,
        metadata={
            "help": "digits of the GS1 company prefix in the GTINs of the lots (6 to 12), to spell `Lot.epcClass` "
            "(a GTIN alone does not say where its prefix ends); see [traceability](traceability.md)",
            "key": "gs1.company_prefix_length",
            "range": (6, 12),
        },
    )
    gs1_resolver: str = field(
        default="https://id.gs1.org",
        metadata={"help": "the resolver host `Lot.digitalLink` names", "key": "gs1.resolver"},
    )
    planner: bool = True
    """Plan the upstream fetches of an operation before executing it (off: every field awaits its loader; the
    planner's tests compare both). Not a setting."""
    render: bool = True
    """With the planner: answer a root field whose records the plan brought in one walk (``schema.render``) instead
    of graphql-core's execution per field (off: the tests compare both). Not a setting."""
