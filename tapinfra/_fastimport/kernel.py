"""How the jsii kernel (node) is started and talked to.

Stock jsii (``jsii._kernel.providers.process._NodeProcess``) runs ``node jsii-runtime.js``,
a wrapper that starts a second node process, the kernel (``lib/program.js``), and relays
every request and response between Python's pipes and the kernel's fd 3; Python then waits
for the kernel's hello and for every assembly load before it goes on. Here, with
:func:`install`:

* direct: Python starts the kernel itself, with fd 3 one end of a socket pair and the
  kernel's own stdout and stderr forwarded to Python's (what the wrapper did). One node
  process instead of two: ~40 MB and a start-up less, and each of the ~800 round trips of
  a synth crosses one process boundary instead of two. The kernel gets the wrapper's
  flags (jsii's ``--max-old-space-size``, ``--preserve-symlinks``) and the preloads on its
  command line, so no other process inherits them.
* pipelined: the hello and assembly loads (whose answers jsii ignores) are not waited
  for; their answers are read, and any error raised, before the next request that needs
  one. Node starts and loads the assemblies while Python imports the bindings.
* preloads (``lazy_index.js``, ``lazy_requires.js``, ``lazy_stack_traces.js``,
  ``compile_cache.js``) and V8 flags
  (:data:`NO_OPT_FLAGS`) for a kernel that lives a few seconds.
* started early (:func:`start_early`, on request): the kernel boots while Python is still
  loading the config and importing jsii, and jsii adopts it.

Only ``start`` and ``send`` of ``_NodeProcess`` are replaced, and only once the jsii module
is imported. Without ``/bin/sh``, with ``JSII_RUNTIME`` set, or when jsii's process module
is not the one this was written for, the kernel starts the stock way, with the preloads
in ``NODE_OPTIONS`` for ``start`` only.
"""

from __future__ import annotations

import atexit
import collections
import functools
import importlib.util
import json
import os
import platform
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass

from tapinfra._fastimport.errors import FastImportUnavailable, warn
from tapinfra._fastimport.hooks import after_import

#: The jsii module that spawns the kernel.
PROCESS_MODULE = "jsii._kernel.providers.process"

HERE = os.path.dirname(os.path.abspath(__file__))
LAZY_INDEX = os.path.join(HERE, "lazy_index.js")
LAZY_REQUIRES = os.path.join(HERE, "lazy_requires.js")
LAZY_STACK_TRACES = os.path.join(HERE, "lazy_stack_traces.js")
COMPILE_CACHE = os.path.join(HERE, "compile_cache.js")
#: Where compile_cache.js keeps V8's code (the kernel gets it in this variable).
COMPILE_CACHE_ENV = "TAPINFRA_NODE_COMPILE_CACHE"

# The wrapper's kernel command line: jsii's heap limit, then what the wrapper adds.
STOCK_FLAGS = ("--max-old-space-size=4069",)
WRAPPER_FLAGS = ("--preserve-symlinks",)
# V8 without its optimizing compiler (TurboFan): a synth is too short for optimized code
# to pay back compiling it on the second core, which Python needs (~0.2 s of kernel CPU).
# Bytecode and baseline code run the same JavaScript: the output does not change.
NO_OPT_FLAGS = ("--no-opt",)
# sh puts the socket (our stdin) at fd 3, where program.js talks, and gives node /dev/null.
_EXEC_ON_FD3 = 'exec "$0" "$@" 3<&0 0</dev/null'
_SHELL = "/bin/sh"

_PATCHED = "__tapinfra_fast_import__"
_PENDING = "_tapinfra_pending"  # on a _NodeProcess: answers not read yet (None: stock send)
_HELLO = object()


def default_compile_cache_dir() -> str:
    """``$XDG_CACHE_HOME/tapinfra/node-compile-cache`` (``~/.cache/...``), next to jsii's own."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tapinfra", "node-compile-cache")


@dataclass(frozen=True)
class KernelPlan:
    """What :func:`install` arranges for the kernel."""

    direct: bool = True
    pipelined: bool = True
    preloads: tuple[str, ...] = (LAZY_INDEX, LAZY_REQUIRES, LAZY_STACK_TRACES, COMPILE_CACHE)
    compile_cache_dir: str | None = None
    node_flags: tuple[str, ...] = NO_OPT_FLAGS

    def kernel_env(self) -> dict[str, str]:
        """Variables the kernel gets on top of Python's environment."""
        return {COMPILE_CACHE_ENV: self.compile_cache_dir} if self.compile_cache_dir else {}


