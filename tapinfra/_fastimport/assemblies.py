"""The jsii assembly a generated binding package loads, read from its files.

Every generated package has ``<package>/_jsii/__init__.py`` with one line
``__jsii_assembly__ = jsii.JSIIAssembly.load("<name>", "<version>", __name__[0:-6],
"<tarball>")``: the kernel request jsii makes when the package is imported. Read from the
file, it lets the fast path check a package's layout and load its assembly before Python
imports the package.
"""

from __future__ import annotations

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


def assembly_in(directory: str) -> Assembly:
    """The assembly the generated package in ``directory`` loads (its ``_jsii/__init__.py``)."""
    jsii_init = os.path.join(directory, "_jsii", "__init__.py")
    try:
        with open(jsii_init, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise FastImportUnavailable(f"cannot read {jsii_init}: {exc}") from None
    return parse(source, directory, jsii_init)
