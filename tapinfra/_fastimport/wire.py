"""The pipelined conversation: answers Python does not need yet are read later.

jsii waits for the kernel's hello when it starts it, and for the answer to every assembly
load, which it then ignores. Here those requests are written and their answers left in
the socket; they are read, in order, and any error raised, before the next request whose
answer is needed. So node boots and loads assemblies while Python imports the bindings,
and constructs objects while Python prepares the next one (``creates.py``).
"""

from __future__ import annotations

import collections
import json

from tapinfra._fastimport import creates

HELLO = object()  # the kernel's first line, owed since it started


class Wire:
    """The pieces of jsii's process module the pipelined ``send`` uses."""

    def __init__(self, module: object) -> None:
        from jsii._kernel.types import CreateRequest, CreateResponse, LoadRequest, LoadResponse, ObjRef

        self.LoadRequest = LoadRequest
        self.LoadResponse = LoadResponse
        self.CreateRequest = CreateRequest
        self.CreateResponse = CreateResponse
        self.ObjRef = ObjRef
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


def write(self, wire: Wire, request: object) -> None:
    """The first half of jsii's ``send``: the request, framed by a newline."""
    req_dict = self._serializer.unstructure(request)
    if wire.stack_traces_enabled():
        stack_trace = wire.capture_stack_trace()
        if stack_trace:
            req_dict["$jsii.stacktrace"] = stack_trace
    data = json.dumps(req_dict, default=wire.jdefault).encode("utf8")
    self._process.stdin.write(b"%b\n" % (data,))
    self._process.stdin.flush()


def drain(self, wire: Wire, pending: collections.deque, predictions: creates.Predictions | None = None) -> None:
    """Read the answers still owed, in order; raise the first error as jsii would."""
    while pending:
        request = pending.popleft()
        if request is HELLO:
            self.handshake()
            continue
        if isinstance(request, creates.PredictedCreate):
            message = self._next_message()
            if not creates.matches(request, message):
                pending.clear()
                if predictions is not None:
                    predictions.broken = True
                _raise_for_create(self, wire, request, message)
            continue
        response = self._serializer.structure(self._next_message(), wire.response)
        if isinstance(response, wire.okay):
            continue
        pending.clear()
        what = f"loading {request.name}@{request.version}"
        if isinstance(response, wire.error):
            _raise_kernel_error(wire, what, response)
        raise wire.JSIIError(f"{what}: unexpected answer {response!r}")


def _raise_kernel_error(wire: Wire, what: str, response: object) -> None:
    """The kernel's error answer, raised as jsii raises it, saying what it was answering."""
    error = wire.JSIIError if response.name == wire.fault else RuntimeError
    raise error(f"{what}: {response.error}") from wire.JavaScriptError(response.stack)


def _raise_for_create(self, wire: Wire, request: creates.PredictedCreate, message: object) -> None:
    """The kernel's answer to a create answered in advance was not the one given: raise it."""
    what = f"creating {request.what}"
    if isinstance(message, dict) and "error" in message:
        _raise_kernel_error(wire, what, self._serializer.structure(message, wire.response))
    seen = "a callback into Python" if isinstance(message, dict) and "callback" in message else repr(message)
    raise wire.JSIIError(
        f"{what}: the kernel answered {seen}, not {request.ref} as the fast path predicted "
        "(TAP_FAST_IMPORT_OFF=predicted_creates waits for every create)")
