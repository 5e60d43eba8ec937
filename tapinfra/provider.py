"""The one seam through which tapinfra reaches provider bindings.

No other module imports ``cdktf_cdktf_provider_aws`` or ``cdktf_cdktf_provider_archive``.
Constructs write ``aws.s3_bucket.S3Bucket``: the attribute is the binding's submodule,
imported on first use. A move to CDK Terrain (the maintained fork of CDKTF) changes
the package names here and nowhere else.

Importing this module installs the fast import path (``tapinfra._fastimport``); it starts
nothing and imports neither cdktf nor jsii. It must be imported before anything imports
``cdktf`` or ``constructs`` (``tapinfra/__init__.py`` imports it first):

* the provider packages are registered as light packages: only the submodules that are
  used get imported, and the jsii runtime imports others on demand when the kernel hands
  back one of their types;
* the jsii kernel (node), when it starts, gets a preload that makes the providers' JS
  index lazy.

Both fall back to the stock path, with a warning on stderr, when the installed packages
are not laid out as expected. Output is the same either way.

``TAP_STOCK_IMPORT=1`` imports the packages the stock way (every submodule at once).
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


def stock_import_requested() -> bool:
    return os.environ.get("TAP_STOCK_IMPORT", "") not in ("", "0")


def _warn(message: str) -> None:
    print(f"tapinfra fast import: {message}", file=sys.stderr, flush=True)


def _install_fast_path() -> dict[str, str]:
    """Install both halves; return what is active: ``{"node": ..., package: ...}``."""
    mode = {"node": "stock", **{package: "stock" for package in PACKAGES}}
    if stock_import_requested():
        return mode
    try:
        from tapinfra import _fastimport
    except Exception as exc:  # noqa: BLE001 - never let the fast path break the stock one
        _warn(f"unavailable ({exc!r}); importing providers the stock way")
        return mode

    try:
        if _fastimport.install_node_preload():
            mode["node"] = "fast"
    except Exception as exc:  # noqa: BLE001
        _warn(f"node preload not installed ({exc!r}); provider JS indexes load the stock way")

    for package in PACKAGES:
        try:
            _fastimport.install_light_package(package)
            mode[package] = "fast"
        except ModuleNotFoundError:
            mode[package] = "missing"
        except _fastimport.FastImportUnavailable as exc:
            _warn(f"{exc}; importing {package} the stock way")
        except Exception as exc:  # noqa: BLE001
            _warn(f"{package}: {exc!r}; importing it the stock way")
    return mode


_MODE = _install_fast_path()


def import_mode() -> dict[str, str]:
    """What is active: ``{"node": "fast"|"stock", "<package>": "fast"|"stock"|"missing"}``."""
    return dict(_MODE)


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
