"""Skip the Python-side argument checks of the generated jsii bindings (theirs only).

Every generated constructor, method and setter starts with ``if __debug__:`` and checks
each argument with typeguard against type hints it resolves on every call
(``typing.get_type_hints(stub)``): ~1,000 resolutions and ~20,000 checks per synth of the
default stack, ~0.3 s. The checks are redundant: the jsii kernel deserializes every
argument against the same declared type and refuses a wrong one (a ``RuntimeError``
naming the parameter instead of typeguard's ``TypeError``), and the stock path, which
keeps them, produces the same bytes (tests/test_fast_import.py).

``python -O`` would drop them for every module of the process. Here they are dropped in
the modules of the binding packages only: right after such a module is imported, its
``check_type`` becomes a no-op and its hint lookups return an empty mapping. Only modules
that carry jsii's generated helpers are touched; user code and the real ``typing`` module
are not.

Each generated provider module also asks ``importlib.metadata`` for typeguard's version
when it is imported (~1 ms, ~70 modules per synth). While a binding module runs, that
lookup is answered from a per-process memo.
"""

from __future__ import annotations

import contextlib
import sys
import types
import typing
from typing import Iterator

#: The packages whose generated modules are changed (jsii bindings tapinfra uses).
PACKAGES = ("constructs", "cdktf", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_archive")

#: Set on a module whose checks were dropped (for tests and diagnostics).
MARKER = "__tapinfra_skipped_checks__"


class _NoHints(dict):
    """The type hints of a skipped check: any name maps to ``typing.Any``."""

    def __missing__(self, key: str) -> object:
        return typing.Any


_NO_HINTS = _NoHints()


def _no_hints(obj: object, *args: object, **kwargs: object) -> dict:
    return _NO_HINTS


def _skip_check(argname: str, value: object, expected_type: object) -> None:
    return None


def _typing_without_hints() -> types.ModuleType:
    """A copy of ``typing`` whose ``get_type_hints`` costs nothing (for the bindings only)."""
    copy = types.ModuleType(typing.__name__, typing.__doc__)
    copy.__dict__.update(typing.__dict__)
    copy.get_type_hints = _no_hints  # type: ignore[attr-defined]
    return copy


_TYPING = _typing_without_hints()


def _generated_check(module: types.ModuleType) -> bool:
    """Does ``module`` carry the argument-check helper jsii-pacmak generates?"""
    check = module.__dict__.get("check_type")
    if not isinstance(check, types.FunctionType):
        return False
    if check.__module__ == module.__name__:  # older pacmak: a copy in every module
        return "TYPEGUARD_MAJOR_VERSION" in module.__dict__
    return check.__module__ == "jsii._type_checking"  # newer pacmak: imported from jsii


def skip_checks(module: types.ModuleType) -> bool:
    """Drop the argument checks of one generated binding module; False if it has none."""
    if module.__name__.partition(".")[0] not in PACKAGES or not _generated_check(module):
        return False
    module.check_type = _skip_check  # type: ignore[attr-defined]
    if module.__dict__.get("typing") is typing:
        module.typing = _TYPING  # type: ignore[attr-defined]
    if "cached_type_hints" in module.__dict__:
        module.cached_type_hints = _no_hints  # type: ignore[attr-defined]
    setattr(module, MARKER, True)
    return True


_VERSIONS: dict[str, str] = {}


def _memoized_version(distribution_name: str) -> str:
    try:
        return _VERSIONS[distribution_name]
    except KeyError:
        version = _VERSIONS[distribution_name] = _memoized_version.real(distribution_name)
        return version


@contextlib.contextmanager
def memoized_version_probe(module: object) -> Iterator[None]:
    """``importlib.metadata.version`` answers from the memo while ``module`` runs."""
    import importlib.metadata  # imported here: the bindings import it anyway, enabling need not

    real = importlib.metadata.version
    if real is _memoized_version:  # ours already (a binding module importing another)
        yield
        return
    _memoized_version.real = real  # type: ignore[attr-defined]
    importlib.metadata.version = _memoized_version
    try:
        yield
    finally:
        importlib.metadata.version = real


def install() -> tuple[str, ...]:
    """Drop the checks of every binding module imported from now on; return the packages.

    A package already imported keeps its checks (its functions hold the real helpers).
    """
    from tapinfra._fastimport.hooks import after_each_import, around_each_import

    hooked = tuple(p for p in PACKAGES if p not in sys.modules)
    for package in hooked:
        around_each_import(package, memoized_version_probe)
        after_each_import(package, skip_checks)
    return hooked
