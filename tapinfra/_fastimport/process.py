"""The kernel process, started by Python itself: no jsii wrapper, fd 3 a socket pair.

The wrapper jsii starts (``bin/jsii-runtime.js``) runs the kernel (``lib/program.js``) as
a second node process, relays requests and answers between Python's pipes and the
kernel's fd 3, and forwards the kernel's stdout and stderr. Here Python runs the kernel
directly, with one end of a socket pair at fd 3 (``/bin/sh`` puts it there) and the
kernel's output forwarded by a thread: one node process instead of two, one process
boundary per round trip instead of two.

A kernel can also be started before jsii is imported (:func:`start_early`) and adopted
when jsii would start one.
"""

from __future__ import annotations

import atexit
import os
import platform
import selectors
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass

from tapinfra._fastimport import kernel_source
from tapinfra._fastimport.errors import FastImportUnavailable
from tapinfra._fastimport.plan import STOCK_FLAGS, WRAPPER_FLAGS, KernelPlan, kernel_started

# sh puts the socket (our stdin) at fd 3, where program.js talks, and gives node /dev/null.
_EXEC_ON_FD3 = 'exec "$0" "$@" 3<&0 0</dev/null'
_SHELL = "/bin/sh"


def _program_path(runtime: str) -> str:
    """lib/program.js next to the bin/jsii-runtime.js jsii extracted."""
    return os.path.join(os.path.dirname(os.path.dirname(runtime)), "lib", "program.js")


def _write_to(stream: object, data: bytes) -> None:
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
        else:
            stream.write(data.decode("utf-8", errors="replace"))  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        pass  # Python's own stream is gone (interpreter shutdown): nothing to forward to


def _forward_output(stdout: object, stderr: object) -> None:
    """The kernel's stdout and stderr, as they come, to Python's (the wrapper's job)."""
    targets = {stdout: lambda: sys.stdout, stderr: lambda: sys.stderr}
    with selectors.DefaultSelector() as selector:
        for stream in targets:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 65536)
                if chunk:
                    _write_to(targets[key.fileobj](), chunk)
                else:
                    selector.unregister(key.fileobj)
    stdout.close()  # type: ignore[attr-defined]  # stderr: jsii's stop() closes it


@dataclass
class _Spawned:
    """A kernel process Python talks to through a socket (what jsii's ``_NodeProcess`` keeps)."""

    process: subprocess.Popen
    sink_thread: threading.Thread
    environ: dict[str, str]
    runtime_dir: str | None = None  # ours to remove (a kernel started early)


def _kernel_environ(plan: KernelPlan) -> dict[str, str]:
    environ = os.environ.copy()
    environ.update(plan.kernel_env())
    environ["JSII_AGENT"] = f"Python/{platform.python_version()}"
    return environ


