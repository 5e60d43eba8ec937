"""Light provider packages: only the submodules that are used get imported.

Stock ``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all
~2,136 generated submodules (~10 s, plus seconds of interpreter shutdown).
:func:`install_light_package` registers a light package object in ``sys.modules`` instead,
whose ``__path__`` is the real package directory, so ``cdktf_cdktf_provider_aws.s3_bucket``
imports just that submodule (and, through its ``from .._jsii import *``, the assembly). It
also fills jsii's submodule map (``jsii._reference_map._submodule_fqn_map``), so a type
that comes back from the kernel from a submodule nobody imported
(``@cdktf/provider-aws.s3Bucket.S3Bucket``) still resolves: the jsii runtime imports
``cdktf_cdktf_provider_aws.s3_bucket`` on demand.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from tapinfra._fastimport.assemblies import assembly_in
from tapinfra._fastimport.errors import FastImportUnavailable, warn
from tapinfra._fastimport.hooks import after_import

#: Attribute set on the light package module (for tests and diagnostics).
MARKER = "__tapinfra_fast_import__"


def namespace_of(submodule: str) -> str:
    """jsii namespace of a generated Python submodule: ``s3_bucket`` -> ``s3Bucket``.

    jsii-pacmak names Python submodules by snake-casing the TypeScript namespace; the
    generated provider namespaces are lower camel case, so this inverts it exactly (the
    test suite checks it against every submodule's ``jsii_type``).
    """
    head, *rest = submodule.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class LightPackage:
    package: str
    assembly: str
    version: str
    directory: str
    submodules: tuple[str, ...] = field(repr=False)


# The generated package ``__init__`` of a prebuilt provider: a docstring, a fixed preamble,
# ``from ._jsii import *``, ``__all__`` (the submodules), ``publication.publish()`` and one
# ``from . import <submodule>`` per submodule. Anything else at top level (a root-level
# type, say) means the package is not a pure container of submodules, and the light
# package would not be equivalent to it. Checked line by line: an ``ast`` parse of its
# 2,000+ statements would cost tens of milliseconds on every import of tapinfra.
_RE_IMPORT_SUBMODULE = re.compile(r"from \. import ([A-Za-z_][A-Za-z0-9_]*)")
_RE_ALL_ITEM = re.compile(r'\s+"([A-Za-z_][A-Za-z0-9_]*)",?')
_PREAMBLE_LINES = frozenset({
    "from pkgutil import extend_path",
    "__path__ = extend_path(__path__, __name__)",
    "import abc",
    "import builtins",
    "import datetime",
    "import enum",
    "import typing",
    "import jsii",
    "import publication",
    "import typing_extensions",
    "import typeguard",
    "from importlib.metadata import version as _metadata_package_version",
    "TYPEGUARD_MAJOR_VERSION = int(_metadata_package_version('typeguard').split('.')[0])",
})


def _check_root_init(source: str, filename: str) -> list[str]:
    """Return the submodules the generated package ``__init__`` imports, or raise."""

    def unexpected(index: int) -> FastImportUnavailable:
        return FastImportUnavailable(f"unexpected line {index + 1} in {filename}: {lines[index][:80]!r}")

    lines = [line.rstrip() for line in source.splitlines()]
    i = 0
    # The module docstring.
    first = lines[0].lstrip("rRuU") if lines else ""
    if first.startswith(("'''", '"""')):
        quote = first[:3]
        if quote not in first[3:]:
            i = 1
            while i < len(lines) and quote not in lines[i]:
                i += 1
            if i == len(lines) or not lines[i].endswith(quote):
                raise FastImportUnavailable(f"unterminated docstring in {filename}")
        i += 1
    imported: list[str] = []
    all_names: list[str] | None = None
    saw_jsii_star = saw_publish = saw_check_type = False
    while i < len(lines):
        line = lines[i]
        if not line or line.lstrip().startswith("#"):
            i += 1
            continue
        if line[0].isspace():
            raise unexpected(i)
        m = _RE_IMPORT_SUBMODULE.fullmatch(line)
        if m:
            imported.append(m.group(1))
        elif line in _PREAMBLE_LINES:
            pass
        elif line == "from ._jsii import *":
            saw_jsii_star = True
        elif line == "publication.publish()":
            saw_publish = True
        elif line.startswith("def check_type(") and not saw_check_type:
            saw_check_type = True
            while i + 1 < len(lines) and (not lines[i + 1] or lines[i + 1][0].isspace()):
                i += 1  # its body
        elif line == "__all__ = [" and all_names is None:
            all_names = []
            i += 1
            while i < len(lines) and lines[i] != "]":
                item = _RE_ALL_ITEM.fullmatch(lines[i])
                if item is None:
                    raise unexpected(i)
                all_names.append(item.group(1))
                i += 1
            if i == len(lines):
                raise FastImportUnavailable(f"unterminated __all__ in {filename}")
        else:
            raise unexpected(i)
        i += 1
    if not (saw_jsii_star and saw_publish) or all_names is None:
        raise FastImportUnavailable(f"{filename} is not a generated jsii package __init__")
    if not imported:
        raise FastImportUnavailable(f"{filename} imports no submodules")
    if len(set(imported)) != len(imported) or set(all_names) != set(imported):
        raise FastImportUnavailable(f"__all__ of {filename} is not the list of its submodules")
    return imported


def _inspect(package: str) -> tuple[LightPackage, importlib.machinery.ModuleSpec]:
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)
    locations = list(spec.submodule_search_locations or [])
    if (
        spec.origin is None
        or not spec.origin.endswith("__init__.py")
        or len(locations) != 1
        or os.path.dirname(spec.origin) != locations[0]
    ):
        raise FastImportUnavailable(f"{package} is not a plain package directory ({spec.origin})")
    directory = locations[0]
    with open(spec.origin, encoding="utf-8") as f:
        submodules = _check_root_init(f.read(), spec.origin)

    assembly = assembly_in(directory)

    # The stock __init__ extends __path__ with same-named directories elsewhere on sys.path.
    for entry in sys.path:
        other = os.path.join(entry or os.curdir, package)
        if os.path.isdir(other) and not os.path.samefile(other, directory):
            raise FastImportUnavailable(f"{package} is also found at {other}")

    present = set(os.listdir(directory))
    missing = [m for m in submodules if m not in present]
    if missing:
        raise FastImportUnavailable(f"{package} lacks submodule directories {missing[:5]}")
    info = LightPackage(
        package=package,
        assembly=assembly.name,
        version=assembly.version,
        directory=directory,
        submodules=tuple(submodules),
    )
    return info, spec


