"""jsii's kernel program, copied for a kernel Python starts itself, with exact source patches.

jsii ships its kernel as one bundled file (``_embedded/jsii/lib__program.js``). The fast path
runs a copy of it (jsii's runtime files, in a directory of its own, removed when the kernel
stops). Each patch below replaces one piece of that bundle, matched exactly, by code that
does the same work with less of it; a piece found other than exactly once (another jsii
version) leaves the patch out and the kernel runs that piece the stock way. The test suite
checks that every patch still applies to the installed jsii, so an upgrade that drops one
fails a test instead of slowing synths quietly.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass

from tapinfra._fastimport.errors import FastImportUnavailable

PROGRAM = os.path.join("lib", "program.js")


@dataclass(frozen=True)
class SourcePatch:
    name: str  # also the fast path part that switches it off (TAP_FAST_IMPORT_OFF)
    why: str
    old: str
    new: str


PATCHES: tuple[SourcePatch, ...] = (
    SourcePatch(
        "lazy_asserts",
        "The kernel's type-information assertion formats its failure message with util.inspect "
        "before it knows whether it fails: ~50 ms of a synth's kernel time, on every argument "
        "it deserializes. Formatted only when the assertion fails (the same message).",
        old="(0,B.default)(null!=e,`Kernel error: expected type information, got ${(0,K.inspect)(e)}`)",
        new="null!=e||(0,B.default)(!1,`Kernel error: expected type information, got ${(0,K.inspect)(e)}`)",
    ),
    SourcePatch(
        "tarball_digests",
        "Each assembly load hashes its whole tarball (34 MB for the AWS provider) to find its "
        "directory in jsii's package cache: ~0.1 s of kernel time per synth. tarball_digests.js "
        "remembers the digest per file identity (device, inode, size, mtime, ctime); any "
        "change to the file hashes it again. Without that preload, the stock hash.",
        old="p.digestFile=function digestFile(e,...p){return readFileChunks(e,()=>{},...p)}",
        new=(
            "p.digestFile=function digestFile(e,...p){const c=globalThis.__tapinfraTarballDigest;"
            "return c?c(e,p,()=>readFileChunks(e,()=>{},...p)):readFileChunks(e,()=>{},...p)}"
        ),
    ),
)
BY_NAME = {patch.name: patch for patch in PATCHES}


def apply(source: str, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """``source`` with the named patches that match exactly once; and the names applied."""
    applied = []
    for name in names:
        patch = BY_NAME[name]
        if source.count(patch.old) == 1:
            source = source.replace(patch.old, patch.new)
            applied.append(name)
    return source, tuple(applied)


def embedded_runtime() -> dict[str, str]:
    """jsii's embedded runtime files, found without importing jsii: file -> relative path."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or not spec.submodule_search_locations:
        raise FastImportUnavailable("jsii is not installed")
    directory = os.path.join(list(spec.submodule_search_locations)[0], "_embedded", "jsii")
    files = {
        os.path.join(directory, name): os.path.join(*name.split("__", 1))
        for name in os.listdir(directory)
        if "__" in name.strip("_") and not name.startswith("__")
    }
    if PROGRAM not in files.values():
        raise FastImportUnavailable(f"no lib__program.js in {directory}")
    return files


def copy_runtime(patches: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """A new directory with jsii's runtime files, program.js patched; and the patches applied.

    The caller owns the directory (removes it when the kernel stops).
    """
    runtime_dir = tempfile.mkdtemp(prefix="tapinfra-jsii-runtime-")
    applied: tuple[str, ...] = ()
    try:
        for source, relative in embedded_runtime().items():
            target = os.path.join(runtime_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if relative == PROGRAM and patches:
                with open(source, encoding="utf-8") as f:
                    text, applied = apply(f.read(), patches)
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
            else:
                shutil.copyfile(source, target)
    except BaseException:
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    return runtime_dir, applied
