"""The fast path to a synthesized stack: the same bytes as stock cdktf, a fraction of the time.

Enabled by ``tapinfra.enable_fast_import()`` (``tapinfra/provider.py``); importing this
package changes nothing. The parts, each in its own module, each checking what it changes
and stepping aside with a warning on stderr when that is not what it was written for:

* ``light``: the provider packages load only the submodules that are used, and their
  assemblies load early, while Python is still importing;
* ``typechecks``: the generated bindings skip their Python-side argument checks (the
  kernel checks the same types again);
* ``bytecode``: the bindings are compiled without evaluating their annotations, and the
  code is cached;
* ``kernel``: the jsii kernel starts without jsii's wrapper process, with V8 flags and
  preloads for a short life, and answers Python does not need yet (the hello, assembly
  loads) are read later; ``creates``: an object creation is answered with the reference
  the kernel will give (its answer is read and checked before the next request Python
  waits for), so Python builds the next construct while node builds this one;
* ``kernel_source``: the kernel runs a copy of jsii's program.js with exact source patches
  (an assertion message formatted only on failure; tarball digests asked of a preload);
* ``lazy_index.js``, ``lazy_requires.js``, ``lazy_stack_traces.js``, ``compile_cache.js``,
  ``tarball_digests.js``: the kernel's preloads (the providers' JS index and two cdktf
  dependencies load on first use; token creation stacks are formatted when read; a V8 code
  cache; assembly tarball digests remembered per file identity);
* ``shutdown``: the interpreter skips its exit-time garbage collection.

``hooks`` runs each part when the module it changes is imported, so enabling imports
neither jsii nor cdktf and starts nothing.
"""

from __future__ import annotations

from tapinfra._fastimport.errors import FastImportUnavailable, warn
from tapinfra._fastimport.kernel import LAZY_INDEX as PRELOAD_PATH
from tapinfra._fastimport.kernel import KernelPlan, kernel_started
from tapinfra._fastimport.light import (
    LightPackage,
    _check_root_init,
    install_light_package,
    is_light_package,
    load_assembly_early,
    namespace_of,
)

__all__ = [
    "FastImportUnavailable",
    "KernelPlan",
    "LightPackage",
    "PRELOAD_PATH",
    "_check_root_init",
    "install_light_package",
    "is_light_package",
    "kernel_started",
    "load_assembly_early",
    "namespace_of",
    "warn",
]
