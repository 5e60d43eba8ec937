"""The jsii assembly a generated binding package loads, found without importing it.

Every generated package has ``<package>/_jsii/__init__.py`` with one line
``__jsii_assembly__ = jsii.JSIIAssembly.load("<name>", "<version>", __name__[0:-6],
"<tarball>")``: the kernel request jsii makes when the package is imported. Read from the
file, it lets the fast path check a package's layout and ask a kernel started early to
load the assembly before Python imports anything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass

from tapinfra._fastimport.errors import FastImportUnavailable

RE_ASSEMBLY_LOAD = re.compile(
    r"""^__jsii_assembly__\s*=\s*jsii\.JSIIAssembly\.load\(\s*
        "(?P<name>[^"]+)",\s*"(?P<version>[^"]+)",\s*__name__\[0:-6\],\s*"(?P<tarball>[^"]+)"\s*,?\s*\)""",
    re.M | re.X,
)


@dataclass(frozen=True)
class Assembly:
    name: str
    version: str
    tarball: str  # absolute path

    def load_request(self) -> bytes:
        """The kernel request jsii sends for it, framed as jsii frames it."""
        request = {"name": self.name, "version": self.version, "tarball": self.tarball, "api": "load"}
        return json.dumps(request).encode("utf8") + b"\n"


def package_directory(package: str) -> str:
    spec = importlib.util.find_spec(package)  # a top-level name: nothing is imported
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)
    return list(spec.submodule_search_locations)[0]


def parse(source: str, directory: str, filename: str) -> Assembly:
    """The one assembly ``source`` (a ``_jsii/__init__.py`` in ``directory``) loads."""
    loads = list(RE_ASSEMBLY_LOAD.finditer(source))
    if len(loads) != 1:
        raise FastImportUnavailable(f"{filename} does not load exactly one jsii assembly")
    load = loads[0]
    tarball = os.path.join(directory, "_jsii", load["tarball"])
    if not os.path.isfile(tarball):
        raise FastImportUnavailable(f"assembly tarball {load['tarball']} of {filename} is missing")
    return Assembly(load["name"], load["version"], tarball)


def assembly_of(package: str) -> Assembly:
    """The assembly ``package`` loads; raises if it is not installed or not generated."""
    return assembly_in(package_directory(package))


def assembly_in(directory: str) -> Assembly:
    """The assembly the generated package in ``directory`` loads (its ``_jsii/__init__.py``)."""
    jsii_init = os.path.join(directory, "_jsii", "__init__.py")
    try:
        with open(jsii_init, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise FastImportUnavailable(f"cannot read {jsii_init}: {exc}") from None
    return parse(source, directory, jsii_init)
