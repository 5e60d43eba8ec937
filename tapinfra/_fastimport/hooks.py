"""Run a function right after a module is imported, without importing anything now.

The fast path must change jsii and the generated bindings as they load, yet enabling it
must import neither (so that it costs nothing until a stack is built). One meta path
finder, put in ``sys.meta_path`` by the first hook and taken out when it has none left,
wraps the loader of the modules it is asked about: the real loader runs, then the hooks.
"""

from __future__ import annotations

import contextlib
import sys
from types import CodeType
from typing import Callable, ContextManager, Optional

from tapinfra._fastimport.errors import warn

Hook = Callable[[object], object]
#: Called with the module about to run; the context it returns is held while it runs.
Around = Callable[[object], ContextManager[object]]
#: Called with the real loader and the module's name: the code to run instead, or None.
CodeSource = Callable[[object, str], Optional[CodeType]]


class _Loader:
    """Runs the module (the real loader's code, or a code source's) inside the ``around``
    contexts, then the hooks; everything else is delegated to the real loader."""

    def __init__(self, inner: object, hooks: list[Hook], around: list[Around] = (), code: list[CodeSource] = ()) -> None:
        self._inner = inner
        self._hooks = hooks
        self._around = list(around)
        self._code = list(code)

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def _code_for(self, name: str) -> CodeType | None:
        for source in self._code:
            try:
                code = source(self._inner, name)
            except Exception as exc:  # noqa: BLE001 - the real loader's code is always there
                warn(f"{name}: compiled the stock way ({exc!r})")
                return None
            if code is not None:
                return code
        return None

    def exec_module(self, module) -> None:
        code = self._code_for(module.__name__)
        with contextlib.ExitStack() as contexts:
            for around in self._around:
                contexts.enter_context(around(module))
            if code is None:
                self._inner.exec_module(module)
            else:
                exec(code, module.__dict__)  # what the real loader does with its own code
        for hook in self._hooks:
            try:
                hook(module)
            except Exception as exc:  # noqa: BLE001 - a hook must never break the import
                warn(f"post-import hook for {module.__name__} failed: {exc!r}")

    def __getattr__(self, name: str):  # get_source, get_resource_reader, ... for tools
        return getattr(self._inner, name)


class _ImportHooks:
    """Meta path finder: hooks for one module (run once) or every module of a package."""

    def __init__(self) -> None:
        self.once: dict[str, list[Hook]] = {}
        self.packages: dict[str, list[Hook]] = {}
        self.around: dict[str, list[Around]] = {}
        self.code: dict[str, list[CodeSource]] = {}

    def find_spec(self, fullname, path, target=None):
        package = fullname.partition(".")[0]
        hooks = self.once.pop(fullname, []) + self.packages.get(package, [])
        around = self.around.get(package, [])
        code = self.code.get(package, [])
        if not hooks and not around and not code:
            return None
        if not self.once and not self.packages and not self.around and not self.code:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self)
        spec = None
        for finder in list(sys.meta_path):  # whoever would have found it without us
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            if spec is not None:
                warn(f"cannot hook the import of {fullname}; it loads the stock way")
            return spec
        spec.loader = _Loader(spec.loader, hooks, around, code)
        return spec


def _finder() -> _ImportHooks:
    finder = next((f for f in sys.meta_path if isinstance(f, _ImportHooks)), None)
    if finder is None:
        finder = _ImportHooks()
        sys.meta_path.insert(0, finder)
    return finder


def after_import(fullname: str, hook: Hook) -> None:
    """Run ``hook(module)`` once ``fullname`` is imported (now, if it already is)."""
    module = sys.modules.get(fullname)
    if module is not None:
        hook(module)
        return
    _finder().once.setdefault(fullname, []).append(hook)


def after_each_import(package: str, hook: Hook) -> None:
    """Run ``hook(module)`` after every import of ``package`` or one of its submodules.

    Modules already imported are not revisited: call this before the package is imported.
    """
    _finder().packages.setdefault(package, []).append(hook)


def around_each_import(package: str, around: Around) -> None:
    """Run every module of ``package`` imported from now on inside ``around(module)``."""
    _finder().around.setdefault(package, []).append(around)


def code_for_each_import(package: str, source: CodeSource) -> None:
    """Run the modules of ``package`` imported from now on from ``source``'s code when it
    has some (None: the real loader's)."""
    _finder().code.setdefault(package, []).append(source)
