"""What the kernel is started with: the plan, its preloads, flags and cache directory."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

#: The jsii module that spawns the kernel.
PROCESS_MODULE = "jsii._kernel.providers.process"

HERE = os.path.dirname(os.path.abspath(__file__))
LAZY_INDEX = os.path.join(HERE, "lazy_index.js")
LAZY_REQUIRES = os.path.join(HERE, "lazy_requires.js")
LAZY_STACK_TRACES = os.path.join(HERE, "lazy_stack_traces.js")
COMPILE_CACHE = os.path.join(HERE, "compile_cache.js")
TARBALL_DIGESTS = os.path.join(HERE, "tarball_digests.js")
#: Where compile_cache.js keeps V8's code (the kernel gets it in this variable).
COMPILE_CACHE_ENV = "TAPINFRA_NODE_COMPILE_CACHE"
#: The file tarball_digests.js keeps assembly tarball digests in.
TARBALL_DIGESTS_ENV = "TAPINFRA_TARBALL_DIGESTS"

# The wrapper's kernel command line: jsii's heap limit, then what the wrapper adds.
STOCK_FLAGS = ("--max-old-space-size=4069",)
WRAPPER_FLAGS = ("--preserve-symlinks",)
# V8 without its optimizing compiler (TurboFan): a synth is too short for optimized code
# to pay back compiling it on the second core, which Python needs (~0.2 s of kernel CPU).
# Bytecode and baseline code run the same JavaScript: the output does not change.
NO_OPT_FLAGS = ("--no-opt",)


def _cache_base() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tapinfra")


def default_compile_cache_dir() -> str:
    """``$XDG_CACHE_HOME/tapinfra/node-compile-cache`` (``~/.cache/...``), next to jsii's own."""
    return os.path.join(_cache_base(), "node-compile-cache")


def default_tarball_digests_file() -> str:
    """``$XDG_CACHE_HOME/tapinfra/tarball-digests.json``: what tarball_digests.js remembers."""
    return os.path.join(_cache_base(), "tarball-digests.json")


@dataclass(frozen=True)
class KernelPlan:
    """What :func:`install` arranges for the kernel."""

    direct: bool = True
    pipelined: bool = True
    #: creates answered in advance (creates.py); needs ``pipelined``
    predict_creates: bool = True
    preloads: tuple[str, ...] = (LAZY_INDEX, LAZY_REQUIRES, LAZY_STACK_TRACES, COMPILE_CACHE)
    compile_cache_dir: str | None = None
    node_flags: tuple[str, ...] = NO_OPT_FLAGS
    #: kernel_source.PATCHES to apply to the kernel's program.js (a kernel Python starts itself)
    source_patches: tuple[str, ...] = ()
    tarball_digests_file: str | None = None

    def kernel_env(self) -> dict[str, str]:
        """Variables the kernel gets on top of Python's environment."""
        env = {COMPILE_CACHE_ENV: self.compile_cache_dir} if self.compile_cache_dir else {}
        if self.tarball_digests_file:
            env[TARBALL_DIGESTS_ENV] = self.tarball_digests_file
        return env


def kernel_started() -> bool:
    """Has an assembly been loaded, i.e. is the jsii kernel process already running?"""
    return any(name.endswith("._jsii") for name in list(sys.modules))


def _node_option_path(path: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", path):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def preload_node_options(preloads: tuple[str, ...]) -> str:
    return " ".join(f"--require {_node_option_path(path)}" for path in preloads)
