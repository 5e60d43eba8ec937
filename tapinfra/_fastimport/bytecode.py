"""The binding modules compiled without import-time annotations, cached per source file.

The generated bindings annotate every property, parameter and setter
(``typing.Optional[typing.Union[builtins.bool, _cdktf_9a9027ec.IResolvable]]``), and CPython
evaluates those annotations when the module runs: thousands of ``typing`` subscriptions
and forward references per provider submodule, ~40 % of the cost of importing one. Nothing
reads them at runtime (jsii does not; the argument checks that would are skipped, see
``typechecks``). Compiled with ``from __future__ import annotations`` (PEP 563) they stay
strings and cost nothing; everything else is the same code.

The code is cached in a directory of ours (``~/.cache/tapinfra/bytecode/<cpython tag>``),
one entry per source file, keyed by its path, size and modification time and by the
compiler flags, written atomically. Without a usable cache directory the stock bytecode
is used: compiling a ~1 MB module on every run would cost more than it saves.
"""

from __future__ import annotations

import __future__
import hashlib
import importlib.util
import marshal
import os
import sys
from types import CodeType

#: The packages whose modules are compiled this way (jsii bindings tapinfra uses).
PACKAGES = ("constructs", "cdktf", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_archive")

FLAGS = __future__.annotations.compiler_flag


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tapinfra", "bytecode", sys.implementation.cache_tag or "python")


class CodeCache:
    """Code objects of binding modules, compiled with :data:`FLAGS`, kept in ``directory``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._usable: bool | None = None
        self.hits = self.misses = 0

    def usable(self) -> bool:
        if self._usable is None:
            try:
                os.makedirs(self.directory, exist_ok=True)
                self._usable = os.access(self.directory, os.R_OK | os.W_OK | os.X_OK)
            except OSError:
                self._usable = False
        return self._usable

    def _entry(self, path: str, stat: os.stat_result) -> str:
        key = f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{FLAGS}\0{sys.flags.optimize}"
        digest = hashlib.sha1(importlib.util.MAGIC_NUMBER + key.encode("utf-8", "surrogatepass")).hexdigest()
        return os.path.join(self.directory, f"{digest}.code")

    def code(self, loader: object, fullname: str) -> CodeType | None:
        """The module's code compiled our way, or None for the stock way."""
        get_filename = getattr(loader, "get_filename", None)
        if get_filename is None or not self.usable():
            return None
        path = get_filename(fullname)
        if not path.endswith(".py"):
            return None
        stat = os.stat(path)
        entry = self._entry(path, stat)
        try:
            with open(entry, "rb") as f:
                code = marshal.loads(f.read())
            self.hits += 1
            return code
        except (OSError, EOFError, ValueError, TypeError):
            pass
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec", flags=FLAGS, dont_inherit=True, optimize=sys.flags.optimize)
        self.misses += 1
        temporary = f"{entry}.{os.getpid()}.tmp"
        try:
            with open(temporary, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(temporary, entry)  # atomic: processes side by side never read half an entry
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        return code


def install(directory: str | None = None) -> tuple[str, ...] | None:
    """Compile every binding module imported from now on our way; return the packages.

    None when there is no usable cache directory; a package already imported keeps its code.
    """
    from tapinfra._fastimport.hooks import code_for_each_import

    cache = CodeCache(directory or default_cache_dir())
    if not cache.usable():
        return None
    hooked = tuple(p for p in PACKAGES if p not in sys.modules)
    for package in hooked:
        code_for_each_import(package, cache.code)
    return hooked