def kernel_started() -> bool:
    """Has an assembly been loaded, i.e. is the jsii kernel process already running?"""
    return any(name.endswith("._jsii") for name in list(sys.modules))


def _node_option_path(path: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", path):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def preload_node_options(preloads: tuple[str, ...]) -> str:
    return " ".join(f"--require {_node_option_path(path)}" for path in preloads)


# ---- the process: started by Python, without the wrapper ------------------------------


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


def _start_direct(self, plan: KernelPlan, node: str) -> None:
    """``_NodeProcess.start`` without the wrapper (see the module docstring)."""
    environ = _kernel_environ(plan)
    early = _take_early(environ)
    if early is not None:
        _adopt(self, early)
        return
    _adopt(self, _spawn(plan, node, _program_path(self._jsii_runtime()), environ))


# ---- a kernel started before jsii is imported --------------------------------------------

_EARLY: _Spawned | None = None


def _embedded_runtime() -> dict[str, str]:
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
    if os.path.join("lib", "program.js") not in files.values():
        raise FastImportUnavailable(f"no lib__program.js in {directory}")
    return files


def start_early(plan: KernelPlan) -> bool:
    """Start the kernel now, before jsii is imported; jsii adopts it when it would start one.

    Node boots and loads program.js while Python goes on (loading the config, importing
    jsii and cdktf): ~0.15 s off a synth. jsii adopts the process only if the environment
    it would give a new one is the one this one got; otherwise (someone changed
    ``os.environ`` in between) this one is stopped and a new one started. Never adopted, it
    is stopped at exit. True if started.
    """
    global _EARLY
    node = _direct_node(plan)
    if _EARLY is not None or node is None or kernel_started():
        return _EARLY is not None
    files = _embedded_runtime()
    runtime_dir = tempfile.mkdtemp(prefix="tapinfra-jsii-runtime-")
    try:
        for source, relative in files.items():
            target = os.path.join(runtime_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
        spawned = _spawn(plan, node, os.path.join(runtime_dir, "lib", "program.js"), _kernel_environ(plan))
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


def _direct_node(plan: KernelPlan) -> str | None:
    """The node to start directly, or None when the kernel must start the stock way."""
    if not plan.direct or os.name != "posix" or not os.path.isfile(_SHELL):
        return None
    if os.environ.get("JSII_RUNTIME"):  # someone chose their own runtime: keep it
        return None
    return shutil.which(os.environ.get("JSII_NODE", "node"))


# ---- the conversation: answers that are not needed yet are read later -------------------


class _Wire:
    """The pieces of jsii's process module the pipelined ``send`` uses."""

    def __init__(self, module: object) -> None:
        from jsii._kernel.types import LoadRequest, LoadResponse

        self.LoadRequest = LoadRequest
        self.LoadResponse = LoadResponse
        self.jdefault = module.jdefault  # type: ignore[attr-defined]
        self.okay = module._OkayResponse  # type: ignore[attr-defined]
        self.error = module._ErrorResponse  # type: ignore[attr-defined]
        self.response = module._ProcessResponse  # type: ignore[attr-defined]
        self.stack_traces_enabled = module._stack_traces_enabled  # type: ignore[attr-defined]
        self.capture_stack_trace = module.capture_stack_trace  # type: ignore[attr-defined]
        from jsii.errors import ErrorType, JavaScriptError, JSIIError

        self.fault = ErrorType.JSII_FAULT.value
        self.JSIIError = JSIIError
        self.JavaScriptError = JavaScriptError


def _write(self, wire: _Wire, request: object) -> None:
    """The first half of jsii's ``send``: the request, framed by a newline."""
    req_dict = self._serializer.unstructure(request)
    if wire.stack_traces_enabled():
        stack_trace = wire.capture_stack_trace()
        if stack_trace:
            req_dict["$jsii.stacktrace"] = stack_trace
    data = json.dumps(req_dict, default=wire.jdefault).encode("utf8")
    self._process.stdin.write(b"%b\n" % (data,))
    self._process.stdin.flush()


def _drain(self, wire: _Wire, pending: collections.deque) -> None:
    """Read the answers still owed, in order; raise the first error as jsii would."""
    while pending:
        request = pending.popleft()
        if request is _HELLO:
            self.handshake()
            continue
        response = self._serializer.structure(self._next_message(), wire.response)
        if isinstance(response, wire.okay):
            continue
        pending.clear()
        what = f"loading {request.name}@{request.version}"
        if isinstance(response, wire.error):
            error = wire.JSIIError if response.name == wire.fault else RuntimeError
            raise error(f"{what}: {response.error}") from wire.JavaScriptError(response.stack)
        raise wire.JSIIError(f"{what}: unexpected answer {response!r}")


def _patch(module: object, plan: KernelPlan) -> bool:
    node_process = getattr(module, "_NodeProcess", None)
    start = getattr(node_process, "start", None)
    send = getattr(node_process, "send", None)
    if not callable(start) or not callable(send):
        warn(f"{PROCESS_MODULE}._NodeProcess is not the expected one; the kernel starts the stock way")
        return False
    if getattr(start, _PATCHED, False):
        return True
    wire = None
    if plan.pipelined:
        try:
            wire = _Wire(module)
        except (AttributeError, ImportError) as exc:
            warn(f"jsii's process module lacks {exc}; every kernel answer is awaited")

    @functools.wraps(start)
    def fast_start(self, *args, **kwargs):
        node = _direct_node(plan)
        if node is None or args or kwargs:
            result = _stock_start(start, self, plan, *args, **kwargs)  # waits for the hello
            if wire is not None:
                setattr(self, _PENDING, collections.deque())
            return result
        _start_direct(self, plan, node)
        if wire is None:
            self.handshake()
        else:
            setattr(self, _PENDING, collections.deque([_HELLO]))

    @functools.wraps(send)
    def pipelined_send(self, request, response_type):
        pending = self.__dict__.get(_PENDING)
        if pending is None or wire is None:
            return send(self, request, response_type)
        if isinstance(request, wire.LoadRequest):  # jsii's Kernel.load ignores the answer
            _write(self, wire, request)
            pending.append(request)
            return wire.LoadResponse(assembly=request.name, types=0)
        _drain(self, wire, pending)
        return send(self, request, response_type)

    setattr(fast_start, _PATCHED, True)
    node_process.start = fast_start
    node_process.send = pipelined_send
    return True


def _stock_start(start, self, plan: KernelPlan, *args, **kwargs):
    """jsii's own start, with the preloads in ``NODE_OPTIONS`` (and the kernel's variables)
    in the environment only while it spawns the wrapper. (V8 flags need the direct start.)"""
    option = preload_node_options(plan.preloads)
    previous_options = os.environ.get("NODE_OPTIONS")
    added = {"NODE_OPTIONS": f"{previous_options} {option}" if previous_options else option, **plan.kernel_env()}
    previous = {name: os.environ.get(name) for name in added}
    os.environ.update(added)
    try:
        return start(self, *args, **kwargs)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def install(plan: KernelPlan = KernelPlan()) -> bool:
    """Arrange for the kernel to start as ``plan`` says; True if arranged.

    Nothing starts here: the kernel still starts when the first assembly loads (``import
    cdktf``). If it is already running, nothing can be done: warn (same output, slower).
    """
    if kernel_started():
        warn(
            "the jsii kernel started before tapinfra.enable_fast_import(); "
            "it runs the stock way (slower, same output)"
        )
        return False
    missing = [path for path in plan.preloads if not os.path.isfile(path)]
    if missing:
        warn(f"node preload {missing[0]} is missing; the kernel starts the stock way")
        return False
    if PROCESS_MODULE in sys.modules:
        return _patch(sys.modules[PROCESS_MODULE], plan)
    after_import(PROCESS_MODULE, lambda module: _patch(module, plan))
    return True