def _make_getattr(package: str, names: frozenset[str]) -> Callable:
    def __getattr__(name: str):  # PEP 562: submodules load on first attribute access
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


REFERENCE_MAP_MODULE = "jsii._reference_map"


def _fqn_map_of(reference_map: object) -> dict | None:
    """jsii's submodule FQN map, if this jsii resolves types of unimported submodules."""
    fqn_map = getattr(reference_map, "_submodule_fqn_map", None)
    if isinstance(fqn_map, dict) and callable(getattr(reference_map, "_try_import_type_module", None)):
        return fqn_map
    return None


def install_light_package(package: str) -> LightPackage:
    """Register the light package object for ``package``; raise if that is not possible.

    Raises :class:`FastImportUnavailable` when the installed package is not laid out as
    expected (the caller then imports it the stock way), and ``ModuleNotFoundError`` when
    it is not installed at all. Imports neither jsii nor the package's assembly: jsii's
    submodule map is filled when jsii is imported, and the assembly loads (starting the
    kernel if needed) with the first submodule, through its ``from .._jsii import *``.
    """
    existing = sys.modules.get(package)
    if existing is not None:
        info = getattr(existing, MARKER, None)
        if isinstance(info, LightPackage):
            return info
        raise FastImportUnavailable(f"{package} was already imported the stock way")

    reference_map = sys.modules.get(REFERENCE_MAP_MODULE)
    if reference_map is not None and _fqn_map_of(reference_map) is None:
        raise FastImportUnavailable("this jsii runtime cannot resolve types of unimported submodules")

    info, spec = _inspect(package)

    module = importlib.util.module_from_spec(spec)  # __name__, __spec__, __path__, __file__ ...
    module.__path__ = [info.directory]
    module.__all__ = list(info.submodules)
    module.__doc__ = f"Light package for {package}: submodules are imported on first use."
    names = frozenset(info.submodules)
    module.__getattr__ = _make_getattr(package, names)  # type: ignore[attr-defined]
    module.__dir__ = lambda: sorted(set(module.__dict__) | names)  # type: ignore[attr-defined]
    setattr(module, MARKER, info)
    # FQN namespace -> Python module, so that the jsii runtime imports the right submodule
    # when the kernel hands back a type nobody imported. Only entries for this assembly.
    entries = {f"{info.assembly}.{namespace_of(name)}": f"{package}.{name}" for name in info.submodules}

    def register_submodules(reference_map: object) -> None:
        fqn_map = _fqn_map_of(reference_map)
        if fqn_map is not None:
            fqn_map.update(entries)
            return
        if sys.modules.get(package) is module and not any(m.startswith(f"{package}.") for m in sys.modules):
            del sys.modules[package]  # nothing used it yet: the stock package will be imported
            warn(f"this jsii runtime cannot resolve types of unimported submodules; importing {package} the stock way")
        else:
            warn(
                f"this jsii runtime cannot resolve types of unimported submodules of {package}: "
                "call tapinfra.enable_fast_import() before jsii is imported"
            )

    sys.modules[package] = module
    after_import(REFERENCE_MAP_MODULE, register_submodules)
    return info


def is_light_package(module: object) -> bool:
    return isinstance(getattr(module, MARKER, None), LightPackage)


#: Imported right before a provider's assembly can load (it depends on cdktf's).
CDKTF_ASSEMBLY_MODULE = "cdktf._jsii"


def load_assembly_early(package: str) -> None:
    """Have the kernel load ``package``'s assembly as soon as cdktf's is asked for.

    With a pipelined kernel, loading costs Python nothing: the kernel digests and requires
    the provider (~0.2 s for aws) while Python goes on importing cdktf's bindings, instead
    of when the stack first touches a provider class. Only for a light package.
    """
    if not is_light_package(sys.modules.get(package)):
        return

    def load(_: object) -> None:
        importlib.import_module(f"{package}._jsii")

    after_import(CDKTF_ASSEMBLY_MODULE, load)
