"""``lambda/`` imported as the function imports it: top-level modules, under its environment.

``lambda/`` is not a package (``lambda`` is a keyword), so its directory goes on ``sys.path``.
The environment is the function's only while the modules import, and no ``__pycache__`` is
left in ``lambda/``: everything there is zipped as it stands.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from types import ModuleType

from app_testkit import APP_ENV, LAMBDA_DIR


def import_lambda(*names: str) -> tuple[ModuleType, ...]:
    """The named ``lambda/`` modules, in order; Python imports each once per process."""
    saved_env = {key: os.environ.get(key) for key in APP_ENV}
    saved_bytecode = sys.dont_write_bytecode
    os.environ.update(APP_ENV)
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(LAMBDA_DIR))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(importlib.import_module(name) for name in names)
    finally:
        sys.dont_write_bytecode = saved_bytecode
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
