"""The shape of a GraphQL document, measured before anything else walks it, in time linear in its size.

A document is small on the wire but may be large when expanded: fragments that each spread the previous one twice
double the fields at every level, so 40 fragments stand for 2⁴⁰ selections. Every walk here visits each definition
once: a fragment's figures are computed once, from its own text and the figures of the fragments it spreads (in
dependency order, without recursion through spreads), and then reused wherever it is spread.

What is measured, and why:

- ``depth``: the deepest nesting of fields, through fragments (introspection fields left out, as strawberry's
  depth limiter did);
- ``aliases``: aliases, counted as often as the expanded operation holds them;
- ``spreads``: fragment spreads written in the document, and ``spreads_in_one_set``, the most in one selection set;
- ``repeats``: fields selected again under a response name their selection set already has (through inline
  fragments).

The last two bound graphql-core's OverlappingFieldsCanBeMerged rule, which compares the fields of one response name
pairwise and the fragments spread into one selection set pairwise: its work grows with the square of those numbers,
whatever the document's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int = 0
    aliases: int = 0
    spreads: int = 0
    spreads_in_one_set: int = 0
    repeats: int = 0
    cycle: bool = False  # a fragment spreads itself, directly or not (validation refuses it)


@dataclass(slots=True)
class _Figures:
    """Of one definition, fragments expanded: deepest field below it and aliases it holds."""

    depth: int = 0
    aliases: int = 0


@dataclass(slots=True)
class _Counts:
    spreads: int = 0
    spreads_in_one_set: int = 0
    repeats: int = 0


def measure(document: DocumentNode) -> Shape:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    order, cycle = _dependency_order(fragments)
    counts = _Counts()
    figures: dict[str, _Figures] = {}
    for name in order:  # a fragment after every fragment it spreads
        figures[name] = _walk(fragments[name].selection_set, figures, counts)
    depth = aliases = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found = _walk(definition.selection_set, figures, counts)
            depth, aliases = max(depth, found.depth), aliases + found.aliases
    return Shape(depth, aliases, counts.spreads, counts.spreads_in_one_set, counts.repeats, cycle)


def _dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> tuple[list[str], bool]:
    """Fragments ordered so that each comes after those it spreads (an iterative depth-first sort), and whether
    there is a cycle (its fragments are left out: validation refuses the document)."""
    spreads = {name: list(_spread_names(f.selection_set)) for name, f in fragments.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    cycle = False
    for start in fragments:
        if start in state:
            continue
        stack = [(start, iter(spreads[start]))]
        state[start] = 1
        while stack:
            name, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                state[name] = 2
                order.append(name)
            elif child in fragments and state.get(child) == 1:
                cycle = True
            elif child in fragments and child not in state:
                state[child] = 1
                stack.append((child, iter(spreads[child])))
    return [name for name in order if state[name] == 2], cycle


def _spread_names(selection_set: SelectionSetNode) -> Iterable[str]:
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                pending.append(selection.selection_set)


def _walk(selection_set: SelectionSetNode, figures: dict[str, _Figures], counts: _Counts) -> _Figures:
    """Figures of one selection set; the parser bounds its nesting, so recursing on fields is safe."""
    result = _Figures()
    seen: set[str] = set()
    spreads = 0
    pending = [selection_set]  # the set itself and its inline fragments: one set for the overlap rule
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                response_name = (selection.alias or selection.name).value
                counts.repeats += response_name in seen
                seen.add(response_name)
                result.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    below = _walk(selection.selection_set, figures, counts)
                    result.aliases += below.aliases
                    if not selection.name.value.startswith("__"):
                        result.depth = max(result.depth, below.depth + 1)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                spreads += 1
                spread = figures.get(selection.name.value)
                if spread is not None:
                    result.depth = max(result.depth, spread.depth)
                    result.aliases += spread.aliases
    counts.spreads += spreads
    counts.spreads_in_one_set = max(counts.spreads_in_one_set, spreads)
    return result