def _spawn(plan: KernelPlan, node: str, program: str, environ: dict[str, str]) -> _Spawned:
    preloads = [arg for path in plan.preloads for arg in ("--require", path)]
    command = [_SHELL, "-c", _EXEC_ON_FD3, node, *STOCK_FLAGS, *plan.node_flags, *preloads, *WRAPPER_FLAGS, program]
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(command, stdin=theirs, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    kernel_stdout, kernel_stderr = process.stdout, process.stderr
    # What jsii's send() and stop() use: requests and answers go through the socket.
    process.stdin = ours.makefile("wb")
    process.stdout = ours.makefile("rb")
    ours.close()  # the two files keep it open
    sink = threading.Thread(
        name="process.stderr_sink", target=_forward_output, args=(kernel_stdout, kernel_stderr), daemon=True
    )
    sink.start()
    return _Spawned(process, sink, environ)


def _adopt(self, spawned: _Spawned) -> None:
    """Make ``spawned`` the process of jsii's ``_NodeProcess`` ``self``."""
    self._process = spawned.process
    self.sink_thread = spawned.sink_thread
    if spawned.runtime_dir is not None:
        self._ctx_stack.callback(shutil.rmtree, spawned.runtime_dir, True)  # jsii's stop() runs it
    atexit.register(self.stop)


def start_direct(self, plan: KernelPlan, node: str) -> None:
    """``_NodeProcess.start`` without the wrapper (see the module docstring)."""
    environ = _kernel_environ(plan)
    early = _take_early(environ)
    if early is not None:
        _adopt(self, early)
        return
    if not plan.source_patches:
        _adopt(self, _spawn(plan, node, _program_path(self._jsii_runtime()), environ))
        return
    runtime_dir, _ = kernel_source.copy_runtime(plan.source_patches)
    try:
        spawned = _spawn(plan, node, os.path.join(runtime_dir, kernel_source.PROGRAM), environ)
    except BaseException:
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    spawned.runtime_dir = runtime_dir
    _adopt(self, spawned)


# ---- a kernel started before jsii is imported --------------------------------------------

_EARLY: _Spawned | None = None


def start_early(plan: KernelPlan) -> bool:
    """Start the kernel now, before jsii is imported; jsii adopts it when it would start one.

    Node boots and loads program.js while Python goes on (loading the config, importing
    jsii and cdktf): ~0.15 s off a synth. jsii adopts the process only if the environment
    it would give a new one is the one this one got; otherwise (someone changed
    ``os.environ`` in between) this one is stopped and a new one started. Never adopted, it
    is stopped at exit. True if started.
    """
    global _EARLY
    node = direct_node(plan)
    if _EARLY is not None or node is None or kernel_started():
        return _EARLY is not None
    runtime_dir, _ = kernel_source.copy_runtime(plan.source_patches)
    try:
        spawned = _spawn(plan, node, os.path.join(runtime_dir, kernel_source.PROGRAM), _kernel_environ(plan))
    except BaseException:
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    spawned.runtime_dir = runtime_dir
    _EARLY = spawned
    atexit.register(_stop_early)
    return True


def early_kernel_pid() -> int | None:
    """The pid of the kernel started early and not adopted yet (for tests and diagnostics)."""
    return _EARLY.process.pid if _EARLY is not None else None


def _take_early(environ: dict[str, str]) -> _Spawned | None:
    """The early kernel, if jsii can have it as its own (see :func:`start_early`)."""
    global _EARLY
    spawned, _EARLY = _EARLY, None
    if spawned is None:
        return None
    atexit.unregister(_stop_early)
    import jsii._embedded.jsii as embedded

    expected = {os.path.join(*path.split("/")) for path in embedded.EMBEDDED_FILES.values()}
    files = {os.path.relpath(os.path.join(d, f), spawned.runtime_dir)
             for d, _, names in os.walk(spawned.runtime_dir) for f in names}
    if spawned.environ == environ and spawned.process.poll() is None and files == expected:
        return spawned
    _stop(spawned)
    return None


def _stop(spawned: _Spawned) -> None:
    process = spawned.process
    try:
        if not process.stdin.closed:
            process.stdin.write(b'{"exit":0}\n')
            process.stdin.close()
        process.wait(timeout=5)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()
    spawned.sink_thread.join(timeout=5)
    process.stdout.close()
    process.stderr.close()
    if spawned.runtime_dir is not None:
        shutil.rmtree(spawned.runtime_dir, ignore_errors=True)


def _stop_early() -> None:
    global _EARLY
    spawned, _EARLY = _EARLY, None
    if spawned is not None:
        _stop(spawned)


def direct_node(plan: KernelPlan) -> str | None:
    """The node to start directly, or None when the kernel must start the stock way."""
    if not plan.direct or os.name != "posix" or not os.path.isfile(_SHELL):
        return None
    if os.environ.get("JSII_RUNTIME"):  # someone chose their own runtime: keep it
        return None
    return shutil.which(os.environ.get("JSII_NODE", "node"))
