"""The binding modules compiled without import-time annotations, cached per source file.

The generated bindings annotate every property, parameter and setter
(``typing.Optional[typing.Union[builtins.bool, _cdktf_9a9027ec.IResolvable]]``), and CPython
evaluates those annotations when the module runs: thousands of ``typing`` subscriptions
and forward references per provider submodule, ~40 % of the cost of importing one. Nothing
reads them at runtime (jsii does not; the argument checks that would are skipped, see
``typechecks``). Compiled with ``from __future__ import annotations`` (PEP 563) they stay
strings and cost nothing; everything else is the same code.

The same goes for the casts in every getter and method, ``typing.cast(typing.Optional[
typing.List[builtins.str]], result)``: ``typing.cast`` returns its second argument
unchanged, but the first is built on every call. The bindings are compiled with such
calls replaced by their second argument (only the exact form ``typing.cast(<type>,
<value>)`` on the module's own ``typing``, which the generated code never rebinds).

The code is cached in a directory of ours (``~/.cache/tapinfra/bytecode/<cpython tag>``),
one entry per source file, keyed by its path, size and modification time and by the
compiler flags, written atomically. Without a usable cache directory the stock bytecode
is used: compiling a ~1 MB module on every run would cost more than it saves.
"""

from __future__ import annotations

import __future__
import ast
import hashlib
import importlib.util
import marshal
import os
import sys
from types import CodeType

#: The packages whose modules are compiled this way (jsii bindings tapinfra uses).
PACKAGES = ("constructs", "cdktf", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_archive")

FLAGS = __future__.annotations.compiler_flag
#: Changes whenever what is done to the source changes: part of every cache key.
TRANSFORM = "annotations+casts/1"


class _DropCasts(ast.NodeTransformer):
    """``typing.cast(T, value)`` -> ``value`` (``typing.cast`` returns ``value`` as it is)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "cast"
            and isinstance(func.value, ast.Name)
            and func.value.id == "typing"
            and len(node.args) == 2
            and not node.keywords
            and not any(isinstance(arg, ast.Starred) for arg in node.args)
        ):
            return node.args[1]
        return node


def compile_binding(source: bytes, path: str) -> CodeType:
    """The module's code: annotations not evaluated, casts dropped."""
    tree = ast.parse(source, path, type_comments=False)
    if not _rebinds_typing(tree):
        tree = ast.fix_missing_locations(_DropCasts().visit(tree))
    return compile(tree, path, "exec", flags=FLAGS, dont_inherit=True, optimize=sys.flags.optimize)


def _rebinds_typing(tree: ast.Module) -> bool:
    """Does the module bind ``typing`` to anything but ``import typing``?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "typing" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == "typing" and not (isinstance(node, ast.Import) and alias.name == "typing" and not alias.asname):
                    return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "typing":
            return True
        if isinstance(node, ast.arg) and node.arg == "typing":
            return True
    return False


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
        key = f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{FLAGS}\0{sys.flags.optimize}\0{TRANSFORM}"
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
        code = compile_binding(source, path)
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
