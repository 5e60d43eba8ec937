"""The files tapinfra ships beside its code, found as package data (``importlib.resources``).

``tapinfra/_assets/`` holds the reference application (the item API, ``lambda/`` in the
repository) and the canary's sources (``canary/nodejs/node_modules/``): in a checkout as links
to those folders, in a wheel or sdist as the files themselves. Nothing here knows where a
checkout keeps them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_RUNTIME_PACKAGE = "tapinfra.runtime"


def _asset(name: str) -> Path:
    root = resources.files("tapinfra") / "_assets" / name
    path = Path(str(root))
    if not path.is_dir():
        raise FileNotFoundError(f"tapinfra's package data {name!r} is missing at {path}: reinstall tapinfra")
    return path


def reference_application_dir() -> Path:
    """The item API's source (handler ``app.handler``, ``openapi.json``): the default application."""
    return _asset("items_api")


def canary_sources_dir() -> Path:
    """The canary's Node.js modules (``tapCanary.js`` and what it requires)."""
    return _asset("canary")


def runtime_files() -> list[tuple[str, bytes]]:
    """``(name in zip, bytes)`` of ``tapinfra.runtime``, which every function zip carries under
    ``tapinfra/runtime/``, with a ``tapinfra/__init__.py`` that imports nothing: in Lambda the
    handler finds ``tapinfra.runtime`` and none of the infrastructure."""
    package = resources.files(_RUNTIME_PACKAGE)
    files = [(f"tapinfra/runtime/{entry.name}", entry.read_bytes())
             for entry in package.iterdir() if entry.name.endswith(".py")]
    stub = b'"""The part of tapinfra a function carries: tapinfra.runtime (the rest stays with the infrastructure)."""\n'
    return sorted([("tapinfra/__init__.py", stub), *files])
