"""How jsii's kernel process is started and talked to: jsii's ``_NodeProcess``, changed.

Stock jsii (``jsii._kernel.providers.process._NodeProcess``) runs ``node jsii-runtime.js``,
a wrapper that starts a second node process, the kernel (``lib/program.js``), and relays
every request and answer; Python then waits for the kernel's hello and for every assembly
load before it goes on. With :func:`install`, ``start`` and ``send`` of ``_NodeProcess``
are replaced (once jsii's module is imported) so that:

* direct (``process``): Python starts the kernel itself, with the wrapper's flags, the
  preloads and V8 flags of the plan (``plan``) on its command line; started early on
  request, it boots while Python is still importing;
* pipelined (``wire``): the hello and assembly loads are not waited for;
* predicted creates (``creates``): an object creation is answered with the reference the
  kernel will give, and its answer checked later.

Without ``/bin/sh``, with ``JSII_RUNTIME`` set, or when jsii's process module is not the one
this was written for, the kernel starts the stock way, with the preloads in
``NODE_OPTIONS`` for ``start`` only.
"""

from __future__ import annotations

import collections
import functools
import os
import sys

from tapinfra._fastimport import creates, wire
from tapinfra._fastimport.errors import warn
from tapinfra._fastimport.hooks import after_import
from tapinfra._fastimport.plan import (  # noqa: F401  (re-exported: the kernel's vocabulary)
    COMPILE_CACHE,
    COMPILE_CACHE_ENV,
    LAZY_INDEX,
    LAZY_REQUIRES,
    LAZY_STACK_TRACES,
    NO_OPT_FLAGS,
    PROCESS_MODULE,
    TARBALL_DIGESTS,
    KernelPlan,
    default_compile_cache_dir,
    default_tarball_digests_file,
    kernel_started,
    preload_node_options,
)
from tapinfra._fastimport.process import direct_node, early_kernel_pid, start_direct, start_early  # noqa: F401

_PATCHED = "__tapinfra_fast_import__"
_PREDICTIONS: list[creates.Predictions] = []  # the one in use, once jsii's module is patched


def predictions() -> creates.Predictions | None:
    """What the predicted creates have learned (for tests and diagnostics); None when off."""
    return _PREDICTIONS[-1] if _PREDICTIONS else None


_PENDING = "_tapinfra_pending"  # on a _NodeProcess: answers not read yet (None: stock send)


def _patch(module: object, plan: KernelPlan) -> bool:
    node_process = getattr(module, "_NodeProcess", None)
    start = getattr(node_process, "start", None)
    send = getattr(node_process, "send", None)
    if not callable(start) or not callable(send):
        warn(f"{PROCESS_MODULE}._NodeProcess is not the expected one; the kernel starts the stock way")
        return False
    if getattr(start, _PATCHED, False):
        return True
    pieces = None
    if plan.pipelined:
        try:
            pieces = wire.Wire(module)
        except (AttributeError, ImportError) as exc:
            warn(f"jsii's process module lacks {exc}; every kernel answer is awaited")
    predictions = creates.Predictions() if pieces is not None and plan.predict_creates else None
    if predictions is not None:
        ohook = getattr(module, "ohook", None)
        if callable(ohook):
            object_ref = pieces.ObjRef

            @functools.wraps(ohook)
            def recording_ohook(d):
                value = ohook(d)
                if type(value) is object_ref:
                    predictions.saw(value.ref)
                return value

            module.ohook = recording_ohook
            _PREDICTIONS.append(predictions)
        else:
            warn(f"{PROCESS_MODULE}.ohook is not the expected one; every create is awaited")
            predictions = None

    @functools.wraps(start)
    def fast_start(self, *args, **kwargs):
        node = direct_node(plan)
        if node is None or args or kwargs:
            result = _stock_start(start, self, plan, *args, **kwargs)  # waits for the hello
            if pieces is not None:
                setattr(self, _PENDING, collections.deque())
            return result
        start_direct(self, plan, node)
        if pieces is None:
            self.handshake()
        else:
            setattr(self, _PENDING, collections.deque([wire.HELLO]))

    @functools.wraps(send)
    def pipelined_send(self, request, response_type):
        pending = self.__dict__.get(_PENDING)
        if pending is None or pieces is None:
            return send(self, request, response_type)
        if isinstance(request, pieces.LoadRequest):  # jsii's Kernel.load ignores the answer
            wire.write(self, pieces, request)
            pending.append(request)
            return pieces.LoadResponse(assembly=request.name, types=0)
        if predictions is not None and isinstance(request, pieces.CreateRequest):
            if predictions.can_answer(request):
                predicted = predictions.answer(request)
                wire.write(self, pieces, request)
                pending.append(predicted)
                return pieces.CreateResponse(ref=predicted.ref)
            wire.drain(self, pieces, pending, predictions)
            expected = predictions.next_ref(request.fqn)
            answer = send(self, request, response_type)
            predictions.learn(request, expected, answer)
            return answer
        wire.drain(self, pieces, pending, predictions)
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
