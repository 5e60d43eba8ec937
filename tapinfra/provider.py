"""The one seam through which tapinfra reaches provider bindings.

No other module imports ``cdktf_cdktf_provider_aws`` or ``cdktf_cdktf_provider_archive``.
Constructs write ``aws.s3_bucket.S3Bucket``: the attribute is the binding's submodule,
imported on first use. A move to CDK Terrain (the maintained fork of CDKTF) changes
the package names here and nowhere else.

``TAP_STOCK_IMPORT=1`` imports the packages the stock way (every submodule at once).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

AWS_PACKAGE = "cdktf_cdktf_provider_aws"
ARCHIVE_PACKAGE = "cdktf_cdktf_provider_archive"


def stock_import_requested() -> bool:
    return os.environ.get("TAP_STOCK_IMPORT", "") not in ("", "0")


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
