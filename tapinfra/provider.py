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
against). ``TAP_FAST_IMPORT_OFF`` (comma-separated parts, listed in
``tapinfra._fastimport.enable.PARTS``) leaves single parts stock, so that each is measured
on its own.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

AWS_PACKAGE = "cdktf_cdktf_provider_aws"
ARCHIVE_PACKAGE = "cdktf_cdktf_provider_archive"
PACKAGES = (AWS_PACKAGE, ARCHIVE_PACKAGE)

_FAST_PATH = None  # tapinfra._fastimport.enable.FastPath, once enabled


def stock_import_requested() -> bool:
    return os.environ.get("TAP_STOCK_IMPORT", "") not in ("", "0")


def enable_fast_import(start_kernel: bool = False) -> dict[str, str]:
    """Switch the fast path on for this process; return :func:`import_mode`. Idempotent.

    Call it before anything imports ``cdktf`` or ``constructs``: parts that come too late
    warn on stderr and stay stock (the output is the same, only slower). With
    ``start_kernel=True`` (a program about to synthesize, like ``main.py``) the jsii kernel
    starts right away, in parallel with what Python does until it needs it.
    """
    global _FAST_PATH
    if stock_import_requested():
        return import_mode()
    if _FAST_PATH is None:
        from tapinfra._fastimport.enable import FastPath

        _FAST_PATH = FastPath(PACKAGES)
        _FAST_PATH.install(start_kernel)
    elif start_kernel:
        _FAST_PATH.start_kernel()
    return import_mode()


def import_mode() -> dict[str, str]:
    """What is active: ``node`` (the kernel's lazy JS index): ``fast``|``stock``; ``kernel``:
    how it is started and talked to; ``typechecks``: ``skipped``|``on``; ``annotations``
    (of the bindings): ``not evaluated``|``evaluated``; ``exit``: ``quick``|``stock``; per
    provider package ``fast``|``stock``|``missing``. All stock until
    :func:`enable_fast_import` is called."""
    if _FAST_PATH is None:
        from tapinfra._fastimport.enable import stock_mode

        return stock_mode(PACKAGES)
    return dict(_FAST_PATH.mode)


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
