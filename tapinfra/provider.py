"""The one seam through which tapinfra reaches provider bindings.

No other module imports ``cdktf_cdktf_provider_aws`` or ``cdktf_cdktf_provider_archive``.
Constructs write ``aws.s3_bucket.S3Bucket``: the attribute is the binding's submodule,
imported on first use. A move to CDK Terrain (the maintained fork of CDKTF) changes
the package names here and nowhere else.

Importing this module changes nothing. :func:`enable_fast_import` switches on the fast
path (``tapinfra._fastimport``) for the whole process; it must run before anything imports
``cdktf`` or ``constructs`` (``main.py``, ``tests/conftest.py`` and ``bench/`` call it first
thing). It starts nothing and imports neither cdktf nor jsii. Output is the same either
way (tests/test_fast_import.py); without it, cdktf and the providers load the stock way.

``TAP_STOCK_IMPORT=1`` makes :func:`enable_fast_import` a no-op (the stock path, to compare
against). ``TAP_FAST_IMPORT_OFF`` (comma-separated parts: ``typechecks``, ``annotations``,
``direct``, ``pipelined``, ``early_load``, ``lazy_requires``, ``compile_cache``, ``no_opt``,
``start_early``, ``quick_exit``) leaves single parts stock, so that each is measured on its
own.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

AWS_PACKAGE = "cdktf_cdktf_provider_aws"
ARCHIVE_PACKAGE = "cdktf_cdktf_provider_archive"
PACKAGES = (AWS_PACKAGE, ARCHIVE_PACKAGE)
PARTS = (
    "typechecks", "annotations", "direct", "pipelined", "early_load", "lazy_requires", "compile_cache", "no_opt",
    "start_early", "quick_exit",
)


def stock_import_requested() -> bool:
    return os.environ.get("TAP_STOCK_IMPORT", "") not in ("", "0")


def _parts_off() -> frozenset[str]:
    off = {part.strip() for part in os.environ.get("TAP_FAST_IMPORT_OFF", "").split(",") if part.strip()}
    unknown = off - set(PARTS)
    if unknown:
        _warn(f"TAP_FAST_IMPORT_OFF: unknown part(s) {sorted(unknown)}; known: {', '.join(PARTS)}")
    return frozenset(off & set(PARTS))


def _warn(message: str) -> None:
    print(f"tapinfra fast import: {message}", file=sys.stderr, flush=True)


def _stock_mode() -> dict[str, str]:
    return {
        "node": "stock", "kernel": "stock", "typechecks": "on", "annotations": "evaluated", "exit": "stock",
        **{package: "stock" for package in PACKAGES},
    }


def _all_or_partly(hooked: tuple[str, ...], packages: tuple[str, ...], state: str) -> str:
    return state if len(hooked) == len(packages) else f"partly {state}"


def _install_fast_path() -> dict[str, str]:
    """Install every part; return what is active (see :func:`import_mode`)."""
    global _PLAN
    mode = _stock_mode()
    if stock_import_requested():
        return mode
    try:
        from tapinfra import _fastimport
        from tapinfra._fastimport import bytecode, kernel, shutdown, typechecks
    except Exception as exc:  # noqa: BLE001 - never let the fast path break the stock one
        _warn(f"unavailable ({exc!r}); importing providers the stock way")
        return mode
    off = _parts_off()
    if "quick_exit" not in off:
        shutdown.install()
        mode["exit"] = "quick"

    # Before the light packages: they would look imported to these two.
    if "annotations" not in off:
        try:
            hooked = bytecode.install()
            if hooked is None:
                mode["annotations"] = "evaluated (no writable code cache)"
            elif hooked:
                mode["annotations"] = _all_or_partly(hooked, bytecode.PACKAGES, "not evaluated")
        except Exception as exc:  # noqa: BLE001
            _warn(f"bindings compiled the stock way ({exc!r})")
    if "typechecks" not in off:
        try:
            hooked = typechecks.install()
            if hooked:
                mode["typechecks"] = _all_or_partly(hooked, typechecks.PACKAGES, "skipped")
        except Exception as exc:  # noqa: BLE001
            _warn(f"argument checks stay on ({exc!r})")

    preloads = (kernel.LAZY_INDEX,) + tuple(
        path for part, path in (("lazy_requires", kernel.LAZY_REQUIRES), ("compile_cache", kernel.COMPILE_CACHE))
        if part not in off
    )
    plan = kernel.KernelPlan(
        direct="direct" not in off,
        pipelined="pipelined" not in off,
        preloads=preloads,
        compile_cache_dir=None if "compile_cache" in off else kernel.default_compile_cache_dir(),
        node_flags=() if "no_opt" in off else kernel.NO_OPT_FLAGS,
    )
    try:
        if kernel.install(plan):
            _PLAN = plan if plan.direct else None
            mode["node"] = "fast"
            mode["kernel"] = ("direct" if plan.direct else "wrapper") + (", pipelined" if plan.pipelined else "")
    except Exception as exc:  # noqa: BLE001
        _warn(f"kernel not changed ({exc!r}); it starts the stock way")

    for package in PACKAGES:
        try:
            _fastimport.install_light_package(package)
            mode[package] = "fast"
            if plan.pipelined and "early_load" not in off:
                _fastimport.load_assembly_early(package)
        except ModuleNotFoundError:
            mode[package] = "missing"
        except _fastimport.FastImportUnavailable as exc:
            _warn(f"{exc}; importing {package} the stock way")
        except Exception as exc:  # noqa: BLE001
            _warn(f"{package}: {exc!r}; importing it the stock way")
    return mode


_MODE: dict[str, str] | None = None
_PLAN = None  # the kernel plan installed (for start_kernel)


def enable_fast_import(start_kernel: bool = False) -> dict[str, str]:
    """Switch the fast path on for this process; return :func:`import_mode`. Idempotent.

    Call it before anything imports ``cdktf`` or ``constructs``: parts that come too late
    warn on stderr and stay stock (the output is the same, only slower). With
    ``start_kernel=True`` (a program about to synthesize, like ``main.py``) the jsii kernel
    starts right away, in parallel with what Python does until it needs it.
    """
    global _MODE
    if _MODE is None:
        _MODE = _install_fast_path()
    early = start_kernel and _PLAN is not None and "start_early" not in _parts_off()
    if early and "started early" not in _MODE["kernel"]:
        try:
            from tapinfra._fastimport import kernel

            if kernel.start_early(_PLAN):
                _MODE["kernel"] += ", started early"
        except Exception as exc:  # noqa: BLE001 - it then starts when jsii starts it
            _warn(f"kernel not started early ({exc!r})")
    return dict(_MODE)


def import_mode() -> dict[str, str]:
    """What is active: ``node`` (the kernel's lazy JS index): ``fast``|``stock``; ``kernel``:
    how it is started and talked to; ``typechecks``: ``skipped``|``on``; per provider package
    ``fast``|``stock``|``missing``. All stock until :func:`enable_fast_import` is called."""
    return dict(_MODE) if _MODE is not None else _stock_mode()


class _Bindings:
    """Attribute access yields the package's submodule, imported when first asked for."""

    def __init__(self, package: str) -> None:
        self._package = package
        self._root: ModuleType | None = None

    def _load_root(self) -> ModuleType:
        if self._root is None:
            self._root = importlib.import_module(self._package)
        return self._root

    def __getattr__(self, name: str) -> ModuleType:
        if name.startswith("_"):
            raise AttributeError(name)
        self._load_root()
        module = importlib.import_module(f"{self._package}.{name}")
        setattr(self, name, module)
        return module


aws = _Bindings(AWS_PACKAGE)
archive = _Bindings(ARCHIVE_PACKAGE)


if TYPE_CHECKING:  # binding types for annotations, through the seam like everything else
    from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: F401
