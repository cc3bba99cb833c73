"""The schema extensions' hooks, entered without strawberry's per-request wrapping.

For every operation strawberry asks each extension, for each of four stages (operation, parsing, validation,
execution), whether it defines that hook (``inspect`` checks), and wraps every generator hook it finds in a new
``contextlib.contextmanager`` (a ``functools.wraps`` copy per hook per request). With lotgraph's nine extensions
that was about 30 of the 110 µs strawberry spends on a cached operation (docs/benchmarks.md, "The extensions'
hooks"). Here the
answer to "which hooks, of which kind" is computed once per extension class and stage, and a generator hook is
entered as the very context manager ``contextmanager`` would have built, with the same semantics (exceptions
thrown into the generator, ``StopIteration`` handling). Hooks on stream results (subscriptions) keep strawberry's
path.
"""

from __future__ import annotations

import inspect
from contextlib import _AsyncGeneratorContextManager, _GeneratorContextManager
from typing import Any, Literal

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

Kind = Literal["generator", "async generator", "function", "coroutine function", "other"] | None
_KINDS: dict[tuple[type[SchemaExtension], str], Kind] = {}


def hook_kind(cls: type[SchemaExtension], name: str) -> Kind:
    """What ``cls`` defines for the hook ``name``: nothing (None), a generator, an async generator, a callable."""
    key = (cls, name)
    if key in _KINDS:
        return _KINDS[key]
    found = getattr(cls, name)
    kind: Kind
    if found is getattr(SchemaExtension, name):
        kind = None
    elif inspect.isgeneratorfunction(found):
        kind = "generator"
    elif inspect.isasyncgenfunction(found):
        kind = "async generator"
    elif inspect.iscoroutinefunction(found):
        kind = "coroutine function"
    elif callable(found):
        kind = "function"
    else:
        kind = "other"  # strawberry's own path, and its error
    _KINDS[key] = kind
    return kind


class _CachedHooks:
    """``get_hook`` of strawberry's stage context managers, from the per-class answer of ``hook_kind``."""

    __slots__ = ()
    HOOK_NAME: str

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        """As strawberry's, but extensions without this stage's hook are skipped on one dictionary look-up."""
        name = self.HOOK_NAME
        hooks: list[WrappedHook] = []
        for extension in extensions:
            key = (type(extension), name)
            if key in _KINDS and _KINDS[key] is None:
                continue
            hook = self.get_hook(extension)
            if hook is not None:
                hooks.append(hook)
        self.hooks = hooks  # type: ignore[misc]  # a slot of strawberry's class, which the stages also derive from

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        kind = hook_kind(type(extension), self.HOOK_NAME)
        if kind is None:
            return None
        function = getattr(type(extension), self.HOOK_NAME)
        if kind == "generator":
            return WrappedHook(extension, lambda: _GeneratorContextManager(function, (extension,), {}), False)
        if kind == "async generator":
            return WrappedHook(extension, lambda: _AsyncGeneratorContextManager(function, (extension,), {}), True)
        if kind == "function":
            return WrappedHook(extension, lambda: _Call(function, extension), False)
        if kind == "coroutine function":
            return WrappedHook(extension, lambda: _AwaitCall(function, extension), True)
        hook: WrappedHook | None = super().get_hook(extension)  # type: ignore[misc]
        return hook


class _Call:
    """A hook that is a plain function: called on entering, nothing on leaving (what strawberry's
    ``func(extension); yield`` wrapper does)."""

    __slots__ = ("extension", "function")

    def __init__(self, function: Any, extension: SchemaExtension) -> None:
        self.function, self.extension = function, extension

    def __enter__(self) -> None:
        self.function(self.extension)

    def __exit__(self, *_: object) -> None:
        return None


class _AwaitCall(_Call):
    __slots__ = ()

    async def __aenter__(self) -> None:
        await self.function(self.extension)

    async def __aexit__(self, *_: object) -> None:
        return None


class _Operation(_CachedHooks, OperationContextManager):
    __slots__ = ()


class _Parsing(_CachedHooks, ParsingContextManager):
    __slots__ = ()


class _Validation(_CachedHooks, ValidationContextManager):
    __slots__ = ()


class _Executing(_CachedHooks, ExecutingContextManager):
    __slots__ = ()


class ExtensionsRunner(SchemaExtensionsRunner):
    """strawberry's runner with the stage context managers above; ``get_results`` is asked only of the extensions
    that define it."""

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if type(extension).get_results is not SchemaExtension.get_results:
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data

    def operation(self) -> Any:
        return _Operation(self.extensions)

    def parsing(self) -> Any:
        return _Parsing(self.extensions)

    def validation(self) -> Any:
        return _Validation(self.extensions)

    def executing(self) -> Any:
        return _Executing(self.extensions)
