"""A quick exit: the interpreter does not garbage-collect the bindings on its way out.

After a synth the process holds the generated bindings: thousands of classes and
functions, their ``typing`` objects, jsii's object map. At exit CPython clears every
module and runs full garbage collections over all of it, ~0.3 s of a ~2 s synth, only to
free memory the operating system takes back anyway. :func:`install` registers an
``atexit`` handler that, once every handler registered after it (jsii's kernel shutdown,
the application's own) has run, moves all objects to the permanent generation
(``gc.freeze()``): the exit collections then skip them. Objects are still released by
reference counting; what is no longer collected is cyclic garbage left at exit, whose
``__del__`` Python does not promise to call anyway ("It is not guaranteed that __del__()
methods are called for objects that still exist when the interpreter exits"). Standard
streams are flushed by the interpreter as always.
"""

from __future__ import annotations

import atexit
import gc

_INSTALLED = False


def _freeze() -> None:
    gc.freeze()


def install() -> None:
    """Register the handler (once). Call it early: ``atexit`` runs the last registered first."""
    global _INSTALLED
    if not _INSTALLED:
        atexit.register(_freeze)
        _INSTALLED = True
